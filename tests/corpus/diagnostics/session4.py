"""Replies collected in session 4 for issue 18 (the corpus's growth batch, not a held-out round).

Labelled by what fixes it for the user, like the rounds before, and committed before the classifier
first ran on them; then measured once with the classifier as it stood (README.md, "Session 4"),
and only after that used as training data. ``build.py`` adds them with ``"session4": true``.
"""

from __future__ import annotations

BATCH: list[tuple[str, str, str, str, str | None]] = []
PHPM = "github.com/PHPMailer/PHPMailer language/phpmailer.lang-{}.php (PHPMailer's own messages)"
BATCH += [
    ("SMTP-Fehler: Authentifizierung fehlgeschlagen.", "auth.invalid_credentials", PHPM.format("de"), "de", None),
    ("SMTP-Fehler: Konnte keine Verbindung zum SMTP-Host herstellen.", "unknown", PHPM.format("de"), "de", None),
    ("SMTP-Fehler: Daten werden nicht akzeptiert.", "unknown", PHPM.format("de"), "de", None),
    ("SMTP-Fehler: Die folgenden Empfänger sind nicht korrekt: kunde@example.de", "unknown", PHPM.format("de"), "de",
     None),
    ("Verbindung zum SMTP-Server fehlgeschlagen.", "unknown", PHPM.format("de"), "de", None),
    ("Erreur SMTP : échec de l'authentification.", "auth.invalid_credentials", PHPM.format("fr"), "fr", None),
    ("Erreur SMTP : impossible de se connecter au serveur SMTP.", "unknown", PHPM.format("fr"), "fr", None),
    ("Erreur SMTP : données incorrectes.", "unknown", PHPM.format("fr"), "fr", None),
    ("Erreur SMTP : les destinataires suivants sont en erreur : client@example.fr", "unknown", PHPM.format("fr"),
     "fr", None),
    ("Échec de la connexion SMTP.", "unknown", PHPM.format("fr"), "fr", None),
    ("SMTP Error: Impossibile autenticarsi.", "auth.invalid_credentials", PHPM.format("it"), "it", None),
    ("SMTP Error: Impossibile connettersi all'host SMTP.", "unknown", PHPM.format("it"), "it", None),
    ("SMTP Error: Dati non accettati dal server.", "unknown", PHPM.format("it"), "it", None),
    ("SMTP Error: I seguenti indirizzi destinatari hanno generato un errore: cliente@example.it", "unknown",
     PHPM.format("it"), "it", None),
    ("SMTP Connect() fallita.", "unknown", PHPM.format("it"), "it", None),
    ("SMTP-fout: authenticatie mislukt.", "auth.invalid_credentials", PHPM.format("nl"), "nl", None),
    ("SMTP-fout: kon niet verbinden met SMTP-host.", "unknown", PHPM.format("nl"), "nl", None),
    ("SMTP-fout: data niet geaccepteerd.", "unknown", PHPM.format("nl"), "nl", None),
    ("SMTP-fout: de volgende ontvangers zijn mislukt: klant@example.nl", "unknown", PHPM.format("nl"), "nl", None),
    ("SMTP Verbinding mislukt.", "unknown", PHPM.format("nl"), "nl", None),
]
BYTECAMP = "bytecamp.net/de/faq/email/zustellen.html (German hosting FAQ)"
BATCH += [
    ("450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]", "send.rejected_as_spam",
     BYTECAMP, "en", None),
    ("450 4.2.0 <info@example.de>: Recipient address rejected: Greylisted", "server.temporary_failure", BYTECAMP, "en",
     None),
    ("421 4.7.0 Error: too many connections from 198.51.100.7", "server.rate_limited", BYTECAMP, "en", None),
    ("422 4.2.2 Quota limit exceeded (Speicherplatz des Kontos ueberschritten)", "send.recipient_mailbox_full",
     BYTECAMP, "de", None),
    ("571 5.7.1 message classified as spam (Nachricht als Spam eingestuft)", "send.rejected_as_spam", BYTECAMP, "de",
     None),
    ("451 qq trouble in home directory", "send.recipient_mailbox_full",
     "support.onesystems.ch: Übersicht häufig vorkommender Fehlermeldungen (qmail, German page)", "en", None),
    ("554 5.7.1 Message rejected due to policy restrictions", "send.rejected_as_spam",
     "emailacademy.fr: les erreurs de non-remise des emails (French page)", "en", None),
]
NM = "github.com/nodemailer/nodemailer/issues/{}"
BATCH += [
    ("Error: Invalid login: 535 5.7.3 Authentication unsuccessful", "auth.invalid_credentials", NM.format(920), "en",
     None),
    ("Error: Invalid login: 535 Authentication failed: Bad username / password", "auth.invalid_credentials",
     NM.format(950), "en", None),
    ("AuthError: Invalid login - 535 Incorrect authentication data", "auth.invalid_credentials", NM.format(874), "en",
     None),
    (("error: send mail error, Invalid login: 535 Login Fail. Please enter your authorization code to login. More "
      "information in http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=28&&no=1001256"),
     "auth.app_password_required", "github.com/YMFE/yapi/issues/2219 (QQ Mail)", "en", None),
    ("SMTPAuthenticationError: (535, 'Incorrect authentication data')", "auth.invalid_credentials",
     "github.com/fgeek/pyfiscan/issues/5", "en", None),
    ("aiosmtplib.errors.SMTPConnectError: Error connecting to smtp.resend.com on port 587: Unexpected EOF received",
     "unknown", "github.com/cole/aiosmtplib/issues/316", "en", None),
]
TB_L10N = "Thunderbird's own messages, github.com/mozilla-l10n/firefox-l10n {}/mail/chrome/messenger/{}.properties"
BATCH += [
    # IMAP, Dutch
    ("Mailserver imap.ziggo.nl is geen IMAP4-mailserver.", "net.wrong_service", TB_L10N.format("nl", "imapMsgs"), "nl",
     None),
    ("Verbinden met server imap.ziggo.nl is mislukt.", "net.host_not_found", TB_L10N.format("nl", "imapMsgs"), "nl",
     None),
    ("Kan niet verbinden met mailserver imap.ziggo.nl; de verbinding werd geweigerd.", "net.connection_refused",
     TB_L10N.format("nl", "imapMsgs"), "nl", None),
    ("Verbindingstijd met server imap.ziggo.nl is verlopen.", "net.timeout", TB_L10N.format("nl", "imapMsgs"), "nl",
     None),
    (("Server imap.ziggo.nl heeft de verbinding verbroken. De server is mogelijk offline gegaan of er is een "
      "netwerkprobleem."), "unknown", TB_L10N.format("nl", "imapMsgs"), "nl", None),
    (("Het is niet gelukt om te verbinden met uw IMAP-server. Mogelijk hebt u het maximale aantal verbindingen met "
      "deze server overschreden. Als dat zo is, gebruik dan het venster voor uitgebreide IMAP-serverinstellingen om "
      "het aantal gebufferde verbindingen te verlagen."), "server.rate_limited", TB_L10N.format("nl", "imapMsgs"),
     "nl", None),
    (("Alle inlogmechanismen voor imap.ziggo.nl zijn mislukt. Controleer het wachtwoord of wijzig de "
      "‘Authenticatiemethode’ in de ‘Accountinstellingen | Serverinstellingen’."), "auth.invalid_credentials",
     TB_L10N.format("nl", "imapMsgs"), "nl", None),
    (("De IMAP-server imap.ziggo.nl staat geen plattetekstwachtwoorden toe. Probeer ‘Versleuteld wachtwoord’ als de "
      "‘Authenticatiemethode’ in de ‘Accountinstellingen | Serverinstellingen’."), "tls.starttls_required",
     TB_L10N.format("nl", "imapMsgs"), "nl", None),
    # IMAP, French
    ("Le serveur de courrier imap.orange.fr n'est pas un serveur de type IMAP4.", "net.wrong_service",
     TB_L10N.format("fr", "imapMsgs"), "fr", None),
    ("Échec lors de la connexion au serveur imap.orange.fr.", "net.host_not_found", TB_L10N.format("fr", "imapMsgs"),
     "fr", None),
    ("Impossible de se connecter au serveur de courrier imap.orange.fr : la connexion a été refusée.",
     "net.connection_refused", TB_L10N.format("fr", "imapMsgs"), "fr", None),
    ("Temps limite de connexion au serveur imap.orange.fr dépassé.", "net.timeout", TB_L10N.format("fr", "imapMsgs"),
     "fr", None),
    ("Le serveur imap.orange.fr s'est déconnecté. Il s'est peut-être arrêté, ou il y a un problème sur le réseau.",
     "unknown", TB_L10N.format("fr", "imapMsgs"), "fr", None),
    (("Impossible de se connecter au serveur IMAP. Vous avez peut-être dépassé le nombre maximal de connexions au "
      "serveur. Si c'est le cas, utilisez les paramètres avancés de serveur IMAP pour diminuer le nombre de connexions "
      "conservées en mémoire cache."), "server.rate_limited", TB_L10N.format("fr", "imapMsgs"), "fr", None),
    (("Le serveur IMAP imap.orange.fr n'autorise pas les mots de passe non chiffrés. Veuillez modifier la « Méthode "
      "d'authentification » pour « Mot de passe chiffré » dans le menu « Paramètres des comptes | Paramètres "
      "serveur »."), "tls.starttls_required", TB_L10N.format("fr", "imapMsgs"), "fr", None),
    # IMAP, Italian
    ("Il server imap.libero.it non è un server IMAP4.", "net.wrong_service", TB_L10N.format("it", "imapMsgs"), "it",
     None),
    ("Connessione al server imap.libero.it non riuscita.", "net.host_not_found", TB_L10N.format("it", "imapMsgs"),
     "it", None),
    ("Non è possibile connettersi al server imap.libero.it; la connessione è stata rifiutata.",
     "net.connection_refused", TB_L10N.format("it", "imapMsgs"), "it", None),
    ("Connessione al server imap.libero.it fuori tempo massimo.", "net.timeout", TB_L10N.format("it", "imapMsgs"),
     "it", None),
    (("Il Server imap.libero.it si è disconnesso. Il server potrebbe essere non disponibile o potrebbe esserci stato "
      "un problema di rete."), "unknown", TB_L10N.format("it", "imapMsgs"), "it", None),
    (("Impossibile collegarsi al server IMAP. È possibile che si sia superato il massimo numero di collegamenti a "
      "questo server. In questo caso utilizzare la finestra di dialogo Impostazioni avanzate del Server IMAP per "
      "ridurre il numero dei collegamenti in cache."), "server.rate_limited", TB_L10N.format("it", "imapMsgs"), "it",
     None),
    (("Il server SMTP imap.libero.it non gestisce le password in testo semplice. Utilizzare 'Password cifrata' come "
      "'Metodo di autenticazione' in 'Impostazioni account | Impostazione Server'."), "tls.starttls_required",
     TB_L10N.format("it", "imapMsgs"), "it", None),
    # POP3, Dutch, German, French
    ("Verzending van wachtwoord voor gebruiker jan@ziggo.nl is niet gelukt.", "auth.invalid_credentials",
     TB_L10N.format("nl", "localMsgs"), "nl", None),
    ("Verzending van gebruikersnaam is niet gelukt.", "auth.invalid_credentials", TB_L10N.format("nl", "localMsgs"),
     "nl", None),
    (("Kon geen TLS-verbinding met de POP3-server tot stand brengen. De server is mogelijk niet actief, of niet goed "
      "geconfigureerd. Verifieer de juiste configuratie in de accountinstellingen voor uw mailserver in het venster "
      "Accountinstellingen en probeer het opnieuw."), "tls.mode_mismatch", TB_L10N.format("nl", "localMsgs"), "nl",
     None),
    (("Deze POP3-server staat geen plattetekstwachtwoorden toe. Probeer de ‘Authenticatiemethode’ in de "
      "‘Accountinstellingen | Serverinstellingen’ naar ‘Versleuteld wachtwoord’ te wijzigen."),
     "tls.starttls_required", TB_L10N.format("nl", "localMsgs"), "nl", None),
    ("Er is een fout opgetreden bij de POP3-mailserver.", "unknown", TB_L10N.format("nl", "localMsgs"), "nl", None),
    ("Fehler beim Senden des Passworts.", "auth.invalid_credentials", TB_L10N.format("de", "localMsgs"), "de", None),
    ("Fehler beim Senden des Benutzernamens.", "auth.invalid_credentials", TB_L10N.format("de", "localMsgs"), "de",
     None),
    (("Die TLS-Verbindung zum POP3-Server kann nicht hergestellt werden. Der Server ist eventuell nicht erreichbar "
      "oder falsch konfiguriert. Bitte überprüfen bzw. korrigieren Sie die Server-Einstellungen des Kontos und "
      "versuchen es dann nochmals."), "tls.mode_mismatch", TB_L10N.format("de", "localMsgs"), "de", None),
    (("Der POP3-Server erlaubt die ungesicherte Übertragung des Passworts im Klartext nicht. Ändern Sie die "
      "\"Authentifizierungsmethode\" bitte versuchsweise zu \"Verschlüsseltes Passwort\" unter \"Konten-Einstellungen "
      "| Server-Einstellungen\"."), "tls.starttls_required", TB_L10N.format("de", "localMsgs"), "de", None),
    ("Ein Fehler mit dem POP3 Mail-Server ist aufgetreten.", "unknown", TB_L10N.format("de", "localMsgs"), "de", None),
    ("Échec de l'envoi du mot de passe.", "auth.invalid_credentials", TB_L10N.format("fr", "localMsgs"), "fr", None),
    ("Échec de l'envoi du nom d'utilisateur.", "auth.invalid_credentials", TB_L10N.format("fr", "localMsgs"), "fr",
     None),
    (("Impossible d'établir une connexion TLS vers le serveur POP3. Le serveur est peut-être éteint ou mal configuré. "
      "Veuillez vérifier que la configuration est correcte dans « Paramètres serveur » de votre serveur de courrier "
      "dans la fenêtre « Paramètres des comptes » et essayer à nouveau."), "tls.mode_mismatch",
     TB_L10N.format("fr", "localMsgs"), "fr", None),
    (("Ce serveur POP3 n'autorise pas les mots de passe non chiffrés. Veuillez modifier la « Méthode "
      "d'authentification » pour « Mot de passe chiffré » dans le menu « Paramètres des comptes | Paramètres "
      "serveur »."), "tls.starttls_required", TB_L10N.format("fr", "localMsgs"), "fr", None),
    (("Une erreur s'est produite avec le serveur de courrier POP3. Contactez l'administrateur de ce serveur ou essayez "
      "à nouveau."), "unknown", TB_L10N.format("fr", "localMsgs"), "fr", None),
]
SES = "repost.aws/knowledge-center/ses-554-400-message-rejected-error (Amazon SES)"
BATCH += [
    (("554 Message rejected: Email address is not verified. The following identities failed the check in region "
      "EU-WEST-1: factuur@bakkerij.nl"), "send.sender_not_allowed", SES, "en", None),
    (("MessageRejected: Email address is not verified. The following identities failed the check in region "
      "US-EAST-1: klant@example.com"), "send.sender_not_allowed",
     "errornotes.dev: AWS SES MessageRejected in sandbox mode", "en", None),
]
SENDGRID = "sendgrid.com/blog/introducing-the-deliverability-center (replies SendGrid users see)"
BATCH += [
    ("550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized", "send.sender_not_allowed", SENDGRID, "en", None),
    ("554 Reject by behaviour spam", "send.rejected_as_spam", SENDGRID, "en", None),
    ("500 SMTP Error: Data not accepted", "unknown", SENDGRID, "en", None),
    ("421 Too many concurrent SMTP connections; please try again later.", "server.rate_limited", SENDGRID, "en",
     None),
]
SPAMBRELLA = "spambrella.com/faq/email-delivery-error-codes"
BATCH += [
    ("452 4.3.1 Insufficient system resources", "server.temporary_failure", SPAMBRELLA, "en", None),
    ("550 5.7.1 <jan@example.com>: Recipient address rejected: User email address is marked as invalid.",
     "send.recipient_unknown", SPAMBRELLA, "en", None),
    ("550 5.1.0 sender rejected", "send.rejected_as_spam", SPAMBRELLA, "en", None),
]
CLOUDMAILS = "cloudmails.eu/docs/error-codes.php (SMTP relay service)"
BATCH += [
    ("421 4.7.0 Service temporarily unavailable", "server.temporary_failure", CLOUDMAILS, "en", None),
    ("450 4.7.1 Mailbox temporarily unavailable", "server.temporary_failure", CLOUDMAILS, "en", None),
    ("451 4.4.5 Server too busy", "server.rate_limited", CLOUDMAILS, "en", None),
    ("452 4.2.2 Mailbox full", "send.recipient_mailbox_full", CLOUDMAILS, "en", None),
    ("550 5.7.1 Authentication failed", "auth.invalid_credentials", CLOUDMAILS, "en", None),
    ("550 5.1.6 Spam not accepted", "send.rejected_as_spam", CLOUDMAILS, "en", None),
    ("550 5.7.26 Service refused", "send.rejected_as_spam", CLOUDMAILS, "en", None),
    ("554 5.7.1 Message blocked", "send.rejected_as_spam", CLOUDMAILS, "en", None),
]
BATCH += [
    ("554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using dnsbl.sorbs.net",
     "send.rejected_as_spam", "help.kreativmedia.ch/fr/erreur-554-blocked (French page)", "en", None),
    (("Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try again; this message has "
      "been in the queue too long."), "send.gave_up", "gids.ovh.nl/EmailSmtpPop3Imap (OVH)", "en", None),
    (("<jan@fastmail.fm>: host /var/imap/socket/lmtpprox[/var/imap/socket/lmtpprox] said: 554 5.0.0 Unexpected "
      "internal error"), "send.recipient_unknown",
     "fastimap.com/help/troubleshooting_errors_sending_to_other_accounts.html (FastMail)", "en", None),
    ("551 5.9.9 Spam message discarded. If you feel we mistreat you, do contact us: postmaster@example.ru",
     "send.rejected_as_spam", "freeport-outlet.ru: mailing errors and how to fix them", "en", None),
]
BATCH += [
    ("550-Requested action not taken: mailbox unavailable\n550 Failure sending mail. Try again later", "unknown",
     "github.com/jstedfast/MailKit/issues/968 (GMX)", "en", None),
    ("The SMTP server does not support authentication.", "tls.starttls_required",
     "github.com/jstedfast/MailKit/issues/307", "en", None),
    ("The SMTP server has unexpectedly disconnected.", "unknown", "github.com/jstedfast/MailKit/issues/194", "en",
     None),
    ("550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)", "send.recipient_unknown",
     "github.com/MicrosoftDocs/OfficeDocs-Exchange/issues/2836", "en", None),
    ("OCA\\Mail\\Exception\\ServiceException: Could not send message: Error connecting to SMTP server.", "unknown",
     "github.com/nextcloud/mail/issues/6711", "en", None),
]
SFM = "github.com/ActiveCampaign/smtp-field-manual/pull/{}"
BATCH += [
    (("smtplib.SMTPDataError: (554, b'DT:SPM 163 smtp10,DsCowAA3D+JApVpd78gMKg--.16104S2 1566221632,please see "
      "http://mail.163.com/help/help_spam_16.htm?ip=59.42.123.65&hostid=smtp10&time=1566221632')"),
     "send.rejected_as_spam", "github.com/selfteaching/selfteaching-python-camp/issues/5556 (NetEase 163)", "en",
     None),
    (("Error: Message failed: 554 DT:SPM 126 smtp2,DMmowAAnNDQz4zxdCk6LIw--.52838S2 1564271411,please see "
      "http://mail.163.com/help/help_spam_16.htm?ip=219.143.176.2&hostid=smtp2&time=1564271411"),
     "send.rejected_as_spam", "github.com/Vincedream/NodeMail/issues/20 (NetEase 126)", "en", None),
    (("550 Mail content denied [MJ8vvB3Z9HILDyk+wodtP4MX11azy2kRSERV7gfPvneArAnaGVv31DttVmD2vtJv1Q== IP: "
      "203.0.113.7]. https://service.mail.qq.com/detail/122/171."), "send.rejected_as_spam",
     "github.com/Jinnrry/PMail/issues/220 (QQ Mail)", "en", None),
    ("smtp failed: (550, b'The mail may contain inappropriate words or content.')", "send.rejected_as_spam",
     "github.com/0xBitWild/MTeam-CLI/pull/12 (QQ Mail)", "en", None),
    (("550-\"JunkMail rejected - ec2-54-74-157-229.eu-west-1.compute.amazonaws.com\n550-(allid.com.sg) "
      "[54.74.157.229]:34032 is in an RBL, see\n550 https://www.spamhaus.org/query/ip/54.74.157.229\""),
     "send.rejected_as_spam", "github.com/getconversio/email-deep-validator/issues/9", "en", None),
    (("SMTP failed to send: Permanent SMTP error: permanent: 5.7.1 [2] Message rejected under suspicion of SPAM; "
      "https://ya.cc/1IrBc 1631900360-h4Ajl35YEe-dK78OYi4"), "send.rejected_as_spam",
     "github.com/chatmail/provider-db/issues/205 (Yandex)", "en", None),
    (("Failed to send the test email. Raw error: \n554 5.7.1 Message rejected under suspicion of SPAM; "
      "https://ya.cc/1IrBc 1668911002-iGAH3fbul4-NLVGGnGB."), "send.rejected_as_spam",
     "github.com/pocketbase/pocketbase/issues/1068 (Yandex)", "en", None),
    ("553 Mail from 192.0.2.2 not allowed - 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL;",
     "send.rejected_as_spam", SFM.format(64) + " (Yahoo)", "en", None),
    ("554 5.7.1 Spam message rejected", "send.rejected_as_spam", "github.com/rspamd/rspamd/issues/5343", "en", None),
    ("552: Message rejected for spam or virus content", "send.rejected_as_spam",
     "github.com/kgretzky/evilginx2/pull/480", "en", None),
    (("554 resimta-po-02v.sys.comcast.net comcast 192.0.2.1 Comcast requires that all mail servers must have a PTR "
      "record with a valid Reverse DNS entry."), "send.rejected_as_spam", SFM.format(65) + " (Comcast)", "en", None),
    ("554 imta14.emeryville.ca.mail.comcast.net comcast 192.0.2.2 Comcast block for spam.", "send.rejected_as_spam",
     SFM.format(65) + " (Comcast)", "en", None),
    (("outlook-com.olc.protection.outlook.com[104.47.40.33] said: 550 5.7.1 Unfortunately, messages from "
      "[62.210.82.129] weren't sent. Please contact your Internet service provider since part of their network is on "
      "our block list (AS3140). You can also refer your provider to "
      "http://mail.live.com/mail/troubleshooting.aspx#errors. (in reply to MAIL FROM command)"),
     "send.rejected_as_spam", "github.com/root-io/vmail/issues/91 (Outlook.com)", "en", None),
    (("host mx3.hotmail.com[65.54.188.126] said: 550 SC-001 (BAY004-MC4F27) Unfortunately, messages from "
      "62.210.82.129 weren't sent. Please contact your Internet service provider since part of their network is on "
      "our block list. You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. "
      "(in reply to MAIL FROM command)"), "send.rejected_as_spam", "github.com/root-io/vmail/issues/71 (Hotmail)",
     "en", None),
    ("Remote server replied: 550-5.7.26 Your email has been blocked because the sender is unauthenticated.",
     "send.rejected_as_spam", "github.com/hmailserver/hmailserver/issues/491 (Gmail)", "en", None),
    ("SMTP error from remote mail server after initial connection: 554 5.7.0 Blocked", "send.rejected_as_spam",
     "github.com/BytemarkHosting/docker-smtp/issues/6", "en", None),
    (("host smtppromx.orange.fr[192.0.2.10] refused to talk to me: 550 mwinf5c14 ME Adresse IP source bloquee pour "
      "incident de spam. Client host blocked for spamming issues. OFR006_102 Ref "
      "http://csi.cloudmark.com/reset-request/?ip=198.51.100.7 [102]"), "send.rejected_as_spam",
     SFM.format(60) + " (Orange)", "fr", None),
]
