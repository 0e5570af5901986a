"""Replies collected in session 9 for issue 18: one growth batch aimed at the seed languages, measured once.

The brief asked for at least 50 real replies in nl/de/fr/it. This batch falls far short of that: it has 30 replies,
only 5 of them in the seed languages (de 3, fr 1, it 1; en 25). The search tools' stored help pages and issue
trackers turned out to be mined already: German, French, Italian and Dutch provider help pages (web.de, GMX, IONOS,
Strato, T-Online, goneo, Libero, Virgilio, Aruba, Outlook.com's Italian page, KPN, Ziggo, carerix, dation, weboke,
Orange/La Poste) quote replies the corpus already holds, or quote English server texts; the localised tables of
Gmail's and Microsoft's SMTP replies found (support.google.com/a/answer/3726730?hl=de, learn.microsoft.com/de-de …)
are translations of English server texts that no server sends, and were left out on purpose, like machine-translated
help pages (GoDaddy's "Wir haben die Seite für Sie so gut wie möglich übersetzt"). What was found in the seed
languages are Exchange's own localised non-delivery texts and localised client/OS errors that users pasted into
issue trackers (session 8's leads among them); the English replies come from the same searches (mail libraries' and
self-hosted products' issue trackers, one German hosting page).

Each reply is labelled by what fixes it for the user (README.md, "Labelling rules"), deduplicated against the corpus
(same text once addresses, IP addresses and host names are masked; also substrings either way), committed before
``mailport explain`` first ran on it and measured once with ``measure_batch.py session9`` (README.md, "Session 9");
only after that used as training data. ``build.py`` adds them with ``"session9": true``. Placeholders stand where
the source had a user's address; a reply's wording and codes are as the source gives them.
"""

from __future__ import annotations

GH = "https://github.com/{}"

BATCH: list[tuple[str, str, str, str, str | None]] = [
    # --- German ------------------------------------------------------------------------------------------
    # Exchange Online's German NDR (session 8's lead): the recipient's mailbox does not exist on that domain.
    (("Ihre Nachricht an empfaenger@swipnet.se konnte nicht zugestellt werden.\n--\nempfaenger wurde "
      "nicht in swipnet.se gefunden."),
     "send.recipient_unknown", GH.format("fschulze/jumpnbump/issues/3"), "de", None),
    # Exchange's German user text for a full mailbox, as a German user pasted it.
    (("Das Postfach des Empfängers ist voll und kann zurzeit keine Nachrichten annehmen. Versuchen Sie "
      "zu einem späteren Zeitpunkt noch mal, Ihre Nachricht zu senden, oder wenden Sie sich direkt an "
      "den Empfänger."),
     "send.recipient_mailbox_full", GH.format("corona-warn-app/cwa-quicktest-onboarding/issues/47"), "de", None),
    # Exchange Online's German diagnostic section (session 8's lead): the delivery expired, the far side refusing
    # connections the whole time; the sending server has given up.
    (("Diagnoseinformationen für Administratoren:\n\nGenerierender Server: "
      "AS2P250MB1014.EURP250.PROD.OUTLOOK.COM\nEmpfangender Server: "
      "AS2P250MB1014.EURP250.PROD.OUTLOOK.COM\nkalender@fire.fundersclub.com\nServer at "
      "AS2P250MB1014.EURP250.PROD.OUTLOOK.COM returned '550 5.4.316 Message expired, connection "
      "refused(Socket error code 10061)'\nServer at fire.fundersclub.com (13.248.132.87) returned '450 "
      "4.4.316 Connection refused [Message=Socket error code 10061] "
      "[LastAttemptedServerName=fire.fundersclub.com] [LastAttemptedIP=13.248.132.87:25] "
      "[SmtpSecurity=-2;-2](Socket error code 10061)'"),
     "send.gave_up", GH.format("FundersClub/fire/issues/441"), "de", None),
    # --- French ------------------------------------------------------------------------------------------
    # Windows' French WSAEADDRNOTAVAIL (10049) inside a CMS's SMTP test: connecting failed, cause unstated.
    (("Rubedo can't connect to SMTP server : Connection could not be established with host [L'adresse "
      "demandée n'est pas valide dans son contexte. #10049]"),
     "net.connection_failed", GH.format("WebTales/rubedo/issues/959"), "fr", None),
    # --- Italian -----------------------------------------------------------------------------------------
    # Roundcube on an Italian Windows: WSAECONNREFUSED (10061) in Italian.
    (("SMTP Error: Connection failed: Failed to connect socket: Impossibile stabilire la connessione. "
      "Rifiuto persistente del computer di destinazione."),
     "net.connection_refused", GH.format("hmailserver/hmailserver/issues/341"), "it", None),
    # --- English: non-delivery reports and server replies --------------------------------------------------
    (("Delivery is delayed to these recipients or "
      "groups:\nbot@fire.fundersclub.com.herokudns.com\nSubject: Testing Bot\nThis message hasn't been "
      "delivered yet. Delivery will continue to be attempted.\n\nDiagnostic information for "
      "administrators:\nGenerating server: "
      "mx.syr.edu\n\nbot@fire.fundersclub.com.herokudns.com\nfire.fundersclub.com.herokudns.com\nRemote "
      "Server returned '554 5.4.0 <fire.fundersclub.com.herokudns.com #4.4.1>'"),
     "server.temporary_failure", GH.format("FundersClub/fire/issues/370"), "en", None),
    (("<klant@t-com.hr>: host pop-b12.t-com.hr[195.29.150.188] said: 552 4.2.2\n<klant@t-com.hr>: "
      "Mailbox full -- Quota exceeded (in reply to end of\nDATA command)"),
     "send.recipient_mailbox_full", GH.format("mysociety/alaveteli/issues/3252"), "en", None),
    (("Your message couldn't be delivered. Despite repeated attempts to contact the recipient's email "
      "system it didn't respond.\nContact the recipient by some other means (by phone, for example) and "
      "ask them to tell their email admin that it appears that their email system isn't accepting "
      "connection requests from your email system."),
     "send.gave_up", GH.format("forwardemail/free-email-forwarding/issues/142"), "en", None),
    (("recipient <klant@hilleltoronto.org> rejected: 550 5.7.1 Service unavailable; Client host "
      "[107.6.51.128 <-- barontel.com] blocked using FBLW15; To request removal from this list please "
      "forward this message to delist@messaging.microsoft.com"),
     "send.rejected_as_spam", GH.format("haraka/Haraka/issues/848"), "en", None),
    # Haraka's own bounce names no cause.
    (("Intended Recipients: <klant@wuliangroup.com>\nFailure Reason: Error: Some recipients failed: "
      "<klant@wuliangroup.com>"),
     "unknown", GH.format("haraka/Haraka/issues/848"), "en", None),
    (("<clerc@example.com>: host mail.example.com[80.11.178.84]\n    refused to talk to me: 554 5.7.1 "
      "You are not allowed to connect."),
     "send.rejected_as_spam", GH.format("mail-in-a-box/mailinabox/issues/1194"), "en", None),
    (("<root@richtigerhostname.your-server.de> (expanded from <root>): Host\n    or domain name not "
      "found. Name service error for\n    name=richtigerhostname.your-server.de type=A: Host not found"),
     "send.recipient_unknown", GH.format("mailcow/mailcow-dockerized/issues/1647"), "en", None),
    (("host 1234.mailserver.de[192.0.2.34] refused to talk to me: 450 4.7.1 [EAB] 554 IP=192.0.2.1 - A "
      "problem occurred."),
     "send.rejected_as_spam", "https://coviserver.de/e-mail-geblockt", "en", None),
    (("SMTP connection failed (Exception: 550 No recipients accepted\\nklant@fraudline.gr: 550 No Such "
      "User Here"),
     "send.recipient_unknown", GH.format("globaleaks/globaleaks-whistleblowing-software/issues/3413"), "en", None),
    (("SMTP sender refused, unable to reconnect. (421, b'4.4.2 qs51p00im-qukt01071702.me.com Error: "
      "timeout exceeded', 'myemail@icloud.com')"),
     "server.temporary_failure", GH.format("CZ-NIC/envelope/issues/35"), "en", None),
    (("MailKit.Net.Smtp.SmtpCommandException: 4.4.2 alfa3031.alfahosting-server.de Error: timeout "
      "exceeded"),
     "server.temporary_failure", GH.format("jstedfast/MailKit/issues/1540"), "en", None),
    ("Server responded with 451 Timeout waiting for client input",
     "server.temporary_failure", GH.format("nodemailer/nodemailer/issues/9"), "en", None),
    (('Expected response code 250 but got code "501", with message "501 mail from address must be same '
      'as authorization user "'),
     "send.sender_not_allowed", GH.format("ssrpanel/SSRPanel/issues/392"), "en", None),
    # --- English: client-side connection failures -----------------------------------------------------------
    ("Error message: Unable to connect due to active rejection by the target computer.",
     "net.connection_refused", GH.format("elsa-workflows/elsa-core/issues/5754"), "en", None),
    ("System.Net.Sockets.SocketException (11001): No such host is known.",
     "net.host_not_found", GH.format("jstedfast/MailKit/issues/1590"), "en", None),
    (("SMTP ERROR: Failed to connect to server: php_network_getaddresses: getaddrinfo failed: No address "
      "associated with hostname (0)"),
     "net.host_not_found", GH.format("PHPMailer/PHPMailer/issues/340"), "en", None),
    (("SMTP ERROR: Failed to connect to server: php_network_getaddresses: gethostbyname failed. errno=11 "
      "(0)"),
     "net.host_not_found", GH.format("PHPMailer/PHPMailer/issues/2609"), "en", None),
    ("Error: SMTP connection failure: SMTP failed to connect: io: timed out: timed out",
     "net.timeout", GH.format("deltachat/deltachat-desktop/issues/2969"), "en", None),
    (("ERROR: A connection attempt failed because the connected party did not properly respond after a "
      "period of time, or established connection failed because connected host has failed to respond "
      "46.21.153.246:25"),
     "net.timeout", GH.format("postalserver/postal/issues/1944"), "en", None),
    # --- English: added from the same searches ---------------------------------------------------------------
    (("System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client was not "
      "authenticated. The server response was: 5.7.0 Authentication Required."),
     "send.relay_denied", GH.format("dotnet/dotnet-api-docs/issues/11287"), "en", None),
    (("System.Net.Mail.SmtpException: Mailbox unavailable. The server response was: If MAIL FROM is "
      "local then you must authenticate"),
     "send.relay_denied", GH.format("andrewdavey/postal/issues/127"), "en", None),
    (("No SMTP servers were available for gmail.com. Tried gmail-smtp-in.l.google.com, "
      "alt1.gmail-smtp-in.l.google.com, alt2.gmail-smtp-in.l.google.com, "
      "alt3.gmail-smtp-in.l.google.com, and alt4.gmail-smtp-in.l.google.com"),
     "net.connection_failed", GH.format("postalserver/postal/issues/2334"), "en", None),
    (("Connection could not be established with host postal.example.com [php_network_getaddresses: "
      "getaddrinfo failed: Name or service not known #0]"),
     "net.host_not_found", GH.format("postalserver/postal/issues/994"), "en", None),
    # Gandi's documented replies (postmaster.gandi.net); RULE1_1 … RULE3_2 differ only by number, one is kept.
    ("Reject for policy reason. RULE3_2",
     "send.rejected_as_spam", "https://postmaster.gandi.net/", "en", None),
    ("blocked you maybe infected",
     "send.rejected_as_spam", "https://postmaster.gandi.net/", "en", None),
]
