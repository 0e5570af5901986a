"""Replies collected in session 4 for issue 18: two growth batches, not held-out rounds.

Each batch was labelled by what fixes it for the user, like the rounds before, committed before the
classifier first ran on it, measured once with the classifier as it then stood (README.md, "Session
4"), and only after that used as training data. ``build.py`` adds them with ``"session4": true``
(``BATCH``), ``"session4b": true`` (``BATCH2``, collected after ``BATCH``'s families were written
into the rules, so its measurement tells whether they carried) and ``"session4c": true`` (``BATCH3``,
collected after ``BATCH2``'s families were written into the rules).
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


# --- Batch 2 -----------------------------------------------------------------------------------
def _sc(provider: str, code: int) -> str:
    return f"{provider} replies (via smtp.codes, github.com/fm/smtp-codes data/codes/{code}.json)"


BATCH2: list[tuple[str, str, str, str, str | None]] = []
G, Y, IC, CC, OL = "google.com", "yahoo.com", "icloud.com", "comcast.net", "outlook.com"
BATCH2 += [
    (("550 5.2.1 The email account that you tried to reach is disabled. Learn more at "
      "https://support.google.com/mail/?p=DisabledUser - gsmtp"), "send.recipient_unknown", _sc(G, 550), "en", None),
    (("550 5.2.1 The email account that you tried to reach is inactive. Learn more at "
      "https://support.google.com/mail/?p=DisabledUser - gsmtp"), "send.recipient_unknown", _sc(G, 550), "en", None),
    (("550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from "
      "being delivered. For more information, please visit https://support.google.com/mail/?p=ReceivingRatePerm - "
      "gsmtp"), "server.rate_limited", _sc(G, 550), "en", None),
    (("550 5.7.1 [198.51.100.7] Our system has detected that this message is likely suspicious due to the very low "
      "reputation of the sending domain. To best protect our users from spam, the message has been blocked. Please "
      "visit https://support.google.com/mail/answer/188131 for more information. - gsmtp"), "send.rejected_as_spam",
     _sc(G, 550), "en", None),
    (("550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Please contact "
      "the administrator of example.com domain if this was a legitimate mail. Please visit "
      "https://support.google.com/mail/answer/2451690 to learn about the DMARC initiative. - gsmtp"),
     "send.rejected_as_spam", _sc(G, 550), "en", None),
    (("550 5.7.1 [198.51.100.7 14] Messages missing a valid address in From: header, or having no From: header, are "
      "not accepted. - gsmtp"), "send.sender_not_allowed", _sc(G, 550), "en", None),
    ("550 5.1.1 <jan@icloud.com>: user does not exist", "send.recipient_unknown", _sc(IC, 550), "en", None),
    ("550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
     "send.rejected_as_spam", _sc(IC, 550), "en", None),
    ("550 5.7.1 Your message was rejected due to example.com DMARC policy.", "send.rejected_as_spam", _sc(IC, 550),
     "en", None),
    (("550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see "
     "https://www.spamhaus.org/dbl/"), "send.rejected_as_spam", _sc(IC, 550), "en", None),
    ("550 5.1.1 Not our Customer", "send.recipient_unknown", _sc(CC, 550), "en", None),
    ("550 5.1.1 <jan@comcast.net> recipient mailbox unallocated", "send.recipient_unknown", _sc(CC, 550), "en", None),
    ("550 5.2.0 Message rejected due to DMARC. Please see http://postmaster.comcast.net/smtp-error-codes.php#DM000001",
     "send.rejected_as_spam", _sc(CC, 550), "en", None),
    (("550 5.7.1 Service unavailable, MailFrom domain is listed in Spamhaus. To request removal from this list see "
      "https://www.spamhaus.org/query/lookup/ (S8002) [DM6NAM12FT008.eop-nam02.prod.protection.outlook.com]"),
     "send.rejected_as_spam", _sc(OL, 550), "en", None),
    ("550 5.7.515 Access denied, sending domain example.com does not meet the required authentication level.",
     "send.rejected_as_spam", _sc(OL, 550), "en", None),
    ("550 5.4.1 All recipient addresses rejected : Access denied [DM6NAM12FT008.eop-nam02.prod.protection.outlook.com]",
     "send.recipient_unknown", _sc(OL, 550), "en", None),
    (("550 Message was not accepted -- invalid mailbox. Local mailbox klant@mail.ru is unavailable: account is "
      "disabled"), "send.recipient_unknown", _sc("mail.ru", 550), "en", None),
    (("550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=7y4ytdHbuOGv3O50NYTwpz1F "
      "or report details to abuse@corp.mail.ru. Error code: 12. ID: 3"), "send.rejected_as_spam",
     _sc("mail.ru", 550), "en", None),
    ("550 5.7.1 Policy rejection on the target address", "send.recipient_unknown", _sc("yandex.com", 550), "en", None),
    ("550 5.7.1 No such user!", "send.recipient_unknown", _sc("yandex.com", 550), "en", None),
    ("550 5.2.1 <KLANT@PRODIGY.NET>... Addressee unknown, relay=[198.51.100.7]", "send.recipient_unknown",
     _sc("att.com", 550), "en", None),
    ("550 5.2.1 <klant@prodigy.net>... blank mailhost - invalid address, relay=[198.51.100.7]",
     "send.recipient_unknown", _sc("att.com", 550), "en", None),
    (("550 5.7.1 Connections not accepted from servers without a valid sender domain. ## Fix reverse DNS for "
     "198.51.100.7"), "send.rejected_as_spam", _sc("att.com", 550), "en", None),
    ("550 5.7.1 Email rejected per DMARC policy for example.com", "send.rejected_as_spam", _sc("zoho.com", 550), "en",
     None),
    ("550 spam detected", "send.rejected_as_spam", _sc("free.fr", 550), "en", None),
    ("550 5.2.2 user quota exceeded", "send.recipient_mailbox_full", _sc("free.fr", 550), "en", None),
    ("550 5.2.1 This mailbox has been blocked due to inactivity", "send.recipient_unknown", _sc("free.fr", 550), "en",
     None),
    ("550 virus detected", "send.rejected_as_spam", _sc("free.fr", 550), "en", None),
    ("Requested action not taken: mailbox unavailable Reject due to policy restrictions.", "send.rejected_as_spam",
     _sc("gmx.net", 550), "en", None),
    ("550 5.1.1 Email address could not be found, or was misspelled (G8) or (G9)", "send.recipient_unknown",
     _sc("rackspace.com", 550), "en", None),
    ("550 5.7.1 Sender's MX record not allowed (G14)", "send.rejected_as_spam", _sc("rackspace.com", 550), "en", None),
    ("550 5.1.0 Sender is not allowed to send from example.com", "send.rejected_as_spam", _sc("rackspace.com", 550),
     "en", None),
    ("550 5.7.1 Virus found (G3) or (G4) or (G5)", "send.rejected_as_spam", _sc("rackspace.com", 550), "en", None),
    ("550 5.7.0 header_contenttype_2 - Multi-part MIME messages are rejected as dangerous (G19)",
     "send.rejected_as_spam", _sc("rackspace.com", 550), "en", None),
    ("550 5.7.0 mime_banned_file - Your message has been rejected because it contains a banned file attachment (G1A)",
     "send.rejected_as_spam", _sc("rackspace.com", 550), "en", None),
    ("550 5.7.0 mime_banned_file - File attachment is not allowed because they can be used to exploit Winzip (G1C)",
     "send.rejected_as_spam", _sc("rackspace.com", 550), "en", None),
    ("550 5.7.1 Rejected by spam filter (in reply to end of DATA command)", "send.rejected_as_spam",
     _sc("proton.me", 550), "en", None),
    ("550 5.1.1 Recipient address rejected: Address does not exist", "send.recipient_unknown", _sc("proton.me", 550),
     "en", None),
    ("550 5.7.1 Message considered as SPAM", "send.rejected_as_spam", _sc("improvmx.com", 550), "en", None),
    ("550 5.1.3 Relay not permitted. (#id-5.9.2)", "unknown", _sc("improvmx.com", 550), "en", None),
    ("550 Mail is rejected by recipients", "send.rejected_as_spam", _sc("qq.com", 550), "en", None),
    ("550 Mailbox unavailable or access denied", "server.rate_limited", _sc("qq.com", 550), "en", None),
    ("550 Mailbox not found.", "send.recipient_unknown", _sc("qq.com", 550), "en", None),
    ("550 Sender frequency limited.", "server.rate_limited", _sc("qq.com", 550), "en", None),
    ("550 Suspected spam sender.", "send.rejected_as_spam", _sc("qq.com", 550), "en", None),
    ("550 DMARC check failed", "send.rejected_as_spam", _sc("qq.com", 550), "en", None),
    ("550 5.1.1 <jan@hey.com>: Recipient address rejected: User unknown", "send.recipient_unknown",
     _sc("hey.com", 550), "en", None),
    ("550 5.7.1 rejected by DMARC policy for example.com (in reply to end of DATA command),", "send.rejected_as_spam",
     _sc("infomaniak.com", 550), "en", None),
    ("550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table,", "send.recipient_unknown",
     _sc("infomaniak.com", 550), "en", None),
    (("550-SPF-check failed: 550 example.com doesn't allow sending mails from 198.51.100.7 (in reply to MAIL FROM "
     "command)"), "send.rejected_as_spam", _sc("hostpoint.ch", 550), "en", None),
    ("550 Message from example.com failed sender's DMARC policy, REJECT", "send.rejected_as_spam",
     _sc("hostpoint.ch", 550), "en", None),
    ("550 no such address here", "send.recipient_unknown", _sc("hostpoint.ch", 550), "en", None),
    ("550 Unauthenticated mail not allowed from this range", "send.rejected_as_spam", _sc("mxroute.com", 550), "en",
     None),
    ("550 No such recipient here", "send.recipient_unknown", _sc("mxroute.com", 550), "en", None),
    ("550 Sender verify failed", "send.sender_not_allowed", _sc("mxroute.com", 550), "en", None),
    ("550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", "send.rejected_as_spam", _sc("orange.fr", 550), "fr",
     None),
    ("550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
     "send.recipient_unknown", _sc("orange.fr", 550), "fr", None),
    (("550 <klant@web.de>: Reject due to SPF policy. The originating IP of the message is not permitted by the domain "
      "owner"), "send.rejected_as_spam", _sc("web.de", 550), "en", None),
    ("550 <klant@web.de>: Bad DNS PTR resource record", "send.rejected_as_spam", _sc("web.de", 550), "en", None),
    ("550 <klant@web.de>: Reject due to policy restrictions (domain based)", "send.rejected_as_spam",
     _sc("web.de", 550), "en", None),
    ("550 <klant@web.de>: Reject due to policy restrictions (IP based)", "send.rejected_as_spam", _sc("web.de", 550),
     "en", None),
    ("550 <klant@web.de>: Requested mail action aborted: exceeded storage allocation, Quota exceeded",
     "send.recipient_mailbox_full", _sc("web.de", 550), "en", None),
    ("550 <klant@web.de>: IP address is block listed", "send.rejected_as_spam", _sc("web.de", 550), "en", None),
    ("550 <klant@web.de>: Invalid DNS MX or A/AAAA resource record", "send.sender_not_allowed", _sc("web.de", 550),
     "en", None),
    ("550 Administrative prohibition - envelope blocked", "send.rejected_as_spam", _sc("mimecast.com", 550), "en",
     None),
    ("550 Rejected by header based Anti-Spoofing policy: info@bakkerij.nl", "send.rejected_as_spam",
     _sc("mimecast.com", 550), "en", None),
    ("550 Envelope blocked - User Entry", "send.rejected_as_spam", _sc("mimecast.com", 550), "en", None),
    ("550 Local CT IP Reputation - (reject)", "send.rejected_as_spam", _sc("mimecast.com", 550), "en", None),
    ("550 DKIM Sender Invalid - envelope rejected.", "send.rejected_as_spam", _sc("mimecast.com", 550), "en", None),
    (("550 5.1.1 - This is not a valid email address. Please verify that you have the correct email address for your "
     "recipient."), "send.recipient_unknown", _sc("proofpoint.com", 550), "en", None),
    ("550 5.1.8 Domain of sender address does not exist", "send.sender_not_allowed", _sc("proofpoint.com", 550), "en",
     None),
    ("550 5.5.2 <info@bakkerij>: Sender address rejected: need fully-qualified address (in reply to RCPT TO command)",
     "send.sender_not_allowed", _sc("proofpoint.com", 550), "en", None),
    ("550 5.7.0 Email rejected per sender's DMARC policy", "send.rejected_as_spam", _sc("proofpoint.com", 550), "en",
     None),
    ("550 5.7.1 Service unavailable; client [198.51.100.7] blocked using prs.proofpoint.com",
     "send.rejected_as_spam", _sc("proofpoint.com", 550), "en", None),
    (("550 5.7.1 Service unavailable; client [198.51.100.7] blocked using Cloudmark Sender Intelligence (Visit "
     "http://csi.cloudmark.com/reset-request/ if you feel this is in error)"), "send.rejected_as_spam",
     _sc("proofpoint.com", 550), "en", None),
    ("550 5.7.1 Service unavailable, Helo domain is listed in Spamhaus. (S8001) [DM6PR02.prod.protection.outlook.com]",
     "send.rejected_as_spam", _sc("exchange online (microsoft)", 550), "en", None),
    ("550 5.7.1 TRANSPORT.RULES.RejectMessage; the message was rejected by organization policy",
     "send.rejected_as_spam", _sc("exchange online (microsoft)", 550), "en", None),
    ("550 cuda_nsu 5.1.1 <klant@example.com> Recipient address rejected: User unknown", "send.recipient_unknown",
     _sc("barracuda.com", 550), "en", None),
    ("550 No such user (klant@example.com)", "send.recipient_unknown", _sc("barracuda.com", 550), "en", None),
    ("550 rejecting spoofed message", "send.rejected_as_spam", _sc("barracuda.com", 550), "en", None),
    ("550 permanent failure for one or more recipients (klant@example.com:blocked)", "send.rejected_as_spam",
     _sc("barracuda.com", 550), "en", None),
    ("550 Invalid recipient <klant@example.com> (#5.1.1)", "send.recipient_unknown",
     _sc("symantec email security.cloud", 550), "en", None),
    ("550 5.7.1 <klant@example.com>: Recipient address rejected: ERS-Customized-Block.", "send.rejected_as_spam",
     _sc("trendmicro.com", 550), "en", None),
    ("550 5.7.0 Message considered as spam or virus, rejected", "send.rejected_as_spam", _sc("t-online.de", 550),
     "en", None),
    ("550 5.7.26 <klant@example.com>: ETP205 DMARC Failure for domain", "send.rejected_as_spam",
     _sc("fireeye.com", 550), "en", None),
    ("550 5.7.1 Your access to submit messages to this e-mail system has been rejected.", "send.rejected_as_spam",
     _sc("cisco.com", 550), "en", None),
    (("550 198.51.100.7 is not allowed to send from <bakkerij.nl> per its SPF Record. Please inspect your SPF "
      "settings, and try again. IB508"), "send.rejected_as_spam", _sc("godaddy.com", 550), "en", None),
    (("550 198.51.100.7> This message has exceded the max number of messages per session. Please open a new session "
     "and try again. IB510"), "server.rate_limited", _sc("godaddy.com", 550), "en", None),
    ("550 klant@example.com> Recipient not found.", "send.recipient_unknown", _sc("godaddy.com", 550), "en", None),
    (("550 5.7.1 Suspicion de contenu non sollicite. Afin de preserver la qualite du service et limiter les volumes de "
      "spam sur la plateforme, ce message n'a pas ete transmis. Likely unsolicited email. LPN007_510"),
     "send.rejected_as_spam", _sc("laposte.net", 550), "fr", None),
    (("550 5.7.20 Message refuse, DKIM n'est pas configure sur votre domaine d'expedition. Message refused, DKIM is "
      "not configured on your sending domain. LPN007_402"), "send.rejected_as_spam", _sc("laposte.net", 550), "fr",
     None),
]
BATCH2 += [
    (("554 5.2.122 The recipient has exceeded their limit for the number of messages they can receive per hour. For "
      "more information go to http://go.microsoft.com/fwlink/?LinkId=526653. (3) [outlook.com]"),
     "server.rate_limited", _sc(OL, 554), "en", None),
    (("554 5.2.121 The sender has exceeded the limit for the number of messages they can send to this recipient per "
      "hour. For more information go to http://go.microsoft.com/fwlink/?LinkId=526653. [AM0PR02.prod.outlook.com]"),
     "server.rate_limited", _sc(OL, 554), "en", None),
    (("554 delivery error: dd Sorry, your message to klant@yahoo.com cannot be delivered. This mailbox is disabled "
      "(554.30). - mta1234.mail.ir2.yahoo.com"), "send.recipient_unknown", _sc(Y, 554), "en", None),
    ("554 delivery error: dd klant@yahoo.com is no longer valid. [-20] - mta1234.mail.ir2.yahoo.com",
     "send.recipient_unknown", _sc(Y, 554), "en", None),
    ("554 5.7.1 [1] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1668911002-iGAH3fbul4",
     "send.rejected_as_spam", _sc("yandex.com", 554), "en", None),
    ("554 5.7.1 <klant@icloud.com>: Relay access denied", "unknown", _sc(IC, 554), "en", None),
    ("554 5.7.1 info@bakkerij.nl: Sender address rejected: Blocked by this recipient (GE)", "send.rejected_as_spam",
     _sc("rackspace.com", 554), "en", None),
    (("554 5.7.1 ACL dns_rbl; Client host 198.51.100.7 blocked using Senderscore. Please visit Senderscore for more "
      "information on why this message could not be delivered (G31)"), "send.rejected_as_spam",
     _sc("rackspace.com", 554), "en", None),
    ("554 5.7.1 Spam message rejected; If this is not spam contact abuse", "send.rejected_as_spam",
     _sc("rambler.ru", 554), "en", None),
    ("554 5.2.3 MailPolicy violation Error delivering to mailboxes,mx.zoho.com", "unknown", _sc("zoho.com", 554), "en",
     None),
    ("554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.", "send.rejected_as_spam",
     _sc("zoho.com", 554), "en", None),
    ("554 5.2.2 <klant@free.fr>: Recipient address rejected: Quota exceeded (mailbox for user is full)",
     "send.recipient_mailbox_full", _sc("free.fr", 554), "en", None),
    (("host mx1.comcast.net [198.51.100.20] SMTP error from remote mail server after initial connection: 554 "
      "resimta-po-02v.sys.comcast.net comcast 198.51.100.7 Comcast requires that all mail servers must have a PTR "
      "record with a valid Reverse DNS entry. Currently your mail server does not fill that requirement. For more "
      "information, refer to: http://postmaster.comcast.net/smtp-error-codes.php#554"), "send.rejected_as_spam",
     _sc(CC, 554), "en", None),
    ("554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554 [a1b2c3]",
     "send.rejected_as_spam", _sc("mimecast.com", 554), "en", None),
    ("554 5.7.1 <klant@example.com>: Recipient address rejected: BLOCK-SEND-ER.", "send.rejected_as_spam",
     _sc("trendmicro.com", 554), "en", None),
    ("554 5.7.1 <klant@example.com>: Recipient address rejected: Invalid-Recipient.", "send.recipient_unknown",
     _sc("trendmicro.com", 554), "en", None),
    ("554 rejected due to spam URL in content", "send.rejected_as_spam", _sc("barracuda.com", 554), "en", None),
    ("554 rejecting banned content", "send.rejected_as_spam", _sc("barracuda.com", 554), "en", None),
    ("554 5.7.1 <klant@example.com>: Recipient address rejected: Not in recipient list", "send.recipient_unknown",
     _sc("zerospam.ca", 554), "en", None),
    (("554 198.51.100.7 has been temporarily blocked for attempting to mail too many invalid recipients. IB112 "
      "<https://www.secureserver.net/help/fix-rejected-email-with-a-bounce-error-40685#rlb"), "send.rejected_as_spam",
     _sc("godaddy.com", 554), "en", None),
    (("554 198.51.100.7 has been temporarily blocked for attempting to send too many messages containing content "
      "judged to be spam by the internet community. IB110"), "send.rejected_as_spam", _sc("godaddy.com", 554), "en",
     None),
    (("554 IB103. Connection refused. 198.51.100.7 has a poor reputation on Cloudmark Sender Intelligence (CSI). "
      "Please visit http://csi.cloudmark.com/reset-request/?ip=198.51.100.7 to request a delisting."),
     "send.rejected_as_spam", _sc("godaddy.com", 554), "en", None),
    (("554 IB106. Connection refused. 198.51.100.7 is listed on the Spamhaus Block List (PBL). "
      "<http://www.spamhaus.org/query/ip/198.51.100.7> Please visit http://www.spamhaus.org/pbl for more information "
      "or to request a delisting."), "send.rejected_as_spam", _sc("godaddy.com", 554), "en", None),
    (("421 4.7.0 [198.51.100.7] Our system has detected that this message is suspicious due to the very low "
      "reputation of the sending domain. To best protect our users from spam, the message has been blocked. Please "
      "visit https://support.google.com/mail/answer/188131 for more information. - gsmtp"), "send.rejected_as_spam",
     _sc(G, 421), "en", None),
    (("421 4.7.0 [198.51.100.7] Our system has detected that this message is suspicious due to the nature of the "
      "content and/or the links within. To best protect our users from spam, the message has been blocked. Please "
      "visit https://support.google.com/mail/answer/188131 for more information. - gsmtp"), "send.rejected_as_spam",
     _sc(G, 421), "en", None),
    ("4.7.32 This mail has been rate limited because there is no DMARC alignment", "send.rejected_as_spam",
     _sc(G, 421), "en", None),
    ("421 Service not available, closing transmission channel", "server.temporary_failure", _sc(Y, 421), "en", None),
    ("421 Max message per connection reached, closing transmission channel", "server.rate_limited", _sc(Y, 421), "en",
     None),
    ("421 4.3.2 Service not available [outlook.com]", "server.temporary_failure", _sc(OL, 421), "en", None),
    ("421 4.4.2 mail.yandex.net Error: timeout exceeded", "server.temporary_failure", _sc("yandex.com", 421), "en",
     None),
    ("421 4.7.0 me.com Error: too many errors", "server.rate_limited", _sc(IC, 421), "en", None),
    (("421 4.7.1 Messages to klant@icloud.com deferred due to excessive volume. Try again later - "
     "https://support.apple.com/en-us/HT204137"), "server.rate_limited", _sc(IC, 421), "en", None),
    ("421 Too many concurrent connections from this client (G2)", "server.rate_limited", _sc("rackspace.com", 421),
     "en", None),
    (("421 4.3.2 The maximum number of concurrent connections per resource forest has exceeded a limit, closing "
      "transmission channel. example.com. PRX8 [example.com]"), "server.rate_limited",
     _sc("microsoft 365", 421), "en", None),
    ("421 4.1.1 <klant@example.com>: Recipient address rejected: unverified address: Address verification in progress",
     "server.temporary_failure", _sc("proofpoint.com", 421), "en", None),
    ("421 Temporary failure, please try again later.", "server.temporary_failure", _sc("barracuda.com", 421), "en",
     None),
    ("421 Service Temporarily Unavailable", "server.temporary_failure", _sc("symantec email security.cloud", 421),
     "en", None),
    (("421 Connection refused, too many sessions from 198.51.100.7. Please lower the number of concurrent sessions. "
      "IB007"), "server.rate_limited", _sc("godaddy.com", 421), "en", None),
    ("421 Server temporarily unavailable. Try again later. IB101", "server.temporary_failure",
     _sc("godaddy.com", 421), "en", None),
    ("421 Temporarily rejected. Reverse DNS for 198.51.100.7 failed. IB108", "send.rejected_as_spam",
     _sc("godaddy.com", 421), "en", None),
    ("421 4.7.0  : Sender IP rejected: sending IP has insufficient reputation.  Please retry later.",
     "send.rejected_as_spam", _sc("titan.email", 421), "en", None),
]
BATCH2 += [
    ("451 4.3.0 Mail server temporarily rejected message. - gsmtp", "server.temporary_failure", _sc(G, 451), "en",
     None),
    ("451 mta1234.mail.ir2.yahoo.com Resources temporarily unavailable. Please try again later [#4.16.1].",
     "server.temporary_failure", _sc(Y, 451), "en", None),
    ("451 4.3.2 Internal server error", "server.temporary_failure", _sc(Y, 451), "en", None),
    ("451 4.3.2 Temporary server error. Please try again later ATTR17 [outlook.com]", "server.temporary_failure",
     _sc(OL, 451), "en", None),
    (("451 4.4.0 Message failed to be replicated: No healthy secondary server available to accept replica at this "
      "time. [outlook.com]"), "server.temporary_failure", _sc(OL, 451), "en", None),
    (("451 4.7.650 The mail server [198.51.100.7] has been temporarily rate limited due to IP reputation. For e-mail "
      "delivery information, see https://postmaster.live.com (S843) [AM0PR02.prod.protection.outlook.com]"),
     "send.rejected_as_spam", _sc(OL, 451), "en", None),
    ("451 4.7.1 Sorry, the service is currently unavailable. Please come back later.", "server.temporary_failure",
     _sc("yandex.com", 451), "en", None),
    ("451 4.7.1 Service unavailable - try again later", "server.temporary_failure", _sc(IC, 451), "en", None),
    ("541 5.4.1 Mail rejected by destination domain", "send.rejected_as_spam", _sc("zoho.com", 451), "en", None),
    ("451 4.7.1 Received too many messages from a new or untrusted IP (G28)", "server.rate_limited",
     _sc("rackspace.com", 451), "en", None),
    ("451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451 [a1b2c3]", "unknown",
     _sc("mimecast.com", 451), "en", None),
    ("451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451 [a1b2c3]",
     "server.temporary_failure", _sc("mimecast.com", 451), "en", None),
    ("451 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#451 [a1b2c3]", "send.recipient_unknown",
     _sc("mimecast.com", 451), "en", None),
    ("451 4.7.0 Temporary server error. Please try again later. PRX4 NextHop: example.com [example.com]",
     "server.temporary_failure", _sc("exchange online (microsoft)", 451), "en", None),
    ("451 4.7.1 <klant@example.com>: Recipient address rejected: Greylisted for 5 minutes", "server.temporary_failure",
     _sc("barracuda.com", 451), "en", None),
    ("451 4.7.1 Try again later", "server.temporary_failure", _sc("barracuda.com", 451), "en", None),
    ("451 cuda_nsu 4.4.3 Temporary server error. Please try again later", "server.temporary_failure",
     _sc("barracuda.com", 451), "en", None),
    ((" 552-5.2.3 Your message exceeded Google's message size limits. Please visit "
     "http://mail.google.com/support/bin/answer.py?answer=8770 to review our size guidelines."),
     "send.message_too_large", _sc(G, 552), "en", None),
    ((" 552-5.7.0 Our system detected an illegal attachment on your message. Please visit "
     "http://mail.google.com/support/bin/answer.py?answer=6590 to review our attachment guidelines."),
     "send.rejected_as_spam", _sc(G, 552), "en", None),
    ("552 1 Requested mail action aborted, mailbox not found", "send.recipient_unknown", _sc(Y, 552), "en", None),
    ("552 5.2.2 Mailbox size limit exceeded", "send.recipient_mailbox_full", _sc("yandex.com", 552), "en", None),
    ("552 5.2.2 <klant@icloud.com>: user is overquota", "send.recipient_mailbox_full", _sc(IC, 552), "en", None),
    ("552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]", "send.recipient_mailbox_full",
     _sc("orange.fr", 552), "fr", None),
    ("552 5.2.2 user quota exceeded (UserSearch)", "send.recipient_mailbox_full", _sc("free.fr", 552), "en", None),
    ("552 5.1.1 <klant@comcast.net> recipient rejected - extended quota violation", "send.recipient_mailbox_full",
     _sc(CC, 552), "en", None),
    ("552 Requested mail action aborted: exceeded storage allocation Quota exceeded.", "send.recipient_mailbox_full",
     _sc("gmx.net", 552), "en", None),
    ("552 a1b2c3 - d4e5f6 Message size exceeds maximum permitted. Please reduce message size, and retry.",
     "send.message_too_large", _sc("godaddy.com", 552), "en", None),
    (("552 a1b2c3 - d4e5f6 This message has been rejected due to content judged to be spam by the internet community "
      "IB212 - If you feel this is in error, please submit a request using the following page. "
      "<https://checkspam.secureserver.net/?sid=a1b2c3&mid=d4e5f6>"), "send.rejected_as_spam",
     _sc("godaddy.com", 552), "en", None),
    ("450 User is receiving mail too quickly", "server.rate_limited", _sc(Y, 450), "en", None),
    ("450 4.7.3 Organization queue quota exceeded. [outlook.com]", "server.rate_limited", _sc(OL, 450), "en", None),
    ("450 4.2.1 The recipient has exceeded message rate limit. Try again later.", "server.rate_limited",
     _sc("yandex.com", 450), "en", None),
    ("450 4.1.8 Sender address rejected: Domain not found (in reply to RCPT TO command))", "send.sender_not_allowed",
     _sc("infomaniak.com", 450), "en", None),
    ("450 4.2.1 Please try again later. (#id-5.9.4)", "server.temporary_failure", _sc("improvmx.com", 450), "en",
     None),
    ("450 4.2.0 <klant@comcast.net> - Recipient temporarily unavailable", "server.temporary_failure", _sc(CC, 450),
     "en", None),
    ("450 4.7.1 Client host 198.51.100.7 has no PTR record (G1F)", "send.rejected_as_spam", _sc("rackspace.com", 450),
     "en", None),
    ("450 4.4.1 <klant@example.com>: The recipient's server was temporarily unavailable to accept your message (G6)",
     "server.temporary_failure", _sc("rackspace.com", 450), "en", None),
    ("450 4.2.1 <klant@example.com>: Mailbox received too much email in a short period of time (G30)",
     "server.rate_limited", _sc("rackspace.com", 450), "en", None),
    ("450 4.4.6 Routing loop detected (G16)", "unknown", _sc("rackspace.com", 450), "en", None),
    ("450 4.4.0 <klant@example.com> Temporary DMARC DNS lookup failure (G1E)", "server.temporary_failure",
     _sc("rackspace.com", 450), "en", None),
    ("450 cuda_nsu 4.7.1 <klant@example.com>: Recipient address rejected: Policy Rejection- Abuse. Go away.",
     "send.rejected_as_spam", _sc("barracuda.com", 450), "en", None),
    ("450 4.2.0 <klant@example.com>: Recipient address rejected: example.com greylisted for 60 seconds by ZEROSPAM",
     "server.temporary_failure", _sc("zerospam.ca", 450), "en", None),
]
BATCH2 += [
    ("553 5.1.2 The recipient address <klant@example> is not a valid RFC-5321 address. - gsmtp",
     "send.recipient_unknown", _sc(G, 553), "en", None),
    ("failed,5.1.1 (bad destination mailbox address),553 Relaying disallowed,mx.zoho.com", "send.recipient_unknown",
     _sc("zoho.com", 553), "en", None),
    (("host mta5.am0.yahoodns.net [198.51.100.30] SMTP error from remote mail server after MAIL "
      "FROM:<info@bakkerij.nl> SIZE=2022: 553 5.7.1 [BL21] Connections will not be accepted from 198.51.100.7, "
      "because the ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html"), "send.rejected_as_spam",
     _sc(Y, 553), "en", None),
    ("553 Message filtered. (#5.7.1)", "send.rejected_as_spam", _sc("symantec email security.cloud", 553), "en", None),
    (("553 you are trying to use me [server-7.tower-1.messagelabs.com] as a relay, but I have not been configured to "
      "let you [198.51.100.7, example.com] do this. (#5.7.1)"), "unknown", _sc("symantec email security.cloud", 553),
     "en", None),
    (("452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to "
      "https://support.google.com/mail/?p=OverQuotaTemp - gsmtp"), "send.recipient_mailbox_full", _sc(G, 452), "en",
     None),
    ("452 temporary domain failure <klant@yahoo.com>", "server.temporary_failure", _sc(Y, 452), "en", None),
    ("452 4.3.1 Insufficient system resources (TSTE) [outlook.com]", "server.temporary_failure", _sc(OL, 452), "en",
     None),
    ("452 <klant@zoho.com> Mailbox delivery restricted by policy error", "send.rejected_as_spam",
     _sc("zoho.com", 452), "en", None),
    ("452 4.3.1 Temporary System Error", "server.temporary_failure", _sc("zoho.com", 452), "en", None),
    ("452 4.1.1 <klant@comcast.net> too many recent messages; Try again later", "server.rate_limited", _sc(CC, 452),
     "en", None),
    ("452 4.1.1 <klant@comcast.net> user over quota", "send.recipient_mailbox_full", _sc(CC, 452), "en", None),
    ("452 4.5.3  rate limit exceeded", "server.rate_limited", _sc("rambler.ru", 452), "en", None),
    ("452 klant@example.com temporarily unavailable. Try again later.", "server.temporary_failure",
     _sc("godaddy.com", 452), "en", None),
    ("501 5.1.3 Invalid address [outlook.com]", "send.recipient_unknown", _sc(OL, 501), "en", None),
    ("501 Bad address syntax. http://service.exmail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000730",
     "send.recipient_unknown", _sc("qq.com", 501), "en", None),
    ("501 5.1.0 Emetteur invalide. Invalid Sender. OFR004_405 [405]", "send.sender_not_allowed",
     _sc("orange.fr", 501), "fr", None),
    ("HELO/EHLO rejected. IB301", "unknown", _sc("godaddy.com", 501), "en", None),
]
GH = "github.com/{}"
BATCH2 += [
    (("140327535802304:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:"
      "../deps/openssl/openssl/ssl/record/ssl3_record.c:332:"), "tls.mode_mismatch",
     GH.format("dawidd6/action-send-mail/issues/187"), "en", None),
    ("SSL_connect returned=1 errno=0 peeraddr=198.51.100.7:587 state=error: wrong version number", "tls.mode_mismatch",
     GH.format("docusealco/docuseal/issues/93"), "en", None),
    (("SSL_connect returned=1 errno=0 peeraddr=130.35.96.103:587 state=SSLv3/TLS write client hello: wrong version "
      "number"), "tls.mode_mismatch", GH.format("docusealco/docuseal/issues/425"), "en", None),
    ("error:1408F10B:SSL routines:SSL3_GET_RECORD:wrong version number", "tls.mode_mismatch",
     GH.format("OpenSMTPD/OpenSMTPD/issues/427"), "en", None),
    ("connect ETIMEDOUT 52.96.184.50:465", "net.timeout", GH.format("dawidd6/action-send-mail/issues/124"), "en",
     None),
    (("Error sending email Error: self-signed certificate in certificate chain\n    at TLSSocket.onConnectSecure "
      "(node:_tls_wrap:1659:34) {\n  code: 'ESOCKET',\n  command: 'CONN'\n}"), "tls.certificate_invalid",
     GH.format("lukevella/rallly-selfhosted/issues/21"), "en", None),
    (("A certificate chain processed, but terminated in a root certificate which is not trusted by the trust "
      "provider."), "tls.certificate_invalid", GH.format("jstedfast/MailKit/issues/925"), "en", None),
    ("smtp error: x509: certificate signed by unknown authority", "tls.certificate_invalid",
     GH.format("amborle/featmap/issues/66"), "en", None),
    ('Info: {"e":{"message":"self-signed certificate","code":"Error","id":"67b2a20f-9830-42c5-a98e-eed29a99a2bc"}}',
     "tls.certificate_invalid", GH.format("misskey-dev/misskey/issues/14297"), "en", None),
    ("The remote certificate was rejected: RemoteCertificateChainErrors", "tls.certificate_invalid",
     GH.format("jstedfast/MailKit/issues/922"), "en", None),
    (("Error: Invalid credentials (Failure)\n  type: 'no',\n  textCode: 'AUTHENTICATIONFAILED',\n  source: "
     "'authentication'"), "auth.invalid_credentials", GH.format("mscdex/node-imap/issues/826"), "en", None),
    (("C: a0 LOGIN \"jan@yahoo.com\" \"(password scrambled)\"\nS: a0 NO [AUTHENTICATIONFAILED] LOGIN Invalid "
     "credentials"), "auth.app_password_required", GH.format("Enough-Software/enough_mail/issues/245 (Yahoo)"), "en",
     "jan@yahoo.com"),
    ("Error logging into jan on imap.gmail.com: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
     "auth.app_password_required", GH.format("vladkens/twscrape/issues/174 (Gmail)"), "en", "jan@gmail.com"),
    ("getmailrc: credential/login error (b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)')",
     "auth.app_password_required", GH.format("getmail6/getmail6/issues/236 (Gmail)"), "en", "jan@gmail.com"),
    ("Imap connection error Invalid credentials (Failure)", "auth.invalid_credentials",
     GH.format("ankaboot-source/leadminer/issues/1849"), "en", None),
    ("S22.Imap.InvalidCredentialsException: 'xm001 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
     "auth.app_password_required", GH.format("hika3390/TwitterAccountGenerator/issues/1 (Gmail)"), "en",
     "jan@gmail.com"),
    (("ERROR Send Error: Greeting never received\nError: Greeting never received\n  code: 'ETIMEDOUT',\n  command: "
     "'CONN'"), "net.timeout", GH.format("nodemailer/nodemailer/issues/1470"), "en", None),
]


# --- Batch 3 -----------------------------------------------------------------------------------
CYON = "cyon.ch/support/a/smtp-error-550 (Swiss host, German page)"
UGENT = "helpdesk.ugent.be/email/faq.php (Ghent University, Dutch page)"
NETFABRIC = "netfabric.freshdesk.com: problemi invio posta (Italian page)"
BATCH3: list[tuple[str, str, str, str, str | None]] = [
    ("550 5.1.0 Adress Rejected", "send.rejected_as_spam", CYON, "en", None),
    ("550 5.1.1 no such user", "send.recipient_unknown", CYON, "en", None),
    ("550 5.7.0 Message Size Violation", "send.message_too_large", CYON, "en", None),
    ("550 Administrative Prohibition", "send.rejected_as_spam", CYON, "en", None),
    ("550 Quarantined/Spam", "send.rejected_as_spam", CYON, "en", None),
    ("554 Access denied - Under investigation for spam abuse. Contact your email provider for more info",
     "send.account_blocked", "proximus.be support: your IP address is in our blacklist", "en", None),
    ("421 4.5.1. Connection Rate - See https://helpdesk.ugent.be/email/", "server.rate_limited", UGENT, "en", None),
    (("An error occurred while sending mail. The mail server responded : 4.5.1. Connection Rate - See "
      "https://helpdesk.ugent.be/email/. Please check the message recipients and try again."), "server.rate_limited",
     UGENT, "en", None),
    ("5.7.1 Please don't forward us spam", "send.rejected_as_spam", UGENT, "en", None),
    ("4.5.1. Too many recipients for this message", "server.rate_limited", UGENT, "en", None),
    ("Errore: MAX RCPT TO DAILY LIMIT", "send.daily_limit_reached", NETFABRIC, "it", None),
    ("Errore: SENDER REJECTED", "send.account_blocked", NETFABRIC, "it", None),
    ("550 - Invalid sender", "send.sender_not_allowed",
     "clients.paymonthlyhosting.co.uk knowledgebase: I cannot send or receive emails", "en", None),
    ("550 - No Such User Here", "send.recipient_unknown",
     "clients.paymonthlyhosting.co.uk knowledgebase: I cannot send or receive emails", "en", None),
    ("Forged sender domain from this server", "send.sender_not_allowed",
     "cleanmail.ch: stricter rules for accepting mail with sender bluewin.ch", "en", None),
    ("Error: AUTH LOGIN failed: '535 Incorrect authentication data: authentication failed", "auth.invalid_credentials",
     "github.com/muquit/mailsend/issues/74 (mail.ru)", "en", None),
    (("SMTP -> ERROR: AUTH not accepted from server: 530 5.7.7 Email sending without SSL/TLS encryption is not "
      "allowed. Please see: http://help.yandex.ru/mail/mail-clients/ssl.xml"), "tls.starttls_required",
     "github.com/PHPMailer/PHPMailer/issues/283 (Yandex)", "en", None),
    ("Failed: Authentication failed: 535 5.7.0 Invalid login or password", "auth.invalid_credentials",
     "github.com/marcpope/borgbackupserver/issues/16 (Brevo)", "en", None),
    ("SMTP ERROR: Password command failed: 535 5.7.8 Error: authentication failed: Invalid format.",
     "auth.invalid_credentials", "github.com/joomla/joomla-cms/issues/31499", "en", None),
    (("5.7.8 Error: authentication failed: Your message looks like spam. You need to use web for sending or prove you "
      "are not a robot using the following link http://ya.cc/3QqR"), "auth.web_login_required",
     "github.com/higty/higlabo/pull/17 (Yandex)", "en", None),
    ("SMTP.login failed for user jan@yandex.com (Login failed)", "auth.invalid_credentials",
     "github.com/deltachat/deltachat-android/issues/377 (Yandex)", "en", None),
    (("Error: Invalid login: 535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/"
      "external / Application password is REQUIRED"), "auth.app_password_required",
     "github.com/lmanukyan/print-designer/issues/5 (mail.ru)", "en", None),
    (("SMTP 5xx error: permanent error (535): 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
      "[LO2P265CA0482.GBRP265.PROD.OUTLOOK.COM 2026-02-19T15:42:20.743Z 08DE6F7B77124F67] - Authentication "
      "credentials invalid"), "auth.password_login_disabled",
     "github.com/hassio-addons/app-vaultwarden/issues/402 (Outlook.com)", "en", None),
    (("Authenticator LOGIN returned Expected response code 235 but got code \"535\", with message \"535 5.7.8 Error: "
      "authentication failed: UGFzc3dvcmQ6 \"."), "auth.invalid_credentials", "github.com/nextcloud/helm/issues/254",
     "en", None),
    ("553 Relaying disallowed as \"info@bakkerij.nl\"", "send.sender_not_allowed",
     "github.com/frappe/erpnext/issues/19057 (Zoho)", "en", None),
    ("Connection unsuccessful: SendMail: Failed to close connection to SMTP server, 553 Relaying disallowed as @",
     "send.sender_not_allowed", "github.com/mattermost/mattermost/issues/13224 (Zoho)", "en", None),
    ("Failed to send some messages - Negative SMTP reply: 553", "unknown",
     "github.com/thunderbird/thunderbird-android/issues/2735 (Zoho)", "en", None),
    ("C (3): 1001 LOGIN \"jan\" *\nS (3): 1001 NO [AUTHENTICATIONFAILED] Authentication failed",
     "auth.app_password_required", "github.com/lefcha/imapfilter/issues/125 (iCloud)", "en", "jan@mac.com"),
    ("Error: Authentication Failed\n  type: 'no',\n  textCode: 'AUTHENTICATIONFAILED',\n  source: 'authentication'",
     "auth.app_password_required", "github.com/mscdex/node-imap/issues/839 (iCloud)", "en", "jan@icloud.com"),
    ("Invalid credentials. Please check that your IMAP username and password are correct.",
     "auth.app_password_required", "github.com/nylas/nylas-mail/issues/1911 (iCloud)", "en", "jan@me.com"),
    (("139634851661696:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:"
      "../deps/openssl/openssl/ssl/record/ssl3_record.c:332:"), "tls.mode_mismatch",
     "github.com/dawidd6/action-send-mail/issues/84 (iCloud)", "en", None),
]
