"""Replies collected in session 8 for issue 18: one growth batch, measured once before it was trained on.

The brief asked for at least 120 real replies, half of them in nl/de/fr/it, from sources reachable with the
search tools; this batch has 101 (34 in fr/it/de/nl: 15, 12, 6, 1), short of both. Real server texts in the seed
languages proved scarce there: most seed-language help pages
quote English replies (or translate them, which is not a server's text), and the localisation files of
mail clients were left aside on purpose (only clients' messages that users saw and quoted were taken).
What was found in the seed languages: La Poste's and Orange's French replies (their ``LPN``/``OFR`` reason
codes, from sisimai's issue tracker and its ``FrancePTT`` table of real replies), Outlook.com's Italian
non-delivery texts (its Italian help page), a Dutch Outlook non-delivery text, and localised messages that
users of Nextcloud, mailcow/Roundcube and a German invoicing app pasted into issue trackers. The English
replies come from mail clients', libraries' and self-hosted products' issue trackers (the server's reply as
the user saw it, usually inside a wrapper) and a few hosting providers' help pages.

Each reply is labelled by what fixes it for the user (README.md, "Labelling rules"), deduplicated against
the corpus (same text once addresses, IP addresses and host names are masked, and near-repeats where only a
provider's reason number differs left out: 18 collected replies were dropped, their labels agreeing with the
corpus's every time), committed before ``mailport explain`` first ran on it and
measured once with ``measure_batch.py session8`` (README.md, "Session 8"); only after that used as
training data. ``build.py`` adds them with ``"session8": true``. Placeholders stand where the source had a
user's address or host; a reply's wording and codes are as the source gives them.
"""

from __future__ import annotations

GH = "https://github.com/{}"
SISIMAI_241 = GH.format("sisimai/p5-sisimai/issues/241") + " (laposte.net replies)"
SISIMAI_FPTT = ("https://github.com/sisimai/go-sisimai rhost FrancePTT (Orange and La Poste replies quoted in the "
                "reason table)")
OUTLOOKCOM_IT = "http://windows.microsoft.com/it-it/outlook/delivery-failed (Outlook.com, Italian)"
OUTLOOKCOM_IT_NEW = ("https://support.office.com/it-it/article/la-posta-inviata-in-outlook-com-restituisce-un-messaggio-"
                     "di-mancato-recapito-45e048ac-f7b1-4c0f-b525-081cb34f1062 (Outlook.com, Italian)")

BATCH: list[tuple[str, str, str, str, str | None]] = [
    # --- French: La Poste (LPN) and Orange (OFR) replies --------------------------------------------------
    ("5.5.0 Service refusé; Veuillez essayer plus tard.service refused.please try later LPN003_109",
     "server.temporary_failure", SISIMAI_241, "fr", None),
    ("5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN004_510",
     "send.rejected_as_spam", SISIMAI_241, "fr", None),
    ("550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN007_510.",
     "send.rejected_as_spam", SISIMAI_241, "fr", None),
    (("Une erreur est survenue lors de l'envoi du message. Le serveur a répondu '4.2.1 service refusé'. Veuillez "
     "essayer plus tard. LPN 104-105"), "server.rate_limited", SISIMAI_241, "fr", None),
    (("4.2.1 Service refuse.\nVeuillez essayer plus tard. Service refused, please try later. LPN104_424. Veuillez "
     "vérifier le message et essayer à nouveau."), "server.temporary_failure", SISIMAI_241, "fr", None),
    (("550 5.7.1 Service unavailable; client [192.0.2.1] blocked using Spamhaus Les emails envoyes vers la messagerie "
     "Laposte.net ont ete bloques par nos services. Afin de regulariser votre situation, nous vous invitons a cliquer "
     "sur le lien ci-dessous et a suivre la procedure. The emails sent to the mail host Laposte.net were blocked by "
     "our services. To regularize your situation please click on the link below and follow the procedure "
     "https://www.spamhaus.org/lookup/ LPNAAA_101 (in reply to RCPT TO command))"),
     "send.rejected_as_spam", SISIMAI_FPTT, "fr", None),
    (("550 5.5.0 Les emails envoyes vers la messagerie Laposte.net ont ete bloques par nos services. Afin de "
     "regulariser votre situation, nous vous invitons a cliquer sur le lien ci-dessous et a suivre la procedure. "
     "The emails sent to the mail host Laposte.net were blocked by our services. To regularize your situation please "
     "click on the link below and follow the procedure https://senderscore.org/blacklistlookup/  LPN007_102"),
     "send.rejected_as_spam", SISIMAI_FPTT, "fr", None),
    (("550 mwinf5c10 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR006_103 "
     "192.0.2.1 [103]"), "send.rejected_as_spam", SISIMAI_FPTT, "fr", None),
    ("550 5.5.0 Authentification requise. Authentication Required. LPN105_402", "send.relay_denied", SISIMAI_FPTT,
     "fr", None),
    (("421 4.2.1 Service refuse. Veuillez essayer plus tard. Service refused, please try later. LPN007_505 (in reply "
     "to end of DATA command)"), "server.temporary_failure", SISIMAI_FPTT, "fr", None),
    ("571 5.7.1 Message refused, DMARC verification Failed. Message refuse, verification DMARC en echec LPN007_517",
     "send.rejected_as_spam", SISIMAI_FPTT, "fr", None),
    (("421 smtp.orange.fr [192.0.2.1] Emetteur invalide, Veuillez verifier la configuration SPF/DNS de votre nom de "
     "domaine. Invalid Sender. SPF check failed, please verify the SPF/DNS configuration for your domain name."),
     "send.rejected_as_spam", SISIMAI_FPTT, "fr", None),
    ("554 5.7.1 Client host rejected LPN000_630", "unknown", SISIMAI_FPTT, "en", None),
    (("<klant@wanadoo.fr>: host smtp-in.orange.fr[80.12.26.32] refused to talk to me: 550 opmta1mti49nd1 "
     "smtp.orange.fr Z6LftNSlNMMrX Adresse IP source bloquee par Abusix. IP blocked by Abusix, OFR004_100 please "
     "visit https://lookup.abusix.com/search?q=193.200.42.126 [100]"),
     "send.rejected_as_spam", GH.format("osm-fr/infrastructure/issues/603"), "fr", None),
    # --- Italian: Outlook.com's non-delivery texts -------------------------------------------------------
    ("Nessun server adeguato", "server.temporary_failure", OUTLOOKCOM_IT, "it", None),
    ("Time out della connessione", "server.temporary_failure", OUTLOOKCOM_IT, "it", None),
    ("Memoria esaurita", "server.temporary_failure", OUTLOOKCOM_IT, "it", None),
    ("Mailbox non trovata", "send.recipient_unknown", OUTLOOKCOM_IT, "it", None),
    ("Utente sconosciuto", "send.recipient_unknown", OUTLOOKCOM_IT, "it", None),
    ("Mailbox non disponibile", "unknown", OUTLOOKCOM_IT, "it", None),
    # --- Dutch and German, as users saw them ---------------------------------------------------------------
    ("Er is geen transportserviceprogramma beschikbaar voor bezorging bij deze geadresseerde.", "unknown",
     "https://support.microsoft.com/nl-nl/kb/197417 (Outlook non-delivery report, Dutch)", "nl", None),
    (("Beim Senden der E-Mail ist ein Problem aufgetreten. Bitte überprüfe Deine Einstellungen. (Fehler: Connection "
     "could not be established with host smtp.gmail.com [ #0])"), "net.connection_failed",
     GH.format("nextcloud/server/issues/6494"), "de", None),
    ("Netzwerkfehler [Error 11001] getaddrinfo faild", "net.host_not_found",
     GH.format("nicolettas-muggelbude/RechnungsFee/issues/336"), "de", None),
    (("Netzwerkfehler: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in "
     "certificate chain (_ssl.c:1010)"), "tls.certificate_invalid",
     GH.format("nicolettas-muggelbude/RechnungsFee/issues/336"), "de", None),
    ("Die Anmeldung ist fehlgeschlagen.", "auth.invalid_credentials", GH.format("mailcow/mailcow/issues/920"), "de",
     None),
    (("Échec de la remise pour ces destinataires ou groupes :\n\nRuss Winter (notifications@github.com)\nLa boîte aux "
     "lettres du destinataire est pleine et ne peut pas accepter de messages pour l’instant. Essayez de renvoyer "
     "votre message ultérieurement ou contactez directement le destinataire."), "send.recipient_mailbox_full",
     GH.format("ForumPostAssistant/FPA/issues/136") + " (Exchange Online non-delivery report, French)", "fr", None),
    ("AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO", "send.gave_up",
     GH.format("OCA/l10n-italy/issues/1949") + " (Aruba PEC notice)", "it", None),
    ("Cassetta postale non trovata", "send.recipient_unknown", OUTLOOKCOM_IT_NEW, "it", None),
    ("Cassetta postale non valida", "send.recipient_unknown", OUTLOOKCOM_IT_NEW, "it", None),
    ("Cassetta postale non disponibile", "unknown", OUTLOOKCOM_IT_NEW, "it", None),
    ("Cassetta postale piena", "send.recipient_mailbox_full", OUTLOOKCOM_IT_NEW, "it", None),
    ("Quota superata", "send.recipient_mailbox_full", OUTLOOKCOM_IT_NEW, "it", None),
    (("Diagnoseinformationen für Administratoren:\n\nGenerierender Server: smtp8.goneo.de\n\n"
     "verkehrsordnungswidrigkeiten@augsburg.de\nmailserv1.augsburg.de\nRemote server returned '554 5.4.4 "
     "<mailserv1.augsburg.de #5.4.4 smtp; 550 5.4.4 Unable to relay>'"), "send.relay_denied",
     GH.format("weg-li/weg-li/issues/839"), "de", None),
    (("Il se peut que le groupe que vous avez essayé de contacter (com-zeste-de-savoir) n'existe pas ou que vous ne "
     "soyez pas autorisé à lui envoyer des messages. Voici quelques-unes des raisons possibles pour lesquelles votre "
     "message n'a pas pu être envoyé :\n- Vous avez mal orthographié le nom du groupe.\n- Le propriétaire du groupe "
     "l'a peut-être supprimé.\n- Vous devez être abonné avant de pouvoir envoyer des messages.\n- Ce groupe "
     "n'autorise pas l'envoi de message."), "unknown",
     GH.format("zestedesavoir/zds-site/issues/929") + " (Google Groups bounce, French)", "fr", None),
    (("Diagnoseinformationen für Administratoren:\n\nGenerierender Server: srv51.tophost.ch\n\nxxxx@gmail.com\n"
     "gmail-smtp-in.l.google.com\nRemote server returned '554 5.0.0 <gmail-smtp-in.l.google.com #5.0.0 smtp; "
     "550-5.7.1 [194.150.248.71] Messages with multiple addresses in From: header are 550-5.7.1 not accepted. For "
     "more information, go to 550-5.7.1 https://support.google.com/mail/?p=RfcMessageNonCompli"),
     "send.sender_not_allowed", GH.format("hitobito/hitobito/issues/2762"), "de", None),
    # --- English: issue trackers ------------------------------------------------------------------------
    (("Error [120]: Ran into problems sending Mail. Response: 535 5.7.1 Authentication failed Error [130]: Invalid "
     "Authentication Credentials."), "auth.invalid_credentials", GH.format("Dolibarr/dolibarr/issues/25822"), "en",
     None),
    (("Error [120]: Ran into problems sending Mail. Response: 535 5.7.8 Authentication failed: wrong user/password "
     "Error [130]: Invalid Authentication Credentials."), "auth.invalid_credentials",
     GH.format("tuxgasy/docker-dolibarr/issues/133"), "en", None),
    ("Error: SMTP code:530 msg:530 SMTP authentication is required.", "send.relay_denied",
     GH.format("guileen/node-sendmail/issues/73"), "en", None),
    (("Unable to email via SMTP:smtp.example.com:587 [noreply@example.com] Failed to set sender: noreply@example.com "
     "[SMTP: Invalid response code received from server (code: 530, response: 5.7.1 Authentication required)]"),
     "send.relay_denied", GH.format("osTicket/osTicket/issues/2519"), "en", None),
    ("SMTP[DATA]: < 435 Unable to authenticate at present\\r\\n", "server.temporary_failure",
     GH.format("RainLoop/rainloop-webmail/issues/1373"), "en", None),
    ("IMAP[DATA]: < TAG1 NO [AUTHENTICATIONFAILED] (#MBR1212) Incorrect username or password.\\r\\n",
     "auth.app_password_required", GH.format("RainLoop/rainloop-webmail/issues/1354"), "en", None),
    ("IMAP command 'LOGIN <user> <pass>' returned an error: NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
     "auth.invalid_credentials", GH.format("LukeSmithxyz/mutt-wizard/issues/381"), "en", None),
    (("Error: Invalid credentials (Failure)\n    at Connection._resTagged (node_modules/imap/lib/Connection.js:1502:11)"
     "\n  type: 'no',\n  textCode: 'AUTHENTICATIONFAILED',\n  source: 'authentication'"),
     "auth.invalid_credentials", GH.format("mscdex/node-imap/issues/826"), "en", None),
    ("invalid IMAP credentials", "auth.invalid_credentials", GH.format("manusa/isotope-mail/issues/358"), "en", None),
    ("Error processing send-email job. Reason: certificate has expired", "tls.certificate_invalid",
     GH.format("docmost/docmost/issues/60"), "en", None),
    ("certificate Error messages: error:1416F086:SSL routines:tls_process_server_certificate:certificate verify failed",
     "tls.certificate_invalid", GH.format("usmannasir/cyberpanel/issues/971"), "en", None),
    ("SSL error connecting to mail.example.xyz: certificate has expired", "tls.certificate_invalid",
     GH.format("LukeSmithxyz/mutt-wizard/issues/695"), "en", None),
    (("lvl=error msg=\"error closing connection to SMTP server\" service=smtp err=\"x509: certificate is not valid for "
     "any names, but wanted to match example.com\""), "tls.certificate_invalid",
     GH.format("influxdata/kapacitor/issues/2139"), "en", None),
    ("Notifier SMTP client encountered error during cleanup: x509: certificate has expired or is not yet valid",
     "tls.certificate_invalid", GH.format("authelia/authelia/issues/3700"), "en", None),
    ("The remote certificate is invalid according to the validation procedure.", "tls.certificate_invalid",
     GH.format("bitwarden/server/issues/1218"), "en", None),
    (("Error in curl_fetch_memory(smtp_server, handle = h) : \n  schannel: next InitializeSecurityContext failed: "
     "SEC_E_CERT_EXPIRED (0x80090328)"), "tls.certificate_invalid", GH.format("olafmersmann/sendmailR/issues/7"), "en",
     None),
    (("A problem occurred while sending the email. Please revise your settings. (Error: Connection could not be "
     "established with host mail.example.com :stream_socket_client(): SSL operation failed with code 1. OpenSSL "
     "Error messages: error:1416F086:SSL routines:tls_process_server_certificate:certificate verify failed)"),
     "tls.certificate_invalid", GH.format("nextcloud/server/issues/31375"), "en", None),
    ("Error sending email Error: getaddrinfo EAI_AGAIN smtp.protonmail.ch", "net.host_not_found",
     GH.format("lukevella/rallly/issues/2227"), "en", None),
    ("SMTP send:  NOT OK(Connection failed: (Code: -1))", "net.connection_failed",
     GH.format("roundcube/roundcubemail/issues/9872"), "en", None),
    ("Error SMTP(): Connection with server fail", "net.connection_failed",
     GH.format("Purelymail/purelymail-issues/issues/328"), "en", None),
    ("Creating account failed: Connection to IMAP at imap.example.net:993 failed. Error connecting to mail server.",
     "net.connection_failed", GH.format("nextcloud/mail/issues/4769"), "en", None),
    (("A problem occurred while sending the email. Please revise your settings. (Error: Email could not be sent. Check "
     "your mail server log)"), "unknown", GH.format("nextcloud/all-in-one/issues/5773"), "en", None),
    ("SMTP -> ERROR: Failed to connect to server: Connection timed out (110)", "net.timeout",
     GH.format("PHPMailer/PHPMailer/issues/524"), "en", None),
    (("Connection failed. Error #2: stream_socket_client(): Unable to connect to smtp.gmail.com:25 (Connection timed "
     "out)"), "net.timeout", GH.format("ChurchCRM/CRM/issues/7892"), "en", None),
    (("Connection could not be established with host \"smtp.example.com:587\": stream_socket_client(): Unable to "
     "connect to smtp.example.com:587 (Connection timed out)"), "net.timeout",
     GH.format("nextcloud/server/issues/37329"), "en", None),
    ("{ [Error: timedout while connecting to smtp server] code: 4, smtp: undefined }", "net.timeout",
     GH.format("forwardemail/email-templates/issues/158"), "en", None),
    ("SMTP connection failed (Exception: User timeout caused connection failure.)", "net.timeout",
     GH.format("globaleaks/globaleaks-whistleblowing-software/issues/3413"), "en", None),
    ("Connecting to gmail-smtp-in.l.google.com [173.194.193.26]:25 ... failed: Connection refused",
     "net.connection_refused", GH.format("asciinema/asciinema-server/issues/357"), "en", None),
    ("SMTPSenderRefused(451, b'4.4.2 Timeout waiting for data from client.', 'notifications@example.org')",
     "server.temporary_failure", GH.format("mozilla/sumo/issues/2215"), "en", None),
    ("SmtpSender: Error sending message MailKit.Net.Smtp.SmtpCommandException: 4.4.1 Connection timed out",
     "server.temporary_failure", GH.format("jstedfast/MailKit/issues/453"), "en", None),
    ("SMTPConnection error\nError: Message failed: 421 4.4.2 XXX.XXX  Error: timeout exceeded",
     "server.temporary_failure", GH.format("LAB-MI/candilibV2/issues/837"), "en", None),
    (("status=deferred (host hardcoding.nl[37.97.173.139] said: 452 4.3.1 Insufficient system storage (in reply to "
     "MAIL FROM command))"), "server.temporary_failure", GH.format("svthalia/concrexit/issues/238"), "en", None),
    (("SMTP error from remote mail server after end of data:\n    550 eKqgqwhcolWFfeKqgqLWon - <info@example.co.uk> "
     "sender rejected AUP#CDRBL"), "send.rejected_as_spam", GH.format("roundcube/roundcubemail/issues/9127"), "en",
     None),
    (("SMTP error from remote mail server after RCPT TO:<klant@example.com>:\n    554 5.7.1 Service unavailable; "
     "Client host [XX.XX.XXX.XX] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?XX.XX.XXX.XX"),
     "send.rejected_as_spam", GH.format("YunoHost-Apps/roundcube_ynh/issues/91"), "en", None),
    (("permanent: 5.7.1 Service unavailable, Client host [18.202.176.17] blocked using Spamhaus. To request removal "
     "from this list see https://www.spamhaus.org/query/ip/18.202.176.17 (AS3130)."), "send.rejected_as_spam",
     GH.format("reacherhq/check-if-email-exists/issues/891"), "en", None),
    (("<klant@free.fr>: delivery temporarily suspended: host mx2.free.fr[212.27.42.59] refused to talk to me: 421 "
     "Refused. Your reverse DNS entry does not resolve."), "send.rejected_as_spam",
     GH.format("osm-fr/infrastructure/issues/603"), "en", None),
    (("<klant@neuf.fr>: host smtp-in.sfr.fr[93.17.128.123] refused to talk to me: 554 5.7.1 Client host rejected: "
     "cannot find your reverse hostname, [193.200.42.126]"), "send.rejected_as_spam",
     GH.format("osm-fr/infrastructure/issues/603"), "en", None),
    (("Diagnostic-Code: smtp; 554 IP=188.xxx.xxx.xxx - A problem occurred. (Ask your postmaster for help or to "
     "contact tosa@rx.t-online.de to clarify.) (BL)"), "send.rejected_as_spam",
     GH.format("mailcow/mailcow-dockerized/issues/2639"), "en", None),
    (("554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit "
     "https://postmaster.gmx.net/de/case?c=r0735&i=ip&v=185.79.233.85&r=1McHM6-1srIWI1qNo-00dbDH (in reply to end of "
     "DATA command)"), "send.rejected_as_spam", GH.format("hitobito/hitobito/issues/2671"), "en", None),
    (("NOQUEUE: reject: RCPT from somedomain[IP]: 554 5.7.1 <user@name>: Relay access denied; "
      "from=<mailer@somedomain> to=<user@name> proto=ESMTP helo=<mail.somedomain>"), "send.relay_denied",
     GH.format("anonaddy/anonaddy/issues/415"), "en", None),
    (("<mailman@example.fr>: host spool.mail.gandi.net[217.70.178.1] said: 554 5.7.1 <mailman@example.fr>: Relay "
      "access denied (in reply to RCPT TO command)"), "send.relay_denied",
     GH.format("YunoHost-Apps/mailman_ynh/issues/12"), "en", None),
    ("Failed to forward message: Error: MAIL FROM failed: '550 Authentication is required for relay'",
     "send.relay_denied", GH.format("4IceG/luci-app-sms-tool-js/issues/45"), "en", None),
    (("reject: RCPT from mailcowdockerized_sogo-mailcow_1.mailcowdockerized_mailcow-network[172.22.1.248]: 550 5.1.1 "
     "<raum@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<me@example.org> "
     "to=<raum@example.org> proto=ESMTP helo=<578944bce8f6>"), "send.recipient_unknown",
     GH.format("mailcow/mailcow-dockerized/issues/2691"), "en", None),
    ("SMTP connection failed (Exception: 550 No recipients accepted\nklant@example.gr: 550 No Such User Here",
     "send.recipient_unknown", GH.format("globaleaks/globaleaks-whistleblowing-software/issues/3413"), "en", None),
    (("Could not send message: Message could not be delivered - the address was not found, is unknown, or is not "
     "receiving messages."), "send.recipient_unknown", GH.format("nextcloud/mail/issues/9498"), "en", None),
    (("Error Domain=mailcore Code=10 \"Mailbox unavailable\" UserInfo=0xb81d9c0 {NSLocalizedDescription=Mailbox "
     "unavailable}"), "unknown", GH.format("MailCore/MailCore/issues/57"), "en", None),
    ("550 Command Rejected", "unknown", GH.format("substack/node-smtp-protocol/issues/50"), "en", None),
    ("Error: Invalid greeting. response=554 Local Policy Violation: 554 Local Policy Violation", "unknown",
     GH.format("nodemailer/nodemailer/issues/1257"), "en", None),
    (("NOQUEUE: reject: RCPT from unknown[192.0.2.44]: 554 5.7.1 <myemail@mycompany.com>: Sender address rejected: "
     "Access denied; from=<myemail@mycompany.com> to=<stephen@example.org> proto=ESMTP "
      "helo=<mx0a-001b2d01.pphosted.com>"),
     "unknown", GH.format("Mailu/Mailu/issues/656"), "en", None),
    ("User me@site.com has exceeded its 24-hour sending limit. Messages to 25 recipients out of 25",
     "send.daily_limit_reached", GH.format("nodemailer/nodemailer/issues/1137"), "en", None),
    (("|------------------------- Failed addresses follow: ---------------------|\n <example@t-online.de>\n   "
      "552 5.2.2 <example@t-online.de> Quota exceeded (mailbox for user is full)"), "send.recipient_mailbox_full",
     GH.format("sisimai/set-of-emails/issues/30"), "en", None),
    (("553-SPF (Sender Policy Framework) domain authentication fail. Refer to the Troubleshooting page at "
     "http://www.symanteccloud.com/troubleshooting for more information. (#5.7.1)"), "send.rejected_as_spam",
     GH.format("sisimai/p5-sisimai/issues/467"), "en", None),
    ("<XXXXXXXX (expanded from <depotviewer@open4me.de>): User unknown in\n    virtual alias table",
     "send.recipient_unknown", GH.format("littleyoda/hibiscus.depotviewer/issues/67"), "en", None),
    ("smtp; 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record",
     "send.rejected_as_spam", GH.format("LukeSmithxyz/emailwiz/issues/82"), "en", None),
    ("550 Mailbox not found or access denied", "send.recipient_unknown", GH.format("jordan-wright/email/issues/97"),
     "en", None),
    (("5.0.0 Error: transaction failed, blame it on the weather: cannot send message: [2511] Recipient could not be "
     "found"), "send.recipient_unknown", GH.format("emersion/hydroxide/issues/208"), "en", None),
    (("<magdeburg@softwerkskammer.org>: host hyrrokkin.uberspace.de[185.26.156.210] said: 550 "
     "magdeburg@softwerkskammer.org That recipient is not allowed (in reply to RCPT TO command)"),
     "send.recipient_unknown", GH.format("softwerkskammer/Agora/issues/1420"), "en", None),
    (("Address not found\nYour message wasn't delivered to shlomi@sdrori.com.ogcs because the domain sdrori.com.ogcs "
     "couldn't be found. Check for typos or unnecessary spaces and try again."), "send.recipient_unknown",
     GH.format("phw198/OutlookGoogleCalendarSync/issues/2147"), "en", None),
    ("transient: 4.1.2 <me@example.com>: Recipient address rejected: Domain not found", "send.recipient_unknown",
     GH.format("chatmail/core/issues/2095"), "en", None),
    ("OCA\\Mail\\Exception\\ServiceException: Could not send message: RCPT first", "unknown",
     GH.format("nextcloud/mail/issues/6382"), "en", None),
    # --- English: hosting providers' help pages ---------------------------------------------------------
    (("User’s Disk Quota Exceeded.\nSorry, your message cannot be delivered as the recipient has exceeded their disk "
     "space limit for email."), "send.recipient_mailbox_full",
     "https://pinzweb.at/knowledge-base/das-postfach-ist-voll/", "en", None),
    ("552 sorry, that message size exceeds my databytes limit", "send.message_too_large",
     "http://www.winkelb.com/index.php?id=webdesign-fehler552", "en", None),
    (("benutzer@falsche-domain.de: Host or domain name not found. Name service error for name=falsche-domain.de "
     "type=A: Host not found"), "send.recipient_unknown",
     "https://webgo.de/faq/fehlermeldung-undelivered-mail-returned-to-sender-was-kann-ich-tun", "en", None),
    (("test@richtige-domain.de: host pop.ganeba.de[123.123.123.123] said: 550 5.1.1 test@richtige-domain.de: Recipient "
     "address rejected: User unknown in virtual alias table (in reply to RCPT TO command)"), "send.recipient_unknown",
     "https://webgo.de/faq/fehlermeldung-undelivered-mail-returned-to-sender-was-kann-ich-tun", "en", None),
    (("benutzer@zieldomain.de: host pop.zieldomain.de [123.123.123.123] said: 554 5.7.1 benutzer@zieldomain.de: "
     "Recipient address rejected: Relay access denied (in reply to RCPT TO command)"), "send.relay_denied",
     "https://webgo.de/faq/fehlermeldung-undelivered-mail-returned-to-sender-was-kann-ich-tun", "en", None),
    (("Delivery to the following recipient failed permanently:\n\n     [email del destinatario]\n\nThe error that the "
     "other server returned was:\n550 5.1.1: Recipient address rejected: undeliverable address."),
     "send.recipient_unknown",
     "https://webdiretto.it/messaggio-non-recapitato-perche-la-email-torna-indietro-risolvere-problema/", "en", None),
]
