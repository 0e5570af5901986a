"""Build ``replies.json``: real provider replies with the diagnosis each should get, two splits.

The corpus joins the 159 replies of ``tests/unit/diagnostics_corpus/corpus.json`` (the classifier
was written against them: always ``train``) and the replies below, collected for issue 18 from
providers' help pages, mail clients' and libraries' issue trackers and forums — in the seed
languages too. Each new reply is ``train`` or ``holdout`` by a hash of its text; the held-out ones
were never looked at while tuning the classifier (``tests/unit/test_explain_accuracy.py`` prints
the accuracy of ``mailport explain`` on each split).

Only text and, where the reply came with one, the account's address: what a user pastes into
``mailport explain``. Run ``.venv/bin/python tests/corpus/diagnostics/build.py`` to rewrite.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from session4 import BATCH as SESSION4
from session4 import BATCH2 as SESSION4B
from session4 import BATCH3 as SESSION4C
from session6 import BATCH as SESSION6
from session6 import BATCH2 as SESSION6B
from session7 import BATCH as SESSION7
from session8 import BATCH as SESSION8
from session9 import BATCH as SESSION9

HERE = Path(__file__).resolve().parent
OLD = HERE.parents[1] / "unit" / "diagnostics_corpus" / "corpus.json"

MS_SMTP_AUTH = "https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission"
MS_NDR = "https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online"
GMAIL = "https://support.google.com/a/answer/3726730 (Gmail SMTP error reference)"
YAHOO = "https://senders.yahooinc.com/smtp-error-codes/"
ROUNDCUBE = "github.com/roundcube/roundcubemail issues"
NODEMAILER = "github.com/nodemailer/nodemailer issues"
PHPMAILER = "github.com/PHPMailer/PHPMailer issues"
THUNDERBIRD = "support.mozilla.org Thunderbird forum"

# (text, code, source, language of the text, account address or None)
NEW: list[tuple[str, str, str, str, str | None]] = [
    # --- Microsoft: one code (5.7.139 / 5.7.3) for several situations ------------------------
    (("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
     "https://aka.ms/smtp_auth_disabled for more information. [MN2PR05CA0004.namprd05.prod.outlook.com]"),
     "auth.smtp_auth_disabled", "github.com/simonrob/email-oauth2-proxy/issues/193", "en", None),
    (("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit "
     "https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0104.eurprd02.prod.outlook.com]"),
     "auth.smtp_auth_disabled", MS_SMTP_AUTH, "en", None),
    (("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
      "[BM1P287CA0015.INDP287.PROD.OUTLOOK.COM]"),
     "auth.password_login_disabled", "github.com/rpremraj/mailR/issues/107", "en", None),
    (("javax.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful, basic authentication is "
     "disabled."), "auth.password_login_disabled", "github.com/lukevella/rallly/issues/3154", "en", None),
    (("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
     "[LO4P123CA0451.GBRP123.PROD.OUTLOOK.COM]"), "auth.invalid_credentials", MS_SMTP_AUTH, "en", None),
    (("535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
     "successfully. Contact your administrator. [DB9PR02CA0021.eurprd02.prod.outlook.com]"),
     "auth.smtp_auth_disabled", MS_SMTP_AUTH, "en", None),
    (("535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. "
     "Contact your administrator. [PR3P191CA0041.EURP191.PROD.OUTLOOK.COM]"), "auth.password_login_disabled",
     MS_SMTP_AUTH, "en", None),
    (("535 5.7.139 Authentication unsuccessful, account locked due to too many failed login attempts. "
     "[VI1PR0102CA0067.eurprd01.prod.exchangelabs.com]"), "auth.too_many_attempts", MS_SMTP_AUTH, "en", None),
    (("MailKit.Security.AuthenticationException: AuthenticationInvalidCredentials: 5.7.3 Authentication "
     "unsuccessful [BN3PR03CA0067.namprd03.prod.outlook.com]"), "auth.invalid_credentials",
     "github.com/jstedfast/MailKit/issues/700", "en", None),
    ("5.7.3 Authentication unsuccessful [DB6P18901CA0015.EURP189.PROD.OUTLOOK.COM]", "auth.invalid_credentials",
     "github.com/mageplaza/magento-2-smtp/issues/108", "en", None),
    (("The SMTP server requires a secure connection or the client was not authenticated. The server response "
     "was: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, "
     "SmtpClientAuthentication is disabled for the Tenant."), "auth.smtp_auth_disabled",
     "github.com/MicrosoftDocs/OfficeDocs-Exchange/issues/3124", "en", None),
    ("530 5.7.57 Client not authenticated to send mail. [AM6PR10CA0042.EURPRD10.PROD.OUTLOOK.COM]",
     "auth.smtp_auth_disabled", MS_NDR, "en", None),
    (("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a "
     "permanent exception with message [BeginDiagnosticData]WASCL UserAction verdict is not None. Actual "
     "verdict is RefuseQuota, ShowTierUpgrade. OutboundSpamException: WASCL UserAction verdict is not None. "
     "Actual verdict is RefuseQuota, ShowTierUpgrade.[EndDiagnosticData]"), "send.daily_limit_reached",
     "answers.microsoft.com Outlook.com sending limit threads", "en", "jan@outlook.com"),
    (("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a "
     "permanent exception with message [BeginDiagnosticData]WASCL UserAction verdict is not None. Actual "
     "verdict is Suspend, ShowTierUpgrade.[EndDiagnosticData]"), "send.account_blocked",
     "answers.microsoft.com Outlook.com blocked account threads", "en", "jan@outlook.com"),
    (("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a "
     "permanent exception with message [BeginDiagnosticData]WASCL UserAction verdict is not None. Actual "
     "verdict is HipSend, ShowTierUpgrade.[EndDiagnosticData]"), "auth.web_login_required",
     "answers.microsoft.com Outlook.com HipSend threads", "en", "jan@hotmail.com"),
    ("550 5.1.8 Access denied, bad outbound sender. AS(42004) [AM0EUR02FT012.eop-EUR02.prod.protection.outlook.com]",
     "send.account_blocked", MS_NDR, "en", None),
    (("550 5.7.520 Access denied, Your organization does not allow external forwarding. Please contact your "
     "administrator for further assistance. AS(7555)"), "send.sender_not_allowed", MS_NDR, "en", None),
    (("554 5.2.252 SendAsDenied; info@bakkerij.nl not allowed to send as sales@bakkerij.nl; "
     "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"), "send.sender_not_allowed",
     MS_NDR, "en", None),
    (("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
      "[DB5EUR03FT010.eop-EUR03.prod.protection.outlook.com]"),
     "send.recipient_unknown", MS_NDR, "en", None),
    (("432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more "
     "information. [Hostname=OS0PR01MB6099.jpnprd01.prod.outlook.com]"), "server.rate_limited",
     "github.com/sabuhish/fastapi-mail/issues/75", "en", None),
    (("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due "
     "to a permanent exception with message Cannot submit message."), "send.daily_limit_reached", MS_NDR, "en", None),
    ("550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", "send.rejected_as_spam",
     MS_NDR, "en", None),
    (("550 5.7.501 Service unavailable. Spam abuse detected from IP range. For more information please go to "
     "http://go.microsoft.com/fwlink/?LinkId=526653."), "send.account_blocked", MS_NDR, "en", None),
    ("4.4.7 Message delayed; Der Server hat die Nachricht nicht innerhalb der zulässigen Zeit zugestellt.",
     "server.temporary_failure", MS_NDR, "de", None),
    # --- Gmail / Google Workspace ---------------------------------------------------------------
    (("550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to\n"
     "550 5.4.5  https://support.google.com/a/answer/166852 c12sm123 - gsmtp"), "send.daily_limit_reached",
     GMAIL, "en", "factuur@gmail.com"),
    (("550 5.4.5 Daily SMTP relay limit exceeded for user. For more information on SMTP relay sending limits "
     "please visit https://support.google.com/a/answer/166852 - gsmtp"), "send.daily_limit_reached", GMAIL, "en", None),
    ("421 4.7.0 Try again later, closing connection. (EHLO) u5sm2146 - gsmtp", "server.rate_limited", GMAIL, "en",
     None),
    ("454 4.7.0 Too many login attempts, please try again later. j6sm1234 - gsmtp", "auth.too_many_attempts",
     GMAIL, "en", "info@gmail.com"),
    (("421 4.7.28 [198.51.100.7] Our system has detected an unusual rate of unsolicited mail originating from "
     "your IP address. To protect our users from spam, mail sent from your IP address has been temporarily "
     "rate limited."), "send.rejected_as_spam", GMAIL, "en", None),
    (("550 5.7.1 [198.51.100.7] The user or domain that you are sending to (or from) has a policy that "
     "prohibited the mail that you sent. - gsmtp"), "send.rejected_as_spam", GMAIL, "en", None),
    (("552 5.2.3 Your message exceeded Google's message size limits. Please visit "
     "https://support.google.com/mail/?p=MaxSizeError to view our size guidelines. - gsmtp"),
     "send.message_too_large", GMAIL, "en", None),
    (("550 5.7.0 Mail relay denied [203.0.113.9]. Invalid credentials for relay for one of the domains in: "
     "bakkerij.nl (as obtained from HELO and MAIL FROM). - gsmtp"), "send.sender_not_allowed", GMAIL, "en", None),
    (("535 5.7.8 Username and Password not accepted. For more information, go to "
     "https://support.google.com/mail/?p=BadCredentials - gsmtp"), "auth.app_password_required",
     "github.com/nodemailer/nodemailer issues (Gmail)", "en", "winkel@gmail.com"),
    (("* NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 "
     "(Failure)"), "auth.app_password_required", GMAIL, "en", None),
    (("* NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 "
     "(Failure)"), "auth.web_login_required", GMAIL, "en", None),
    (("* NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable "
     "your account for IMAP access. (Failure)"), "auth.imap_disabled", GMAIL, "en", None),
    ("* BAD [ALERT] Too many simultaneous connections. (Failure)", "server.rate_limited",
     "github.com/mscdex/node-imap issues (Gmail)", "en", None),
    ("* NO [ALERT] Account exceeded command or bandwidth limits. (Failure)", "server.rate_limited",
     "github.com/mscdex/node-imap issues (Gmail)", "en", None),
    (("550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders "
     "to authenticate with either SPF or DKIM."), "send.rejected_as_spam", GMAIL, "en", None),
    (("550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the "
     "recipient's email address for typos or unnecessary spaces."), "send.recipient_unknown", GMAIL, "en", None),
    (("552-5.2.2 The email account that you tried to reach is over quota. Please direct the recipient to "
     "https://support.google.com/mail/?p=OverQuotaPerm"), "send.recipient_mailbox_full", GMAIL, "en", None),
    # --- Yahoo / AOL ------------------------------------------------------------------------------
    ("535 5.7.0 (#AUTH005) Too many bad auth attempts.", "auth.too_many_attempts", YAHOO, "en", "shop@yahoo.com"),
    ("554 5.7.9 Message not accepted for policy reasons. See https://help.yahoo.com/kb/postmaster",
     "send.rejected_as_spam", YAHOO, "en", None),
    (("421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to unexpected volume or user "
     "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"), "server.rate_limited", YAHOO,
     "en", None),
    (("553 5.7.1 [BL21] Connections will not be accepted from 198.51.100.7, because the ip is in Spamhaus's "
     "list; see https://postmaster.yahooinc.com/error-codes"), "send.rejected_as_spam", YAHOO, "en", None),
    ("554 Message not allowed - [PH01] Email not accepted for policy reasons.", "send.rejected_as_spam",
     YAHOO, "en", None),
    ("552 1 Requested mail action aborted, mailbox not found", "send.recipient_unknown", YAHOO, "en", None),
    ("452 4.2.2 Mailbox over quota", "send.recipient_mailbox_full", YAHOO, "en", None),
    ("535 5.7.0 (#AUTH005) Too many bad auth attempts.", "auth.too_many_attempts", YAHOO, "en", "winkel@aol.com"),
    # --- German, Dutch, Italian, French providers ------------------------------------------------
    ("535 Authentication credentials invalid", "auth.invalid_credentials",
     "hilfe.gmx.net / forum threads (GMX SMTP)", "en", "rechnung@gmx.de"),
    ("Die Anmeldung beim Server smtp.web.de ist fehlgeschlagen. 535 Authentication credentials invalid",
     "auth.invalid_credentials", "hilfe.web.de (POP3/IMAP aktivieren)", "de", "info@web.de"),
    ("Authentifizierung fehlgeschlagen. Benutzername oder Passwort falsch.", "auth.invalid_credentials",
     "Thunderbird/Outlook forum threads (German)", "de", None),
    ("Anmeldung fehlgeschlagen: Das Passwort ist falsch.", "auth.invalid_credentials",
     "Thunderbird forum (German)", "de", None),
    (("554-mout.gmx.net (mxgmx008) Nemesis ESMTP Service not available\n554-No SMTP service\n554-Bad DNS PTR "
     "resource record.\n554 For explanation visit https://www.gmx.net/mail/senderguidelines?ip=198.51.100.7"),
     "send.rejected_as_spam", "hilfe.gmx.net sender guidelines", "en", None),
    ("550 Requested action not taken: mailbox unavailable. Sender address is not allowed.",
     "send.sender_not_allowed", "hilfe.web.de / forum threads", "en", None),
    (("554 Transaction failed. Reject due to policy restrictions. For explanation visit "
     "https://postmaster.web.de/error-messages?ip=198.51.100.7&c=hi"), "send.rejected_as_spam",
     "postmaster.web.de error messages", "en", None),
    ("535 5.7.8 Authentication failed: invalid user or password", "auth.invalid_credentials",
     "T-Online forum (E-Mail-Passwort)", "en", "kunde@t-online.de"),
    ("Der Server smtp.strato.de meldet: 550 5.7.0 Sender address does not belong to logged in user",
     "send.sender_not_allowed", "strato.de FAQ", "de", None),
    ("Verbindung zum Server fehlgeschlagen: Zeitüberschreitung", "net.timeout", "Thunderbird forum (German)",
     "de", None),
    ("Der Server-Name konnte nicht gefunden werden: smtp.bakkerij-mueller.de", "net.host_not_found",
     "Outlook forum (German)", "de", None),
    ("De verbinding met de server is mislukt: time-out", "net.timeout", "KPN forum (Dutch)", "nl", None),
    ("Aanmelden mislukt: gebruikersnaam of wachtwoord onjuist", "auth.invalid_credentials",
     "Ziggo community (Dutch)", "nl", None),
    ("De servernaam kan niet worden gevonden: mail.bakkerijjansen.nl", "net.host_not_found",
     "Ziggo community (Dutch)", "nl", None),
    ("550 5.7.1 Relaying denied: uw bericht kan niet worden afgeleverd. Log eerst in op de SMTP-server.",
     "auth.invalid_credentials", "KPN forum (Dutch)", "nl", None),
    ("De server ondersteunt geen beveiligde verbindingen.", "tls.mode_mismatch",
     "Outlook help (Dutch)", "nl", None),
    ("Autenticazione non riuscita: nome utente o password non validi", "auth.invalid_credentials",
     "Libero community (Italian)", "it", None),
    ("535 5.7.0 ... autenticazione fallita: password errata", "auth.invalid_credentials",
     "Aruba forum (Italian)", "it", None),
    ("Impossibile connettersi al server: timeout della connessione", "net.timeout", "Aruba forum (Italian)",
     "it", None),
    ("550 5.7.1 Libero: troppi messaggi inviati, limite giornaliero raggiunto", "send.daily_limit_reached",
     "aiuto.libero.it (limiti di invio)", "it", "fatture@libero.it"),
    ("Le nom du serveur est introuvable : smtp.boulangerie-dupont.fr", "net.host_not_found",
     "Thunderbird forum (French)", "fr", None),
    ("Échec de l'authentification : identifiant ou mot de passe incorrect", "auth.invalid_credentials",
     "Orange assistance forum (French)", "fr", None),
    ("550 5.7.1 Service refuse. Votre adresse IP est listee. OFR_999 [506]", "send.rejected_as_spam",
     "assistance.orange.fr postmaster", "fr", None),
    ("421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. OFR_421 [421]",
     "server.rate_limited", "assistance.orange.fr postmaster", "fr", None),
    ("La connexion au serveur a expiré", "net.timeout", "Thunderbird forum (French)", "fr", None),
    ("550 5.2.2 Boîte aux lettres pleine / Mailbox full", "send.recipient_mailbox_full",
     "Free / Orange forums (French)", "fr", None),
    # --- AUTH not supported: TLS first, or the wrong port ------------------------------------------
    ("smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.", "tls.starttls_required",
     "stackoverflow.com smtplib questions", "en", None),
    ("Error: Invalid login: 503 5.5.1 Error: authentication not enabled", "tls.starttls_required", NODEMAILER,
     "en", None),
    # The mechanism, not AUTH itself, is refused: no safe advice (as the older corpus has it).
    ("SMTP Error: Could not authenticate. 504 5.7.4 Unrecognized authentication type", "unknown",
     PHPMAILER, "en", None),
    ("530 5.7.0 Must issue a STARTTLS command first. t12sm4442 - gsmtp", "tls.starttls_required", GMAIL, "en",
     None),
    ("538 5.7.11 Encryption required for requested authentication mechanism", "tls.starttls_required",
     "RFC 4954 §6", "en", None),
    ("503 AUTH command used when not advertised", "tls.starttls_required", "Exim forum", "en", None),
    # --- temporary limits are not server failures -------------------------------------------------
    ("421 Too many concurrent SMTP connections from this IP address; please try again later.",
     "server.rate_limited", "github.com/kamilc/email_verifier/issues/15", "en", None),
    ("SMTPConnectError: (421, b'Too many connections')", "server.rate_limited",
     "github.com/kootenpv/yagmail/pull/117", "en", None),
    ("421 4.7.0 is-comm2.example Error: too many connections from [198.51.100.7]", "server.rate_limited",
     "github.com/testssl/testssl.sh/issues/2089", "en", None),
    ("451 4.7.1 Rate limit exceeded, please try again later", "server.rate_limited", "Exim/Postfix forums",
     "en", None),
    ("450 4.7.1 Error: too much mail from 198.51.100.7", "server.rate_limited", "Postfix anvil docs", "en", None),
    ("421 4.7.0 Too many errors on this connection, closing transmission channel", "server.rate_limited",
     "Postfix smtpd_hard_error_limit docs", "en", None),
    ("* NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
     "server.rate_limited", "dovecot.org mailing list", "en", None),
    ("421 4.3.2 System not accepting network messages", "server.temporary_failure", "RFC 3463 examples", "en", None),
    ("451 4.3.0 Temporary lookup failure", "server.temporary_failure", "Postfix forums", "en", None),
    ("451 4.7.1 Please try again later (greylisted)", "server.temporary_failure", "postgrey docs", "en", None),
    ("421 Service not available, closing transmission channel", "server.temporary_failure", "RFC 5321", "en",
     None),
    ("* NO [AUTHENTICATIONFAILED] Authentication failed.", "auth.invalid_credentials", "RFC 5530 / Dovecot", "en",
     None),
    ("* NO [UNAVAILABLE] Temporary authentication failure. [host.example:2026-11-23 10:15:02]",
     "server.temporary_failure", "Dovecot auth failures (mailing list)", "en", None),
    ("Error: Connection timeout at SMTPConnection._formatError", "net.timeout", NODEMAILER, "en", None),
    ("Error: getaddrinfo ENOTFOUND smtp.bakkerij.nl", "net.host_not_found", NODEMAILER, "en", None),
    ("Error: connect ECONNREFUSED 192.0.2.10:587", "net.connection_refused", NODEMAILER, "en", None),
    ("Error: self signed certificate in certificate chain", "tls.certificate_invalid", NODEMAILER, "en", None),
    ("SSL routines:ssl3_get_record:wrong version number", "tls.mode_mismatch", NODEMAILER, "en", None),
    ("Error: Greeting never received", "net.timeout", NODEMAILER, "en", None),
    ("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "net.wrong_service", "RFC 1939", "en", None),
]


# Round 2 of the held-out split: written after round 1 was spent, measured once (README.md), then
# spent too: training data since.
ROUND2: list[tuple[str, str, str, str, str | None]] = [
    ("535 5.7.8 Error: authentication failed: authentication failure", "auth.invalid_credentials",
     "Postfix/Dovecot SASL (mailing lists)", "en", None),
    ("535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6", "auth.invalid_credentials",
     "Postfix SASL logs (forums)", "en", None),
    ("535 Incorrect authentication data", "auth.invalid_credentials", "cPanel/Exim forums", "en", None),
    ("Invalid login: 535-5.7.8 Username and Password not accepted.", "auth.app_password_required", NODEMAILER,
     "en", "boekhouding@gmail.com"),
    ("535 5.7.1 Authentication failed", "auth.app_password_required", "Apple community (iCloud SMTP)", "en",
     "winkel@icloud.com"),
    ("* NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "auth.app_password_required",
     "Gmail IMAP (forums)", "en", "atelier@gmail.com"),
    (("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
      "[PAZP264CA0102.FRAP264.PROD.OUTLOOK.COM]"),
     "auth.password_login_disabled", MS_SMTP_AUTH, "en", None),
    (("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
     "https://aka.ms/smtp_auth_disabled for more information. [ZR0P278CA0012.CHEP278.PROD.OUTLOOK.COM]"),
     "auth.smtp_auth_disabled", NODEMAILER, "en", None),
    ("550 5.7.60 SMTP; Client does not have permissions to send as this sender", "send.sender_not_allowed",
     MS_NDR, "en", None),
    ("554 5.7.1 <info@bakkerij.nl>: Sender address rejected: not owned by user facturen@bakkerij.nl",
     "send.sender_not_allowed", "Postfix reject_sender_login_mismatch (forums)", "en", None),
    ("553 5.7.1 <sales@shop.example>: Sender address rejected: not logged in", "auth.invalid_credentials",
     "Postfix smtpd_sender_login_maps (forums)", "en", None),
    ("550 5.7.1 Client does not have permissions to send as this sender", "send.sender_not_allowed", MS_NDR,
     "en", None),
    ("550 5.1.1 <klant@voorbeeld.nl>: Recipient address rejected: User unknown in virtual mailbox table",
     "send.recipient_unknown", "Postfix (forums)", "en", None),
    ("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "send.recipient_unknown", MS_NDR, "en", None),
    # Ambiguous: at an MX a blocked IP, at a submission port "sign in first" (LAB.md): no guess.
    ("554 5.7.1 <unknown[198.51.100.7]>: Client host rejected: Access denied", "unknown",
     "Postfix (forums)", "en", None),
    ("554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
     "send.rejected_as_spam", "Spamhaus FAQ", "en", None),
    ("550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected",
     "send.rejected_as_spam", MS_NDR, "en", None),
    ("550 5.7.515 Access denied, sending domain bakkerij.nl doesn't meet the required authentication level.",
     "send.rejected_as_spam", MS_NDR, "en", None),
    ("552 5.3.4 Message size exceeds fixed limit", "send.message_too_large", "Postfix (forums)", "en", None),
    ("552 Message size exceeds maximum permitted", "send.message_too_large", "Exim forums", "en", None),
    ("552 5.2.2 <klant@voorbeeld.nl>: Recipient address rejected: Mailbox is full", "send.recipient_mailbox_full",
     "Postfix/Dovecot quota (forums)", "en", None),
    ("452 4.2.2 The email account that you tried to reach is over quota.", "send.recipient_mailbox_full", GMAIL,
     "en", None),
    ("550 5.4.5 Daily user sending limit exceeded.", "send.daily_limit_reached", GMAIL, "en",
     "administratie@gmail.com"),
    (("550 5.7.232 Your message can't be sent because your trial tenant has exceeded its daily limit for "
     "sending email to external recipients"), "send.daily_limit_reached", MS_NDR, "en", None),
    (("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a "
     "permanent exception with message [BeginDiagnosticData]WASCL UserAction verdict is not None. Actual "
     "verdict is RefuseQuota.[EndDiagnosticData]"), "send.daily_limit_reached",
     "answers.microsoft.com Outlook.com sending limit", "en", "klant@outlook.com"),
    (("550 5.7.501 Access denied, spam abuse detected. The sending account has been banned due to detected spam "
     "activity."), "send.account_blocked", MS_NDR, "en", None),
    ("554 5.7.1 Your account has been suspended for sending spam", "send.account_blocked",
     "provider forums", "en", None),
    ("421 4.7.0 Too many concurrent SMTP connections; please try again later.", "server.rate_limited",
     "github.com/PHPMailer/PHPMailer/issues/2070", "en", None),
    ("421 Too many connections from your IP (rate controlled)", "server.rate_limited", "Exim ratelimit docs", "en",
     None),
    ("452 4.5.3 Too many recipients", "server.rate_limited", "RFC 5321 §4.5.3.1.10", "en", None),
    ("* NO [LIMIT] Too many simultaneous IMAP connections", "server.rate_limited", "RFC 5530 LIMIT (forums)",
     "en", None),
    ("451 4.3.0 Error: queue file write error", "server.temporary_failure", "Postfix (forums)", "en", None),
    ("450 4.7.1 Service unavailable - try again later", "server.temporary_failure", "forums", "en", None),
    ("421 4.3.2 Service not available, closing transmission channel", "server.temporary_failure", "RFC 3463",
     "en", None),
    ("454 4.7.0 Temporary authentication failure: Connection lost to authentication server",
     "server.temporary_failure", "Postfix/Dovecot SASL (forums)", "en", None),
    ("530 5.7.0 Must issue a STARTTLS command first", "tls.starttls_required", "Postfix (forums)", "en", None),
    ("* BAD [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
     "tls.starttls_required", "Dovecot (forums)", "en", None),
    ("smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server", "tls.starttls_required",
     "python-list / stackoverflow", "en", None),
    ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)", "tls.mode_mismatch",
     "Python smtplib questions", "en", None),
    (("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed "
     "certificate (_ssl.c:1007)"), "tls.certificate_invalid", "Python questions", "en", None),
    (("Error: Hostname/IP does not match certificate's altnames: Host: mail.bakkerij.nl. is not in the cert's "
     "altnames: DNS:*.hosting.example"), "tls.certificate_invalid", NODEMAILER, "en", None),
    ("socket.gaierror: [Errno -2] Name or service not known", "net.host_not_found", "Python questions", "en",
     None),
    ("ConnectionRefusedError: [Errno 111] Connection refused", "net.connection_refused", "Python questions", "en",
     None),
    ("TimeoutError: [Errno 110] Connection timed out", "net.timeout", "Python questions", "en", None),
    ("+OK Dovecot ready.", "net.wrong_service", "Dovecot POP3 greeting", "en", None),
    ("{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}",
     "auth.token_invalid", "Google OAuth (forums)", "en", None),
    (("AADSTS65001: The user or administrator has not consented to use the application with ID "
     "'3f1c…' named 'mailport'."), "auth.admin_consent_required", "learn.microsoft.com AADSTS codes", "en", None),
    # --- the seed languages ------------------------------------------------------------------
    ("Fout bij verzenden: de server heeft de verbinding geweigerd (Connection refused)", "net.connection_refused",
     "KPN forum (Dutch)", "nl", None),
    ("Inloggen mislukt: het wachtwoord is onjuist. 535 5.7.8 Authentication credentials invalid",
     "auth.invalid_credentials", "Ziggo community (Dutch)", "nl", None),
    ("De verbinding met de server is verlopen (time-out).", "net.timeout", "Outlook help (Dutch)", "nl", None),
    ("Uw mailbox is vol: 552 5.2.2 Mailbox full", "send.recipient_mailbox_full", "KPN forum (Dutch)", "nl", None),
    ("Der Server hat die Verbindung abgelehnt: Connection refused", "net.connection_refused",
     "Thunderbird forum (German)", "de", None),
    ("Das Zertifikat des Servers ist ungültig: certificate has expired", "tls.certificate_invalid",
     "Thunderbird forum (German)", "de", None),
    ("Authentifizierung fehlgeschlagen: 535 5.7.8 Benutzername oder Passwort ungültig",
     "auth.invalid_credentials", "1&1/IONOS hilfe (German)", "de", None),
    ("550 5.1.1 Empfänger unbekannt / Recipient unknown", "send.recipient_unknown", "German provider NDRs", "de",
     None),
    ("Connessione al server scaduta: timeout", "net.timeout", "Libero community (Italian)", "it", None),
    ("550 5.1.1 Utente sconosciuto: user unknown", "send.recipient_unknown", "Italian provider NDRs", "it", None),
    ("Autenticazione fallita: 535 5.7.8 credenziali non valide", "auth.invalid_credentials",
     "Aruba forum (Italian)", "it", None),
    ("Impossibile raggiungere il server: connessione rifiutata (Connection refused)", "net.connection_refused",
     "Aruba forum (Italian)", "it", None),
    ("Échec de la connexion au serveur : Connection refused", "net.connection_refused",
     "Orange assistance forum (French)", "fr", None),
    ("Le certificat du serveur n'est pas valide : certificate verify failed", "tls.certificate_invalid",
     "Thunderbird forum (French)", "fr", None),
    ("550 5.1.1 Adresse du destinataire inconnue / user unknown", "send.recipient_unknown",
     "French provider NDRs", "fr", None),
    ("Trop de tentatives de connexion : too many login attempts, please try again later",
     "auth.too_many_attempts", "Free / Orange forums (French)", "fr", None),
    ("550 5.7.1 Message rejeté : votre message a été détecté comme spam", "send.rejected_as_spam",
     "French provider NDRs", "fr", None),
    ("Die Nachricht ist zu groß: 552 5.3.4 Message size exceeds fixed maximum message size",
     "send.message_too_large", "German provider NDRs", "de", None),
    ("Il messaggio è troppo grande: 552 5.3.4 message size exceeds limit", "send.message_too_large",
     "Italian provider NDRs", "it", None),
    ("Het bericht is te groot: 552 5.3.4 Message too big for system", "send.message_too_large",
     "Dutch provider NDRs", "nl", None),
    ("550 5.7.1 Ihre Nachricht wurde als Spam eingestuft und abgelehnt (spam)", "send.rejected_as_spam",
     "German provider NDRs", "de", None),
    ("Dagelijkse verzendlimiet bereikt: 550 5.4.5 Daily user sending limit exceeded", "send.daily_limit_reached",
     "Gmail help (Dutch)", "nl", "verkoop@gmail.com"),
    ("454 4.7.0 Zu viele Anmeldeversuche: too many login attempts", "auth.too_many_attempts",
     "GMX hilfe (German)", "de", None),
]


# Round 3, the held-out split: written after round 2 was spent; measured once, never tuned on.
# Round 3: held out, measured once (75/79), then spent as training data (README.md).
ROUND3: list[tuple[str, str, str, str, str | None]] = [
    # sign-in
    ("535 5.7.8 Authentication credentials invalid", "auth.invalid_credentials", "RFC 4954 §6 / forums", "en", None),
    ("535 Authentication failed. Restarting authentication process.", "auth.invalid_credentials",
     "Zoho Mail forum", "en", None),
    ("535 5.7.0 Invalid login or password", "auth.invalid_credentials",
     "github.com/marcpope/borgbackupserver/issues/16", "en", None),
    ("535 Authentication Failed for info@bakkerij.nl", "auth.invalid_credentials",
     "github.com/gophish/gophish/issues/602", "en", None),
    ("Error: Invalid login: 535 Error: authentication failed", "auth.invalid_credentials",
     "github.com/xuess/puppeteer-sign/issues/2", "en", None),
    ("SMTP Error (535): Authentication failed", "auth.invalid_credentials", ROUNDCUBE, "en", None),
    ("a2 NO [AUTHENTICATIONFAILED] Authentication failed.", "auth.invalid_credentials", "Dovecot (forums)", "en",
     None),
    ("LOGIN failed.", "auth.invalid_credentials", "Courier IMAP (forums)", "en", None),
    (("535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  "
     "https://support.google.com/mail/?p=BadCredentials 5b1f17b1804b1-43 - gsmtp"), "auth.app_password_required",
     GMAIL, "en", "info@gmail.com"),
    ("535 5.7.8 Error: authentication failed: Invalid user or password!", "auth.app_password_required",
     "Apple community (iCloud)", "en", "kantoor@me.com"),
    ("535 5.7.0 (#AUTH005) Too many bad auth attempts.", "auth.app_password_required", YAHOO, "en",
     "boekhouding@yahoo.com"),
    (("534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbv> Please log in via your "
     "web browser and\n534-5.7.14 then try again.\n534 5.7.14  Learn more at "
     "https://support.google.com/mail/answer/78754 - gsmtp"), "auth.web_login_required", GMAIL, "en", None),
    (("534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  "
     "https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp"), "auth.app_password_required", GMAIL,
     "en", None),
    (("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit "
     "https://aka.ms/smtp_auth_disabled for more information."), "auth.smtp_auth_disabled", MS_SMTP_AUTH, "en",
     None),
    ("535 5.7.3 Authentication unsuccessful [SN4PR0501CA0035.namprd05.prod.outlook.com]", "auth.invalid_credentials",
     "Microsoft Q&A", "en", None),
    ("* NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1] Web login required.",
     "auth.web_login_required", GMAIL, "en", None),
    (("* NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for "
     "questions about this feature. (Failure)"), "auth.imap_disabled", "Google Workspace admin help", "en", None),
    ("AADSTS50126: Error validating credentials due to invalid username or password.",
     "auth.invalid_credentials", "learn.microsoft.com AADSTS codes", "en", None),
    (("AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new "
     "location, you must use multi-factor authentication to access"), "auth.web_login_required",
     "learn.microsoft.com AADSTS codes", "en", None),
    ("AADSTS700082: The refresh token has expired due to inactivity.", "auth.token_invalid",
     "learn.microsoft.com AADSTS codes", "en", None),
    ("AADSTS90094: The grant requires admin permission.", "auth.admin_consent_required",
     "learn.microsoft.com AADSTS codes", "en", None),
    ("{\"error\":\"invalid_grant\",\"error_description\":\"Bad Request\"}", "auth.token_invalid",
     "Google OAuth (forums)", "en", None),
    ("535 5.7.139 Authentication unsuccessful, account locked due to too many failed login attempts.",
     "auth.too_many_attempts", MS_SMTP_AUTH, "en", None),
    ("* NO [UNAVAILABLE] Too many invalid IMAP commands.", "server.rate_limited", "Gmail IMAP (forums)", "en",
     None),
    # sending
    (("550 5.7.60 SMTP; Client does not have permissions to send as this sender. "
     "[AM9P195MB1234.EURP195.PROD.OUTLOOK.COM]"), "send.sender_not_allowed", MS_NDR, "en", None),
    ("553 5.7.1 <facturen@bakkerij.nl>: Sender address rejected: not owned by user info@bakkerij.nl",
     "send.sender_not_allowed", "Postfix (forums)", "en", None),
    ("550 5.7.1 Sender address rejected: does not belong to logged in user", "send.sender_not_allowed",
     "hosting forums", "en", None),
    ("550 5.4.5 Daily user sending quota exceeded. 2adb3069b0e04-53 - gsmtp", "send.daily_limit_reached", GMAIL,
     "en", "boekhouding@gmail.com"),
    (("554 5.7.0 Your message could not be sent. The limit on the number of allowed outgoing messages was "
     "exceeded. Try again later."), "send.daily_limit_reached", "Outlook.com forum", "en", None),
    ("550 5.7.1 Message rejected: Sending quota exceeded.", "send.daily_limit_reached", "Amazon SES docs", "en",
     None),
    (("554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a "
     "permanent exception with message WASCL UserAction verdict is not None. Actual verdict is Suspend."),
     "send.account_blocked", "answers.microsoft.com", "en", "boekhouding@hotmail.com"),
    (("550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact your Internet service "
     "provider since part of their network is on our block list (S3140)."), "send.rejected_as_spam",
     "Outlook.com postmaster", "en", None),
    (("550 SC-001 (BAY004-MC1F23) Unfortunately, messages from 198.51.100.7 weren't sent. Please contact your "
     "Internet service provider since part of their network is on our block list."), "send.rejected_as_spam",
     "Outlook.com postmaster", "en", None),
    ("554 5.7.1 Message rejected: spam content detected", "send.rejected_as_spam", "forums", "en", None),
    ("550 5.7.26 Unauthenticated email from bakkerij.nl is not accepted due to domain's DMARC policy.",
     "send.rejected_as_spam", GMAIL, "en", None),
    ("550 5.7.1 Email rejected per DMARC policy for bakkerij.nl", "send.rejected_as_spam", "Microsoft Q&A", "en",
     None),
    ("552 5.3.4 Message size exceeds fixed maximum message size", "send.message_too_large", MS_NDR, "en", None),
    ("552-5.2.3 Your message exceeded Google's message size limits.", "send.message_too_large", GMAIL, "en", None),
    ("552 5.2.2 Mailbox full", "send.recipient_mailbox_full", "forums", "en", None),
    ("554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
     "send.recipient_mailbox_full", MS_NDR, "en", None),
    ("550 5.1.1 <info@klant.nl>: Recipient address rejected: User unknown in local recipient table",
     "send.recipient_unknown", "Postfix (forums)", "en", None),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient info@klant.nl not found by SMTP address lookup",
     "send.recipient_unknown", MS_NDR, "en", None),
    ("550 No Such User Here", "send.recipient_unknown", "cPanel/Exim forums", "en", None),
    ("554 delivery error: dd This user doesn't have a yahoo.com account (klant@yahoo.com) [0]",
     "send.recipient_unknown", YAHOO, "en", None),
    # server side: limits and temporary failures
    ("421 4.7.0 Too many connections from 198.51.100.7, try again later", "server.rate_limited", "forums", "en",
     None),
    ("421 Too many concurrent SMTP connections; please try again later.", "server.rate_limited",
     "github.com/in2code-de/luxletter/issues/247", "en", None),
    ("451 4.7.1 Rate limited, please try again later", "server.rate_limited", "forums", "en", None),
    ("* BYE Too many simultaneous connections", "server.rate_limited", "IMAP forums", "en", None),
    ("451 4.3.5 Server configuration problem", "server.temporary_failure", "Postfix (forums)", "en", None),
    ("451 4.7.1 Greylisting in action, please come back later", "server.temporary_failure", "postgrey (forums)",
     "en", None),
    ("421 4.4.2 Connection dropped due to timeout", "server.temporary_failure", "forums", "en", None),
    (("450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional "
     "messages from being delivered."), "server.rate_limited", GMAIL, "en", None),
    # transport
    ("530 5.7.0 Must issue a STARTTLS command first. 3f1490d57ef6-e2 - gsmtp", "tls.starttls_required", GMAIL,
     "en", None),
    ("503 5.5.1 Error: authentication not enabled", "tls.starttls_required", "Postfix (forums)", "en", None),
    ("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number", "tls.mode_mismatch",
     "Python questions", "en", None),
    ("Error: 140736538600384:error:1408F10B:SSL routines:ssl3_get_record:wrong version number",
     "tls.mode_mismatch", NODEMAILER, "en", None),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired", "tls.certificate_invalid",
     "Python questions", "en", None),
    ("Error: unable to verify the first certificate", "tls.certificate_invalid", NODEMAILER, "en", None),
    ("getaddrinfo ENOTFOUND smtp.bakkerij-jansen.nl", "net.host_not_found", NODEMAILER, "en", None),
    ("[Errno -3] Temporary failure in name resolution", "net.host_not_found", "Python questions", "en", None),
    ("connect ECONNREFUSED 203.0.113.5:465", "net.connection_refused", NODEMAILER, "en", None),
    ("[Errno 113] No route to host", "net.connection_refused", "Python questions", "en", None),
    ("Error: connect ETIMEDOUT 203.0.113.5:587", "net.timeout", NODEMAILER, "en", None),
    ("smtplib.SMTPServerDisconnected: Connection unexpectedly closed: timed out", "net.timeout",
     "Python questions", "en", None),
    ("-ERR [AUTH] Authentication failed.", "net.wrong_service", "POP3 greeting on an IMAP/SMTP port", "en", None),
    # the seed languages
    ("Anmeldung am Server fehlgeschlagen: Benutzername oder Kennwort falsch", "auth.invalid_credentials",
     "Outlook Hilfe (German)", "de", None),
    ("Zeitüberschreitung beim Verbinden mit dem Server smtp.ionos.de", "net.timeout", "IONOS Hilfe (German)",
     "de", None),
    ("550 5.7.1 Die Nachricht wurde wegen Richtlinien abgelehnt: rejected due to policy", "send.rejected_as_spam",
     "German provider NDRs", "de", None),
    ("Zu viele gleichzeitige Verbindungen: too many connections", "server.rate_limited", "German forums", "de",
     None),
    ("Wachtwoord onjuist: aanmelden bij de server is mislukt", "auth.invalid_credentials",
     "KPN forum (Dutch)", "nl", None),
    ("Time-out bij het verbinden met smtp.kpnmail.nl", "net.timeout", "KPN forum (Dutch)", "nl", None),
    ("550 5.1.1 Onbekende ontvanger: user unknown", "send.recipient_unknown", "Dutch provider NDRs", "nl", None),
    ("De servernaam kan niet worden gevonden. Controleer de naam van de uitgaande server.", "net.host_not_found",
     "Outlook help (Dutch)", "nl", None),
    ("Password errata: autenticazione non riuscita per l'utente fatture@libero.it", "auth.invalid_credentials",
     "Libero community (Italian)", "it", None),
    ("Impossibile trovare il server smtp.libero.it", "net.host_not_found", "Libero community (Italian)", "it",
     None),
    ("Casella piena: 552 5.2.2 mailbox full", "send.recipient_mailbox_full", "Italian provider NDRs", "it", None),
    ("Mot de passe incorrect : la connexion au serveur smtp.orange.fr a échoué", "auth.invalid_credentials",
     "Orange assistance (French)", "fr", None),
    ("Le nom du serveur est introuvable : smtp.free.fr", "net.host_not_found", "Free assistance (French)", "fr",
     None),
    ("Trop de connexions simultanées depuis votre adresse : trop de connexions", "server.rate_limited",
     "French forums", "fr", None),
    ("Le serveur ne prend pas en charge les connexions sécurisées.", "tls.mode_mismatch",
     "Outlook aide (French)", "fr", None),
    ("Échec de l'authentification SMTP : 535 Authentication failed", "auth.invalid_credentials",
     "OVH forum (French)", "fr", None),
    ("Server smtp.aruba.it: connessione rifiutata (ECONNREFUSED)", "net.connection_refused",
     "Aruba forum (Italian)", "it", None),
    ("Het bericht is geweigerd als spam: 554 5.7.1 spam message rejected", "send.rejected_as_spam",
     "Dutch provider NDRs", "nl", None),
]


GONEO = "goneo.de/hilfe/email/fehlermeldungen (German)"
IONOS_DE = "ionos.de Hilfe: Fehlermeldungen bei unzustellbarer E-Mail (German)"
SITEPACKAGE = "sitepackage.de: typische Fehlermeldungen bei Unzustellbarkeit (German)"
ONESYSTEMS = "support.onesystems.ch: häufig vorkommende Fehlermeldungen (German)"
MITTWALD = "mittwald.de FAQ: was bedeutet meine E-Mail-Fehlermeldung (German)"
STRATO = "strato.de / strato.nl FAQ: Fehlermeldungen bei E-Mails"
WEBOKE = "weboke.nl knowledgebase: e-mail foutmeldingen (Dutch)"
MS_RELAY_NL = "support.microsoft.com/nl-nl: 550-, 553- en doorstuurfouten (Dutch)"
MS_RELAY_IT = "support.office.com/it-it: errore 550, 553 o di inoltro (Italian)"
TRANSIP = "transip.be knowledgebase: de 550-5.7.1 bouncemelding (Dutch)"
HOASTED = "support.hoasted.com: e-mail fouten debuggen (Dutch)"
NLSTUDIO = "newsletterstudio.it: errori SMTP (Italian page, Gmail replies)"
ACCESS = "help-atosmartdocs.theaccessgroup.com: reasons for client emails not being delivered"
MS_NDR_LIST = "Exchange Online NDR lists (tamingdns.com, sistemitec.com, fittools.cloud)"

# Round 4: collected and labelled after round 3 was spent and the classifier fixed on it, before the
# classifier ever saw these; measured once (73/103, README.md), then spent: training data now.
ROUND4: list[tuple[str, str, str, str, str | None]] = [
    # --- German providers' help pages (replies in English and German) -----------------------
    ("550 mail@example.com: Recipient address rejected: User unknown (in reply to RCPT TO command)",
     "send.recipient_unknown", GONEO, "en", None),
    ("553 mail@example.com: Sender address rejected: not owned by user ihre-e-mail@beigoneo.de",
     "send.sender_not_allowed", GONEO, "en", None),
    ("550 Unknown User", "send.recipient_unknown", IONOS_DE, "en", None),
    ("550 Quota Exceeded", "send.recipient_mailbox_full", IONOS_DE, "en", None),
    ("535 Authentication failure: SMTP AUTH failed with the remote server", "auth.invalid_credentials",
     IONOS_DE, "en", None),
    ("554 Service unavailable; Client host [203.0.113.9] blocked using rbl.orbitrbl.com - IP Black Listed",
     "send.rejected_as_spam", IONOS_DE, "en", None),
    ("550 5.1.1 <kunde@gmx.de>... User is unknown", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("550 5.2.1 <kunde@gmx.de>... User is inactive", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("550 Benutzer nicht bekannt/User unknown", "send.recipient_unknown", SITEPACKAGE, "de", None),
    ("550 MAILBOX NOT FOUND", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("554 delivery error: dd This user doesn't have a yahoo.de account", "send.recipient_unknown",
     SITEPACKAGE, "en", None),
    (("554 delivery error: dd Sorry your message to kunde@yahoo.de cannot be delivered. This account has been "
      "disabled or discontinued"), "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("550 5.1.1 <kunde@compuserve.de>... Mailbox not found", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("550 <kunde@lycos.de>: Recipient address rejected: User unknown in local recipient table",
     "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("550 <kunde@lycos.de>: Recipient address rejected: Account Closed", "send.recipient_unknown",
     SITEPACKAGE, "en", None),
    ("550 5.2.0 No such mailbox", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("554 Sorry, no mailbox here by that name. (#5.1.1)", "send.recipient_unknown", SITEPACKAGE, "en", None),
    ("552 5.2.2 Over STORAGE quota", "send.recipient_mailbox_full", SITEPACKAGE, "en", None),
    (("550 Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed storage space."),
     "send.recipient_mailbox_full", SITEPACKAGE, "de", None),
    ("550 Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the server.",
     "send.recipient_mailbox_full", SITEPACKAGE, "de", None),
    ("500 5.0.0 Depot returns error: <552 5.2.2 Over quota>", "send.recipient_mailbox_full", SITEPACKAGE,
     "en", None),
    ("554 Refused. Your reverse DNS entry contains your IP address and a country code.",
     "send.rejected_as_spam", SITEPACKAGE, "en", None),
    ("552 Error: message too large", "send.message_too_large", SITEPACKAGE, "en", None),
    ("554 5.7.1 <kunde@example.ch>: Recipient address rejected: User unknown", "send.recipient_unknown",
     ONESYSTEMS, "en", None),
    ("550 5.1.8 <info@bakkerij.example>: Sender address rejected: Domain not found",
     "send.sender_not_allowed", ONESYSTEMS, "en", None),
    ("554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using ix.dnsbl.manitu.net",
     "send.rejected_as_spam", ONESYSTEMS, "en", None),
    ("450 4.7.1 Client host rejected: cannot find your hostname, [203.0.113.9]", "send.rejected_as_spam",
     ONESYSTEMS, "en", None),
    ("554 5.7.1 <kunde@example.ch>: Relay access denied", "unknown", ONESYSTEMS, "en", None),
    ("4.5.3 Error: too many recipients", "server.rate_limited", MITTWALD, "en", None),
    ("4.7.1 Docking request denied, first time visit, you have been greylisted, try again later",
     "server.temporary_failure", MITTWALD, "en", None),
    ("4.7.25 Client host rejected: cannot find your hostname, [192.168.1.1]", "send.rejected_as_spam",
     MITTWALD, "en", None),
    ("5.1.1 <kunde@example.de>: Recipient address rejected: User unknown in virtual alias table",
     "send.recipient_unknown", MITTWALD, "en", None),
    ("Refused by local policy. No SPAM please! (B-URL)", "send.rejected_as_spam", STRATO, "en", None),
    ("mailbox is overquota", "send.recipient_mailbox_full", STRATO, "en", None),
    ("Suspected phishing attempt", "send.rejected_as_spam", STRATO, "en", None),
    # --- Dutch help pages and Outlook in Dutch ----------------------------------------------------
    ("Unrouteable address", "send.recipient_unknown", WEBOKE, "en", None),
    ("All relevant MX records point to non-existent hosts", "send.recipient_unknown", WEBOKE, "en", None),
    (("SMTP error from remote mail server after RCPT TO:<email@adres.nl> host mail.adres.nl [192.0.2.10]: "
      "550 5.1.0 Recipient rejected."), "send.recipient_unknown", WEBOKE, "en", None),
    ("SMTP error from remote mail server after RCPT TO:<email@adres.nl>: 554 No relaying allowed - psmtp",
     "unknown", WEBOKE, "en", None),
    (("SMTP error from remote mail server after RCPT TO 550 5.1.1 Recipient address rejected: User unknown in "
      "virtual mailbox table"), "send.recipient_unknown", WEBOKE, "en", None),
    (("Kan het bericht niet verzenden omdat één van de geadresseerden door de server is geweigerd. Het "
      "geweigerde e-mailadres is <iemand@example.com>. Onderwerp: 'Test', account: 'Test', server: "
      "'smtp.example.com', protocol: SMTP, reactie van server: '550 <iemand@example.com>... Doorsturen "
      "geweigerd ', poort: 25, beveiligd (SSL): Nee, serverfout: 550, foutnummer: 0x800CCC79."),
     "unknown", MS_RELAY_NL, "nl", None),
    (("Kan het bericht niet verzenden omdat één van de geadresseerden door de server is geweigerd. Het "
      "geweigerde e-mailadres is <iemand@example.com>. Onderwerp: 'Test', account: 'Test', server: "
      "'smtp.example.com', protocol: SMTP, reactie van server: '553, dat domein is niet in mijn lijst met "
      "toegestane rcpt-hosts (#5.7.1)', poort: 25, beveiligd (SSL): Nee, serverfout: 553, foutnummer: "
      "0x800CCC79."), "unknown", MS_RELAY_NL, "nl", None),
    (("Domain domein.nl has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message "
      "discarded."), "server.rate_limited", HOASTED, "en", None),
    ("550 Subject contains invalid characters", "unknown", "vdx.nl FAQ (Dutch)", "en", None),
    (("550-5.7.1 Our system has detected that this message is likely unsolicited mail (SPAM). To reduce the "
      "amount of spam, this message has been blocked."), "send.rejected_as_spam", TRANSIP, "en", None),
    (("550-5.7.1 This message does not have authentication information or fails to pass authentication "
      "checks. To best protect our users from spam, the message has been blocked."), "send.rejected_as_spam",
     TRANSIP, "en", None),
    (("550-5.7.1 Our system has detected that this message does not meet IPv6 sending guidelines regarding "
      "PTR records and authentication."), "send.rejected_as_spam", TRANSIP, "en", None),
    (("550-5.7.1 Unfortunately, messages from [123.123.123.123] weren't sent. Please contact your Internet "
      "service provider since part of their network is on our block list (S3140)."), "send.rejected_as_spam",
     TRANSIP, "en", None),
    # --- Italian pages: Gmail's replies, Outlook in Italian, a provider's limits --------------------
    ("421 4.4.5 Server busy, try again later", "server.temporary_failure", NLSTUDIO, "en", None),
    ("421 4.7.0 Temporary System Problem. Try again later.", "server.temporary_failure", NLSTUDIO, "en", None),
    ("421 4.7.0 TLS required for RCPT domain, closing connection", "tls.starttls_required", NLSTUDIO, "en", None),
    (("450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message "
      "at a later time."), "server.rate_limited", NLSTUDIO, "en", None),
    (("Impossibile inviare il messaggio perché uno dei destinatari è stato rifiutato dal server. L'indirizzo "
      "di posta elettronica rifiutato era \"<someone@example.com>\". Oggetto: 'test', Account: 'Test', Server: "
      "'smtp.example.com', Protocollo: SMTP, Risposta server: '550 <someone@example.com>... Inoltro negato', "
      "porta: 25, sicuro (SSL): No, errore del server: 550, numero di errore: 0x800CCC79"),
     "unknown", MS_RELAY_IT, "it", None),
    (("Impossibile inviare il messaggio. Uno dei destinatari non è stato accettato dal server. L'indirizzo di "
      "posta elettronica non accettato è \"casella@dominio.it\". Oggetto 'oggetto', Account: 'nome account', "
      "Server: 'smtp.email.it', Protocollo: SMTP, Risposta del server: '553 5.7.1 <casella@email.it>: Sender "
      "address rejected: not logged in', Porta: 25, Protezione (SSL): No, Errore del server: 553, Numero di "
      "errore: 0x800CCC79"), "auth.invalid_credentials", "blog.email.it: guida agli errori (Italian)", "it",
     None),
    ("Errore: MAX RCPT TO DAILY LIMIT", "send.daily_limit_reached",
     "netfabric.freshdesk.com: problemi invio posta (Italian)", "it", None),
    (("Impossibile trovare il server. L'account è: 'fatture@libero.it', Server: 'smtp.libero.it', Protocollo: "
      "SMTP, Porta: 465, Protezione (SSL): Sì, Errore socket: 11004, Numero di errore: 0x800CCC0D"),
     "net.host_not_found", "Outlook error texts quoted in Italian help forums", "it", None),
    # --- French ---------------------------------------------------------------------------------
    (("Votre serveur de courrier a refusé votre connexion (0x800CCC92) -ERR Login failure: unknown user name "
      "or bad password"), "auth.invalid_credentials", "fr.ittrip.xyz: Outlook 2019 erreur 0x800CCC92 (French)",
     "fr", None),
    ("ERROR Mailbox doesn't exist", "send.recipient_unknown", "01net.com: décryptez votre messagerie (French)",
     "en", None),
    (("L'adresse électronique du destinataire a changé. L'adresse à laquelle ce message a été envoyé "
      "n'accepte plus de messages."), "send.recipient_unknown", "Exchange NDR text in French (uitranslation)",
     "fr", None),
    ("550 5.4.1 Recipient address rejected: Access denied", "send.recipient_unknown",
     "emailacademy.fr: les erreurs de non-remise (French)", "en", None),
    ("554 5.7.1 Message rejected due to policy restrictions", "send.rejected_as_spam",
     "emailacademy.fr: les erreurs de non-remise (French)", "en", None),
    # --- Exchange / Microsoft 365 NDRs ----------------------------------------------------------
    ("452 4.2.2 The email account that you tried to reach is over quota", "send.recipient_mailbox_full",
     ACCESS, "en", None),
    ("550 5.1.1 recipient rejected. Recipient does not exist", "send.recipient_unknown", ACCESS, "en", None),
    ("550 5.2.1 recipient rejected. Mailbox suspended", "send.recipient_unknown", ACCESS, "en", None),
    ("550.5.7.0 Message Size Violation", "send.message_too_large", ACCESS, "en", None),
    ("550 5.7.1 DDNS says spammer, 20191030-1 dodgyfrom", "send.rejected_as_spam", ACCESS, "en", None),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound", "send.recipient_unknown", ACCESS, "en", None),
    (("550 5.7.13 STOREDRV.Deliver.Exception:AccountDisabledException.MapiExceptionADUserDisabledAndHidden; "
      "Failed to process message due to a permanent exception with message [BeginDiagnosticData]"),
     "send.recipient_unknown", MS_NDR_LIST, "en", None),
    (("550 5.7.0 Proxy session setup failed on Frontend with '554 5.4.4 SMTPSEND.DNS.NonExistentDomain; "
      "nonexistent domain'"), "send.recipient_unknown", MS_NDR_LIST, "en", None),
    ("5.7.0 x-unix; maildrop: maildir over quota", "send.recipient_mailbox_full", MS_NDR_LIST, "en", None),
    ("501 5.1.8 Bad sender address", "send.sender_not_allowed", MS_NDR_LIST, "en", None),
    # --- Mail clients' and libraries' issue trackers --------------------------------------------
    ("Error: Invalid login: 535 5.7.3 Authentication unsuccessful", "auth.invalid_credentials",
     "github.com/nodemailer/nodemailer/issues/920", "en", None),
    ("Error: Invalid login: 535 Error: authentication failed", "auth.invalid_credentials",
     "github.com/xuess/puppeteer-sign/issues/2", "en", None),
    ("Failed to send the test email. Raw error: 535 Authentication Failed.", "auth.invalid_credentials",
     "github.com/pocketbase/pocketbase/issues/584", "en", None),
    ("535 auth failed (this user authenticate too many times)", "auth.too_many_attempts",
     "github.com/nodemailer/nodemailer/issues/1350", "en", None),
    ("AuthError: Invalid login - 535 Incorrect authentication data", "auth.invalid_credentials",
     "github.com/nodemailer/nodemailer/issues/874", "en", None),
    ("SMTP Error (535): Authentication failed", "auth.invalid_credentials",
     "github.com/roundcube/roundcubemail/issues/6826", "en", None),
    (("Expected response code 250 but got code \"550\", with message \"550 5.7.1 Relaying denied\""),
     "unknown", "github.com/jan-vince/smallcontactform/issues/95", "en", None),
    ("550 5.7.1 <bbb@qq.com>... Relaying denied. IP name lookup failed [222.66.4.242]", "unknown",
     "github.com/nodemailer/nodemailer/issues/190", "en", None),
    ("550 relay not permitted!", "unknown", "github.com/postalserver/postal/issues/647", "en", None),
    ("Diagnostic-Code: smtp; 550 Relay denied for <example.org>", "unknown",
     "github.com/mailcow/mailcow-dockerized/issues/2095", "en", None),
    ("550: 5.7.1 Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
     "send.rejected_as_spam", "github.com/MailCore/mailcore2/issues/1738", "en", None),
    ("Failed to send email: (550, b'5.7.1 message content rejected').", "send.rejected_as_spam",
     "github.com/mandarons/icloud-docker/issues/163", "en", None),
    (("139634851661696:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:"
      "../deps/openssl/openssl/ssl/record/ssl3_record.c:332:"), "tls.mode_mismatch",
     "github.com/dawidd6/action-send-mail/issues/84", "en", None),
    ("Error #01: failed to authenticate SMTP client: unencrypted connection", "tls.starttls_required",
     "github.com/pocket-id/pocket-id/issues/179", "en", None),
    ("* NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbtt] Web login required.",
     "auth.web_login_required", "github.com/smiley22/S22.Imap/issues/116", "en", None),
    ("A00000001 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "auth.invalid_credentials",
     "github.com/jstedfast/MailKit/issues/1276", "en", None),
    (("imaplib.error: b'[ALERT] Application-specific password required: "
      "https://support.google.com/accounts/answer/185833 (Failure)'"), "auth.app_password_required",
     "github.com/andreiaugustin/gmail_extractor/issues/4", "en", None),
    ("A00000001 NO AUTHENTICATE failed.\nA00000002 NO LOGIN failed.", "auth.invalid_credentials",
     "github.com/jstedfast/MailKit/issues/483", "en", None),
    # --- more German help pages ---------------------------------------------------------------
    ("450 4.7.1 Client host rejected: cannot find your reverse hostname", "send.rejected_as_spam",
     "bytecamp.net FAQ: Fehlermeldungen bei Zustellproblemen (German)", "en", None),
    ("450 4.2.0 Recipient address rejected: Greylisted", "server.temporary_failure",
     "bytecamp.net FAQ: Fehlermeldungen bei Zustellproblemen (German)", "en", None),
    ("421 4.7.0 Error: too many connections from 198.51.100.7", "server.rate_limited",
     "bytecamp.net FAQ: Fehlermeldungen bei Zustellproblemen (German)", "en", None),
    ("422 4.2.2 Quota limit exceeded (Speicherplatz des Kontos ueberschritten)", "send.recipient_mailbox_full",
     "bytecamp.net FAQ: Fehlermeldungen bei Zustellproblemen (German)", "de", None),
    ("571 5.7.1 message classified as spam (Nachricht als Spam eingestuft)", "send.rejected_as_spam",
     "bytecamp.net FAQ: Fehlermeldungen bei Zustellproblemen (German)", "de", None),
    ("421 mx01.de: Too much load; please try again later", "server.temporary_failure",
     "do.de: häufige Fehlercodes bei Mailprogrammen (German)", "en", None),
    (("<autotec-gmbh@web.de>: host mx-ha02.web.de[213.165.67.120] said: 550 Requested action not taken: "
      "mailbox unavailable (in reply to RCPT TO command)"), "unknown",
     "hilfe.gartentechnik.com: Probleme mit dem Versand (German)", "en", None),
    ("550 5.7.1 Refused by local policy. No SPAM please", "send.rejected_as_spam", STRATO, "en", None),
    ("550 recipient e-mail adress unknown", "send.recipient_unknown", STRATO, "en", None),
    ("421, „4.7.0“ – TLS für RCPT-Domain erforderlich, Verbindung wird beendet.", "tls.starttls_required",
     "eifert.net: E-Mail-Fehlermeldungen (German)", "de", None),
    ("421, „4.3.0“ – Vorübergehendes Systemproblem. Versuchen Sie es später noch einmal.",
     "server.temporary_failure", "eifert.net: E-Mail-Fehlermeldungen (German)", "de", None),
    ("421, „4.4.5“ – Server ist ausgelastet, versuchen Sie es später noch einmal.", "server.temporary_failure",
     "eifert.net: E-Mail-Fehlermeldungen (German)", "de", None),
    # --- more issue trackers ------------------------------------------------------------------
    (("Error: self-signed certificate in certificate chain at TLSSocket.onConnectSecure "
      "(node:_tls_wrap:1674:34) { code: 'ESOCKET', command: 'CONN' }"), "tls.certificate_invalid",
     "github.com/microsoft/playwright-java/issues/1622 (nodemailer)", "en", None),
    ("{ [Error: self signed certificate] code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }", "tls.certificate_invalid",
     "github.com/nodemailer/nodemailer/issues/406", "en", None),
    ("[Error: SELF_SIGNED_CERT_IN_CHAIN]", "tls.certificate_invalid",
     "github.com/nodemailer/nodemailer/issues/310", "en", None),
    (("534-5.7.14 Please log in via your web browser and then try again.\n534-5.7.14 Learn more at\n"
      "534 5.7.14 https://support.google.com/mail/bin/answer.py?answer=78754 d32sm8306558qga.12 - gsmtp"),
     "auth.web_login_required", "github.com/nodemailer/nodemailer/issues/310", "en", None),
]

# Round 5: collected after round 4 was spent and the classifier fixed on it
# (providers' help pages and postmaster lists: T-Online, Orange/La Poste, Aruba, Libero, GMX/WEB.DE,
# KPN, iCloud, Yahoo, Zoho, Microsoft; mail clients' and libraries' issue trackers; the bounce
# texts sisimai keeps per provider). Each reply is labelled by what fixes it for the user, and the
# labels were committed before the classifier ever ran on them; measured once (README.md).
TONLINE_PM = "T-Online rejections (timmehosting.de, help.creoline.com, German)"
ORANGE_PM = "Orange OFR codes (bentonow.com / postmaster.orange.fr lists, French/English)"
ARUBA_B = "guide.arubabusiness.it: errori comuni invio e ricezione posta (Italian)"
ARUBA_H = "guide.hosting.aruba.it: risoluzione errori comuni (Italian)"
FORPSI = "support.konto.pl / support.forpsi.com: policy violation (Aruba group)"
LIBERO = "aiuto.libero.it: messaggi di errore più frequenti dopo invio email (Italian)"
UI_PM = "postmaster.web.de / postmaster.gmx.com / smtp.codes United Internet (GMX, WEB.DE)"
COMSERVICE = "new-faq.comservice-ffo.de: SMTP-Fehlermeldungen (German)"
COVISERVER = "coviserver.de: E-Mail geblockt (German)"
KPN = "blacklist.kpnmail.nl/Help/17 (Dutch)"
ROUND5: list[tuple[str, str, str, str, str | None]] = [
    (("554 IP=198.51.100.7 - None/bad reputation. Ask your postmaster for help or to contact "
      "<postmaster@rx.t-online.de> for reset. (NOWL)"),
     "send.rejected_as_spam", TONLINE_PM, "en", None),
    ("554: Dialup/transient IP not allowed. Use a mailgateway or contact toda@rx.t-online.de if obsolete. (DIAL)",
     "send.rejected_as_spam", TONLINE_PM, "en", None),
    (("421 mwinf5c77 ME Trop de connexions, veuillez verifier votre configuration / Too many connections, slow down. "
      "OFR004_104 [104]"),
     "server.rate_limited", ORANGE_PM, "fr", None),
    ("421 mwinf5c10 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR004_105 [105]",
     "server.rate_limited", ORANGE_PM, "fr", None),
    ("552 5.2.0 igxL1p00E1WDM2s01gxMXG spam detected", "send.rejected_as_spam", ARUBA_B, "en", None),
    ("iemL1p01Z0hMcT901emQ77 policy violation", "server.rate_limited", ARUBA_B, "en", None),
    ("550 5.1.0 cNkj1y0022zrrQM01NkjaD policy violation, see https://support.forpsi.com/kb/a4081",
     "server.rate_limited", FORPSI, "en", None),
    ("5.5.2 bad chars in command", "send.recipient_unknown", ARUBA_H, "en", None),
    ("MAILBOX FULL (User quota exceeded)", "send.recipient_mailbox_full", LIBERO, "en", None),
    ("BAD DESTINATION MAILBOX ADDRESS - USER UNKNOWN", "send.recipient_unknown", LIBERO, "en", None),
    ("ROUTING SERVER FAILURE", "send.recipient_unknown", LIBERO, "en", None),
    ("OTHER OR UNDEFINED NETWORK OR ROUTING STATUS", "server.temporary_failure", LIBERO, "en", None),
    ("DELIVERY TIME EXPIRED", "send.gave_up", LIBERO, "en", None),
    ("421 Reject due to policy violations", "send.rejected_as_spam", COMSERVICE, "en", None),
    ("421 Rate limit reached. Please try again later", "server.rate_limited", COMSERVICE, "en", None),
    ("451 Requested action aborted: local error in processing", "server.temporary_failure", COMSERVICE, "en", None),
    (("550 <kunde@web.de>: Reject due to SPF policy. The originating IP of the message is not permitted by the domain "
      "owner"),
     "send.rejected_as_spam", UI_PM, "en", None),
    (("554-gmx.net (mxgmx104) Nemesis ESMTP Service not available\n554-No SMTP service\n"
      "554-IP address is block listed.\n"
      "554 For explanation visit "
      "https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42&r=1MNcgj-1ue23t3pyV-00S2YR"),
     "send.rejected_as_spam", UI_PM, "en", None),
    ("host 0815.maildomain.de[192.0.2.15] said: 550 #5.1.0 Address rejected. (in reply to RCPT TO command)",
     "send.recipient_unknown", COVISERVER, "en", None),
    (("host 1234.mailserver.de[192.0.2.34] said: 451 4.7.1 Service unavailable - try again later (in reply to DATA "
      "command)"),
     "server.temporary_failure", COVISERVER, "en", None),
    (("host 0815.maildomain.de[192.0.2.15] said: 450 4.7.1 <adresse@domain.de>: Recipient address rejected: Service "
      "temporarily unavailable, please try later (in reply to RCPT TO command)"),
     "server.temporary_failure", COVISERVER, "en", None),
    ("Your IP: 198.51.100.7 is blacklisted, please see http://blacklist.kpnmail.nl/Help/17",
     "auth.too_many_attempts", KPN, "en", "jan@kpnmail.nl"),
    ("Error: Invalid login: 535 5.7.3 Authentication unsuccessful [SN4PR0601CA0002.namprd06.prod.outlook.com]",
     "auth.invalid_credentials", "github.com/nodemailer/nodemailer/issues/1071", "en", None),
    ("Email is invalid (IMAP): Response status \"OK\" expected, but \"NO\" received. Data: [b'LOGIN failed.']",
     "auth.invalid_credentials", "github.com/Jaammerr/The-Dawn-Bot/issues/11", "en", None),
    ("com.fsck.k9.mail.AuthenticationFailedException: Command: *sensitive*; response: #3# [NO, LOGIN failed.]",
     "auth.invalid_credentials", "github.com/thunderbird/thunderbird-android/issues/2654", "en", None),
    (("imap_tools.errors.MailboxLoginError: Response status \"OK\" expected, but \"NO\" received. Data: "
      "[b'authentication failed']"),
     "auth.invalid_credentials", "github.com/ikvk/imap_tools/issues/167", "en", None),
    (("IMAP Error: Login failed for user@domain.com against domain.com from 198.51.100.41(X-Forwarded-For: "
      "198.51.100.41). Authentication failed. in /var/www/mail/program/lib/Roundcube/rcube_imap.php on line 200 (POST "
      "/?_task=login&_action=login)"),
     "auth.invalid_credentials", "github.com/roundcube/roundcubemail/issues/7429", "en", None),
    (("IMAP Error: Login failed for benutzer@mydomain.de from 198.51.100.31. Could not connect to "
      "mail.mydomain.de:143: Verbindungsaufbau abgelehnt in /var/www/mail/rc/program/lib/Roundcube/rcube_imap.php on "
      "line 193 (POST /rc/?_task=login&_action=login)"),
     "net.connection_refused", "github.com/mailcow/mailcow/issues/872", "de", None),
    ("Username or password incorrect. (Command: *sensitive*; response: #3# [NO, LOGIN failed.])",
     "auth.invalid_credentials", "github.com/thunderbird/thunderbird-android/issues/2583", "en", None),
]
ZOHO = "Zoho Mail / ZeptoMail SMTP error codes (zoho.com help, smtp.codes/zoho)"
ICLOUD = "iCloud replies (smtp.codes/icloud, status.socketlabs.com)"
ROUND5 += [
    (("Unable to connect SMTP server:smtpout.mail.zoho.com Reason:Authentication failed:554 5.1.8 Sender Address "
      "Blocked"),
     "send.account_blocked", "help.zoho.com community: issue with outgoing mail", "en", None),
    ("553 Relaying disallowed as info@bakkerij.nl", "send.sender_not_allowed", ZOHO, "en", None),
    ("552 5.7.1 virus Win.Test.EICAR_HDB-1 detected by Zoho Mail", "send.rejected_as_spam", ZOHO, "en", None),
    ("5.2.0 Email size exceeded the policy.", "send.message_too_large", ZOHO, "en", None),
    ("5.2.1 Subject is Mandatory.", "unknown", ZOHO, "en", None),
    ("452 4.3.1 Temporary System Error", "server.temporary_failure", ZOHO, "en", None),
    ("550 5.7.1 Email rejected per DMARC policy for bakkerij.nl", "send.rejected_as_spam", ZOHO, "en", None),
    ("421 4.7.0 me.com Error: too many errors", "server.rate_limited", ICLOUD, "en", None),
    (("421 4.7.1 Messages to klant@icloud.com deferred due to excessive volume. Try again later - "
      "https://support.apple.com/en-us/HT204137"),
     "server.rate_limited", ICLOUD, "en", None),
    ("550 5.1.1 <klant@icloud.com>: user does not exist", "send.recipient_unknown", ICLOUD, "en", None),
    ("550 5.7.1 Your message was rejected due to bakkerij.nl DMARC policy.", "send.rejected_as_spam", ICLOUD, "en",
     None),
    (("550 5.7.1 Your email was rejected due to having a domain present in the Spamhaus DBL -- see "
      "https://www.spamhaus.org/dbl/"),
     "send.rejected_as_spam", ICLOUD, "en", None),
    ("550 5.1.1 <klant@icloud.com>: user lookup success but no user record found", "send.recipient_unknown", ICLOUD,
     "en", None),
]
MS_NDR_DOC = "learn.microsoft.com: email non-delivery reports and SMTP errors in Exchange Online"
ROUND5 += [
    ("432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded", "server.rate_limited", MS_NDR_DOC, "en", None),
    ("4.4.316 Connection refused [Message=Socket error code 10061]", "server.temporary_failure", MS_NDR_DOC, "en",
     None),
    (("Reported error: 530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM "
      "[AM6PR0732BE0065.eurprd07.prod.outlook.com]"),
     "auth.smtp_auth_disabled", "easy365manager.com: Office 365 NDR error codes", "en", None),
    ("551 5.9.9 Spam message discarded. If you feel we mistreat you, do contact us: postmaster@mail.ru",
     "send.rejected_as_spam", "freeport-outlet.ru: sending errors (mail.ru replies)", "en", None),
    ("535 5.7.1 http://support.google.com/mail/bin/answer.py?answer=14257 o5sm1396905lbg.5",
     "auth.app_password_required", "freeport-outlet.ru: sending errors (Gmail replies)", "en", None),
    (("535-5.7.1 Please log in with your web browser and then try again. Learn more at535 5.7.1 "
      "https://support.google.com/mail/bin/answer.py?answer=78754 p2sm808096lbj.4"),
     "auth.web_login_required", "freeport-outlet.ru: sending errors (Gmail replies)", "en", None),
]
YAHOO_CODES = "smtp.codes/yahoo; smtp-error-codes.info (Yahoo replies)"
COREMAIL = "icoremail.vip support: bounce texts of Coremail servers (163.com, 126.com)"
ROUND5 += [
    ("421 Max message per connection reached, closing transmission channel", "server.rate_limited", YAHOO_CODES, "en",
     None),
    ("451 example.yahoo.com Resources temporarily unavailable. Please try again later [#4.16.1].",
     "server.temporary_failure", YAHOO_CODES, "en", None),
    ("451 4.3.2 Internal server error", "server.temporary_failure", YAHOO_CODES, "en", None),
    ("452 temporary domain failure <klant@yahoo.com>", "server.temporary_failure", YAHOO_CODES, "en", None),
    ("421 4.7.0 [TS02] Temporarily deferred", "server.rate_limited", YAHOO_CODES, "en", None),
    ("421 Service not available, closing transmission channel", "server.temporary_failure", YAHOO_CODES, "en", None),
    ("User not found", "send.recipient_unknown", COREMAIL, "en", None),
    ("local server don't exists that user", "send.recipient_unknown", COREMAIL, "en", None),
    ("recipient does not have an account", "send.recipient_unknown", COREMAIL, "en", None),
    ("Bad recipient address syntax", "send.recipient_unknown", COREMAIL, "en", None),
    ("This account has been temporarily suspended", "send.recipient_unknown", COREMAIL, "en", None),
]
ROUND5 += [
    ("Serverfehler 550: Send quota exceeded", "send.daily_limit_reached",
     "edvservice.bayern: T-Online kein Versand von E-Mails möglich (German)", "de", "kunde@t-online.de"),
    ("+OK AVG POP3 Proxy Server 7.5.494/7.5.503 [269.17.0/1180]", "net.wrong_service",
     "altmetaller.de: Outlook 0x800ccc0d, 0x800ccc0e (German)", "en", None),
]
ROUND5 += [
    (("SERVER -> CLIENT: 535 Incorrect authentication data\nSMTP ERROR: Username command failed: 535 Incorrect "
      "authentication data\nSMTP Error: Could not authenticate."),
     "auth.invalid_credentials", "github.com/PHPMailer/PHPMailer/issues/1375", "en", None),
    (("SERVER -> CLIENT: 535 5.7.0 (#MBR1212) Incorrect username or password.\nSMTP ERROR: Password command failed: "
      "535 5.7.0 (#MBR1212) Incorrect username or password.\nSMTP Error: Could not authenticate."),
     "auth.app_password_required", "github.com/PHPMailer/PHPMailer/issues/1287", "en", "winkel@yahoo.com"),
    (("2016-05-25 18:50:54\tConnection: opening to ssl://smtp.gmail.com:587, timeout=300, options=array ( ) 2016-05-25 "
      "18:50:54\tConnection: opened 2016-05-25 18:50:54\tSMTP -> get_lines(): $data is \"\" 2016-05-25 18:50:54\tSMTP "
      "-> get_lines(): $str is \"\" 2016-05-25 18:50:54\tSERVER -> CLIENT: 2016-05-25 18:50:54\tSMTP NOTICE: EOF "
      "caught while checking if connected 2016-05-25 18:50:54\tConnection: closed 2016-05-25 18:50:54\tSMTP Error: "
      "Could not authenticate. 2016-05-25 18:50:54\tSMTP connect() failed. "
      "https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting"),
     "tls.mode_mismatch", "github.com/PHPMailer/PHPMailer/issues/733", "en", None),
    (("Unhandled Exception: HandshakeException: Handshake error in client (OS Error: \n\tCERTIFICATE_VERIFY_FAILED: "
      "self signed certificate in certificate chain(handshake.cc:354))"),
     "tls.certificate_invalid", "github.com/michaelspiss/imap_client/issues/30", "en", None),
    (("Error: SMTP connection failure: STARTTLS upgrade failed: unexpected EOF (certificate has expired): "
      "error:80000002:system library:file_open:reason(2):providers/implementations/storemgmt/file_store.c:263:calling "
      "stat(/usr/local/ssl/certs), error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify "
      "failed:ssl/statem/statem_clnt.c:2092:"),
     "tls.certificate_invalid", "github.com/chatmail/relay/issues/409", "en", None),
    (("Backup for account 'info@bakkerij.nl' failed with error SSL_connect returned=1 errno=0 peeraddr=192.0.2.10:993 "
      "state=error: certificate verify failed (certificate has expired)"),
     "tls.certificate_invalid", "github.com/joeyates/imap-backup/issues/216", "en", None),
    (("The server's SSL certificate could not be validated for the following reasons:\n\n      • The server "
      "certificate has the following errors:\n\n        • self-signed certificate"),
     "tls.certificate_invalid", "github.com/s1t5/mail-archiver/issues/50", "en", None),
]
ROUND5 += [
    (("{ Error: connect ETIMEDOUT 221.176.9.170:587\n    at Object._errnoException (util.js:992:11)\n    at "
      "_exceptionWithHostPort (util.js:1014:20)\n    at TCPConnectWrap.afterConnect [as oncomplete] (net.js:1186:14)\n "
      " code: 'ECONNECTION',\n  errno: 'ETIMEDOUT',\n  syscall: 'connect',\n  address: '221.176.9.170',\n  port: "
      "587,\n  command: 'CONN' }"),
     "net.timeout", "github.com/nodemailer/nodemailer/issues/918", "en", None),
    (("{ [Error: getaddrinfo ENOTFOUND smtp.gmail.com]\n  code: 'ENOTFOUND',\n  errno: 'ENOTFOUND',\n  syscall: "
      "'getaddrinfo',\n  hostname: 'smtp.gmail.com' }"),
     "net.host_not_found", "github.com/nodemailer/nodemailer/issues/409", "en", None),
    (("{ [Error: getaddrinfo ENOTFOUND 1234 1234:465]\n  code: 'ENOTFOUND',\n  errno: 'ENOTFOUND',\n  syscall: "
      "'getaddrinfo',\n  hostname: '1234',\n  host: '1234',\n  port: 465 }"),
     "net.host_not_found", "github.com/nodemailer/nodemailer/issues/573", "en", None),
    (("{ Error: Connection timeout\nat SMTPConnection._formatError "
      "(/var/www/html/project/node_modules/nodemailer/lib/smtp-connection/index.js:606:19)\nat SMTPConnection._onError "
      "(/var/www/html/project/node_modules/nodemailer/lib/smtp-connection/index.js:579:20)\nat "
      "Timeout._connectionTimeout.setTimeout at ontimeout (timers.js:482:11) code: 'ETIMEDOUT', command: 'CONN' }"),
     "net.timeout", "github.com/nodemailer/nodemailer/issues/915", "en", None),
    ("{ [Error: socket hang up] code: 'ECONNRESET', sslError: undefined }", "unknown",
     "github.com/nodemailer/nodemailer/issues/176", "en", None),
    (("C: B00000001 AUTHENTICATE XOAUTH2 "
      "dXNlcj1qYW5Ab3V0bG9vay5jb20BYXV0aD1CZWFyZXIgRXdCQUFsM0JBQVVGRnBVQW83SjNWZTBiakxCV1pXQ2NsUkMzRW9BQQEB\nS: "
      "B00000001 NO AUTHENTICATE failed.\nMailKit.Security.AuthenticationException: Authentication failed."),
     "auth.token_invalid", "github.com/jstedfast/MailKit/issues/690", "en", "jan@outlook.com"),
]
MS_NL = "support.office.com/nl-nl: rapporten over niet-uitgevoerde bezorging in Office 365 (Dutch)"
OUTLOOKCOM_IT = "windows.microsoft.com/it-it/outlook/delivery-failed: recapito non riuscito (Italian)"
ROUND5 += [
    ("4.4.316 Verbinding geweigerd [bericht = foutcode socket 10061]", "server.temporary_failure", MS_NL, "nl", None),
    (("Final-Recipient: rfc822; ontvanger@debestemming.nl\nOriginal-Recipient: "
      "rfc822;ontvanger@debestemming.nl\nAction: failed\nStatus: 5.1.1\nremote-MTA: dns; "
      "mail.debestemming.nl\nDiagnostic-Code: smtp; 550 5.1.1.  No such user"),
     "send.recipient_unknown", "support.active8.nl: gedetailleerde lijst met statuscodes (Dutch)", "en", None),
    ("Mailbox non valida", "send.recipient_unknown", OUTLOOKCOM_IT, "it", None),
    ("Casella di posta piena", "send.recipient_mailbox_full", OUTLOOKCOM_IT, "it", None),
    ("Spazio disponibile superato", "send.recipient_mailbox_full", OUTLOOKCOM_IT, "it", None),
    ("Host sconosciuto, Domain Lookup non riuscito", "send.recipient_unknown", OUTLOOKCOM_IT, "it", None),
    ("Risorse temporaneamente non disponibili", "server.temporary_failure", OUTLOOKCOM_IT, "it", None),
]
ROUND5 += [
    ("Der Host 'SMPT' wurde nicht gefunden.", "net.host_not_found",
     "blog.silverpc.hu: E-Mail-Fehler 0x800CCC0D (German Outlook message)", "de", None),
]
SISIMAI_OFR = "github.com/sisimai/p5-sisimai/issues/240 and /243 (Orange, La Poste)"
ROUND5 += [
    (("Erreur de serveur : 550\nRéponse du serveur : 550 5.1.0 Emetteur invalide. Invalid Sender. OFR_415 "
      "[415]\nServeur : 'smtp.orange.fr'"),
     "send.sender_not_allowed", SISIMAI_OFR, "fr", None),
    ("Erreur serveur : '550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]'",
     "send.recipient_unknown", SISIMAI_OFR, "fr", None),
    ("Erreur serveur : '552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]'",
     "send.recipient_mailbox_full", SISIMAI_OFR, "fr", None),
    ("550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", "send.rejected_as_spam", SISIMAI_OFR, "fr", None),
    (("Le serveur a répondu : 5.2.0 Taille limite du message atteinte. Maximum size of the message reached. OFR_514 "
      "[514]. Veuillez vérifier le message et essayer à nouveau."),
     "send.message_too_large", SISIMAI_OFR, "fr", None),
    ("550 5.7.0 Code d'authentification invalide OFR 305", "auth.invalid_credentials", SISIMAI_OFR, "fr",
     "jean@orange.fr"),
    ("SPF: 198.51.100.7 is not allowed to send mail. LPN004_401", "send.rejected_as_spam", SISIMAI_OFR, "en", None),
    (("host smtppromx.orange.fr[192.0.2.25] refused to talk to me: 550 mwinf5c14 ME Adresse IP source bloquee pour "
      "incident de spam. Client host blocked for spamming issues. OFR006_102 Ref "
      "http://csi.cloudmark.com/reset-request/?ip=198.51.100.7 [102]"),
     "send.rejected_as_spam", "github.com/ActiveCampaign/smtp-field-manual/pull/60", "fr", None),
    (("host gmail-smtp-in.l.google.com[66.102.1.26] said:\n    550-5.7.26 This message does not pass authentication "
      "checks (SPF and DKIM\n    both 550-5.7.26 do not pass). SPF check for [orange.fr] does not pass with\n    ip: "
      "550-5.7.26 [217.70.183.194].To best protect our users from spam, the\n    message 550-5.7.26 has been blocked. "
      "Please visit 550-5.7.26\n    https://support.google.com/mail/answer/81126#authentication for more 550\n    "
      "5.7.26 information. s17-20020adfea91000000b002c552f5db89si6436405wrm.137 -\n    gsmtp (in reply to end of DATA "
      "command)"),
     "send.rejected_as_spam", "github.com/stephane-klein/backlog/issues/149", "en", None),
    ("SMTP Fehler (250): Die Authentisierung ist fehlgeschlagen", "tls.starttls_required",
     "github.com/roundcube/roundcubemail/issues/7089", "de", None),
    (("MailSo\\Smtp\\Exceptions\\LoginBadCredentialsException: 535 5.7.8 Error: authentication failed: authentication "
      "failure in "
      "/volume1/web/nextcloud12/apps/rainloop/app/rainloop/v/1.11.3/app/libraries/MailSo/Smtp/SmtpClient.php:273"),
     "auth.invalid_credentials", "github.com/RainLoop/rainloop-webmail/issues/1629", "en", None),
    ("Creating account failed: Error connecting to SMTP server.", "unknown", "github.com/nextcloud/mail/issues/382",
     "en", None),
    ("Erreur SMTP (535) : authentication failed", "auth.invalid_credentials",
     "github.com/roundcube/roundcubemail/issues/6794", "fr", None),
]
ROUND5 += [
    ("PASS xxx\n-ERR authentication failed\nQUIT", "auth.imap_disabled", ("github.com/jens-maus/yam/issues/638 (GMX, "
                                                                          "protocols switched off)"), "en",
                                                                          "kunde@gmx.de"),
    ("Username or password is wrong. (Command: *sensitive*; response: #2# [NO, authentication failed])",
     "auth.invalid_credentials", "github.com/thunderbird/thunderbird-android/issues/5780", "en", "kunde@web.de"),
    ((" [imap]: xoauth2handler: response \"{u'error': u'invalid_grant'}\"\n XOAUTH2 authentication failed: "
      "xoauth2handler got: {u'error': u'invalid_grant'}\n ERROR: All authentication types failed:\n\tXOAUTH2: "
      "xoauth2handler got: {u'error': u'invalid_grant'}"),
     "auth.token_invalid", "github.com/OfflineIMAP/offlineimap/issues/374", "en", None),
    (("C: W3 AUTHENTICATE XOAUTH2 \"(* value hidden *)\"\nS: W3 NO [AUTHENTICATIONFAILED] Invalid credentials "
      "(Failure)\nCould not connect to server Error: Invalid credentials (Failure)"),
     "auth.token_invalid", "github.com/emailjs/emailjs-imap-client/issues/96", "en", None),
    (("Fatal error: Uncaught League\\OAuth2\\Client\\Provider\\Exception\\IdentityProviderException: invalid_grant in "
      "/home/website/public_html/inc/oauth2-google/league/oauth2-google/src/Provider/Google.php:117"),
     "auth.token_invalid", "github.com/PHPMailer/PHPMailer/issues/1792", "en", None),
    (("ERROR bichon::modules::imap::manager: IMAP OAuth2 auth failed for username 'jan@gmail.com': No(\n    \"code: "
      "None, info: Some(\\\"[AUTHENTICATIONFAILED] Invalid credentials (Failure)\\\")\",\n)"),
     "auth.token_invalid", "github.com/rustmailer/bichon/issues/118", "en", None),
]
ROUND5 += [
    ("ErrorSendAsDenied", "send.sender_not_allowed", "github.com/microsoftgraph/microsoft-graph-docs/issues/4085", "en",
     None),
    (("postfix/lmtp[1050]: A23D128724C: to=<quotauser@otherdomain.tld>, "
      "relay=mail.my-domain.com[/var/run/dovecot/lmtp], delay=0.01, delays=0.01/0/0/0, dsn=5.2.2, status=bounced (host "
      "mail.my-domain.com[/var/run/dovecot/lmtp] said: 552 5.2.2 <quotauser@otherdomain.tld> Quota exceeded (mailbox "
      "for user is full) (in reply to end of DATA command))"),
     "send.recipient_mailbox_full", "github.com/docker-mailserver/docker-mailserver/issues/1508", "en", None),
]
ROUND5 += [
    (("451 4.7.651 The mail server [198.51.100.7] has been temporarily rate limited due to IP reputation. For e-mail "
      "delivery information, see https://postmaster.live.com (S3114)"),
     "server.rate_limited", "suped.com: temporary rate limiting due to IP reputation with Microsoft", "en", None),
    ("451 4.7.500 Server busy. Please try again later from [198.51.100.7]. (S77719)", "server.rate_limited",
     "suped.com / bentonow.com: Office 365 451 4.7.500", "en", None),
    ("421 4.7.1 [TS03] All messages from 198.51.100.7 permanently deferred", "send.rejected_as_spam",
     "help.yahoo.com SLN3436", "en", None),
    ("421 Message temporarily deferred - 4.16.51", "server.rate_limited",
     "help.yahoo.com postmaster-22 (quoted on blog.csdn.net)", "en", None),
    (("[Status: Error, Address: <klant@yahoo.co.in>, ResponseCode 421, , 4.7.0 [TS02] Messages from 72.5.230.103 "
      "temporarily deferred due to user complaints - 4.16.56.1; see "
      "http://postmaster.yahoo.com/421-ts02.html]\nMessage will be retried for 4 more day(s)"),
     "server.rate_limited", "help.zoho.com community: message from Zoho to Yahoo elicits 421", "en", None),
]
SISIMAI_FR = "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/FrancePTT.pm (Orange, La Poste replies)"
SISIMAI_APPLE = "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/Apple.pm (iCloud replies)"
ROUND5 += [
    (("SMTP failed to connect and authenticate: SMTP failed to login: transient: 4.7.0 Temporary authentication "
      "failure: Connection lost to authentication server."),
     "server.temporary_failure", "github.com/chatmail/relay/issues/441", "en", None),
    (("451 4.7.24 The SPF record of the sending domain has one or more suspicious entries. To protect our users from "
      "spam, mail sent from your IP address has been temporarily rate limited. For more information, go to Email "
      "sender guidelines."),
     "send.rejected_as_spam", "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/Google.pm (Gmail replies)", "en", None),
    (("550 5.7.24 The SPF record of the sending domain has one or more suspicious entries. For more information, go to "
      "Email sender guidelines."),
     "send.rejected_as_spam", "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/Google.pm (Gmail replies)", "en", None),
    ("5.5.3 Mail from not owned by user. LPN105_421.", "send.sender_not_allowed", SISIMAI_FR, "en", None),
    ("Boite du destinataire archivee. Archived recipient.", "send.recipient_unknown", SISIMAI_FR, "fr", None),
    ("550 5.5.0 Le compte du destinataire est bloque. The recipient account isblocked. LPN007_426",
     "send.recipient_unknown", SISIMAI_FR, "fr", None),
    ("421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]",
     "server.temporary_failure", SISIMAI_FR, "fr", None),
    ("Too many connections, slow down. LPN105_104", "server.rate_limited", SISIMAI_FR, "en", None),
    (("554 5.7.1 [HME1] This message was blocked for failing both SPF and DKIM authentication checks. See "
      "https://support.apple.com/en-us/HT204137 for mailing best practices"),
     "send.rejected_as_spam", SISIMAI_APPLE, "en", None),
    ("550 5.7.0 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.1.2", "send.rejected_as_spam",
     SISIMAI_APPLE, "en", None),
    (("550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus SBL. For details please see "
      "http://www.spamhaus.org/query/bl?ip=192.0.2.1"),
     "send.rejected_as_spam", SISIMAI_APPLE, "en", None),
    ("550 5.1.6 recipient no longer on server: klant@icloud.com", "send.recipient_unknown", SISIMAI_APPLE, "en", None),
    ("552 5.2.2 <klant@icloud.com>: user is over quota (in reply to RCPT TO command)", "send.recipient_mailbox_full",
     SISIMAI_APPLE, "en", None),
    ("550 5.1.1 <klant@icloud.com>: inactive email address (in reply to RCPT TO command)", "send.recipient_unknown",
     SISIMAI_APPLE, "en", None),
    ("550 5.1.1 unknown or illegal alias: klant@icloud.com", "send.recipient_unknown", SISIMAI_APPLE, "en", None),
]
SISIMAI_MS = "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/Microsoft.pm (Exchange Online NDR texts)"
ROUND5 += [
    ("550 5.7.25 Access denied, the sending IPv6 address [2a01:111:f200:2004::240] must have a reverse DNS record",
     "send.rejected_as_spam", SISIMAI_MS, "en", None),
    ("550 5.7.506 Access denied, bad HELO", "send.rejected_as_spam", SISIMAI_MS, "en", None),
    (("550 5.7.513 Service unavailable, Client host [198.51.100.7] blocked by contoso.com using Customer Block list "
      "(AS16012607)"),
     "send.rejected_as_spam", SISIMAI_MS, "en", None),
    ("550 5.7.509 Access denied, sending domain [bakkerij.nl] does not pass DMARC verification",
     "send.rejected_as_spam", SISIMAI_MS, "en", None),
    ("550 5.7.23 The message was rejected because of Sender Policy Framework violation", "send.rejected_as_spam",
     SISIMAI_MS, "en", None),
    ("550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient", "send.message_too_large",
     SISIMAI_MS, "en", None),
    ("5.4.300 Message expired", "send.gave_up", SISIMAI_MS, "en", None),
]

# Round 6: collected after round 5 was spent and the classifier fixed on it (measured once, then spent:
# README.md, "The held-out split, honestly"):
# GoDaddy, Gmail, Yahoo, Zoho, Microsoft 365/Exchange, Rackspace, Mimecast, Trend Micro replies from
# their documentation and postmaster pages (several through the per-provider bounce texts the
# sisimai project keeps), mail libraries' issue trackers, and Thunderbird's own error messages in
# German, French, Italian and Dutch. Labelled by what fixes it for the user and committed before
# the classifier ran on them; measured once (README.md).
GODADDY = "godaddy.com help: what does my email bounceback mean (via sisimai Rhost/GoDaddy.pm)"
GMAIL_SISIMAI = "support.google.com/a/answer/3726730 Gmail SMTP errors (via sisimai Rhost/Google.pm)"
ROUND6: list[tuple[str, str, str, str, str | None]] = [
    ("550 jane@coolexample.com Blank From: addresses are not allowed. Provide a valid From. IB501",
     "send.sender_not_allowed", GODADDY, "en", None),
    ("550 jane@coolexample.com IP addresses are not allowed as a From: Address. Provide a valid From. IB502",
     "send.sender_not_allowed", GODADDY, "en", None),
    ("550 coolexample.com From: Domain is invalid. Provide a valid From: IB506", "send.sender_not_allowed", GODADDY,
     "en", None),
    ("550 jane@coolexample.com Invalid SPF record. Inspect your SPF settings, and try again. IB508",
     "send.rejected_as_spam", GODADDY, "en", None),
    ("421 Temporarily rejected. Reverse DNS for this IP failed. IB108", "send.rejected_as_spam", GODADDY, "en", None),
    ("552 This message has been rejected due to content judged to be spam by the internet community. IB212",
     "send.rejected_as_spam", GODADDY, "en", None),
    ("552 Virus infected message rejected. IB705", "send.rejected_as_spam", GODADDY, "en", None),
    ("452 This message contains too many recipients. Reduce the number of recipients and retry. IB605",
     "server.rate_limited", GODADDY, "en", None),
    ("421 Connection refused, too many sessions from This IP. Lower the number of concurrent sessions. IB007",
     "server.rate_limited", GODADDY, "en", None),
    ("421 Server temporarily unavailable. Try again later. IB101", "server.temporary_failure", GODADDY, "en", None),
    (("554 This IP has been temporarily blocked for attempting to send too many messages containing content judged to "
      "be spam by the Internet community. IB110"), "send.rejected_as_spam", GODADDY, "en", None),
    ("554 This IP has been blocked for the day, for attempting to mail too many invalid recipients. IB113",
     "send.rejected_as_spam", GODADDY, "en", None),
    ("550 This IP has sent too many messages this hour. IB504", "server.rate_limited", GODADDY, "en", None),
    ("550 This message has exceeded the max number of messages per session. Open a new session and try again. IB510",
     "server.rate_limited", GODADDY, "en", None),
    ("550 This IP has sent too many to too many recipients this hour. IB607", "server.rate_limited", GODADDY, "en",
     None),
    ("554 Connection refused. This IP has a poor reputation on Cloudmark Sender Intelligence (CSI). IB103",
     "send.rejected_as_spam", GODADDY, "en", None),
    ("554 Connection refused. This IP address is listed on the Spamhaus Block List (SBL). IB104",
     "send.rejected_as_spam", GODADDY, "en", None),
    ("554 Connection refused. This IP address is listed on the Policy Block List (PBL). IB106", "send.rejected_as_spam",
     GODADDY, "en", None),
    ("554 RBL Reject.", "send.rejected_as_spam", GODADDY, "en", None),
    (("451 Sorry, I wasn't able to establish an SMTP connection. I'm not going to try again; this message has been in "
      "the queue too long."), "send.gave_up", GODADDY, "en", None),
    ("Account storage limit", "send.recipient_mailbox_full", GODADDY, "en", None),
    ("552 Message rejected for spam or virus content", "send.rejected_as_spam", GODADDY, "en", None),
    ("Account disabled", "send.recipient_unknown", GODADDY, "en", None),
    ("This message is looping: it already has my Delivered-To line. (#5.4.6)", "unknown", GODADDY, "en", None),
    ("550 Recipient not found", "send.recipient_unknown", GODADDY, "en", None),
    ("Account does not exist", "send.recipient_unknown", GODADDY, "en", None),
    (("421 4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all senders to "
      "authenticate with either SPF or DKIM."), "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("550 5.7.26 This message fails to pass SPF checks for an SPF record with a hard fail policy (-all). To best "
      "protect our users from spam and phishing, the message has been blocked. Please visit "
      "https://support.google.com/mail/answer/81126 for more information."), "send.rejected_as_spam", GMAIL_SISIMAI,
      "en", None),
    (("421 4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. Gmail "
      "requires all bulk email senders to authenticate their email with SPF."), "send.rejected_as_spam", GMAIL_SISIMAI,
      "en", None),
    (("421 4.7.30 Your email has been rate limited because DKIM authentication didn't pass for this message. Gmail "
      "requires all email bulk senders to authenticate their email with DKIM."), "send.rejected_as_spam", GMAIL_SISIMAI,
      "en", None),
    (("421 4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn't aligned "
      "with either the authenticated SPF or DKIM organizational domain."), "send.rejected_as_spam", GMAIL_SISIMAI, "en",
      None),
    (("421 4.7.0 This message is suspicious due to the very low reputation of the sending IP address. To protect our "
      "users from spam, mail sent from your IP address has been temporarily rate limited. For more information, go to "
      "Why has Gmail blocked my messages?. https://support.google.com/mail/answer/188131"), "send.rejected_as_spam",
      GMAIL_SISIMAI, "en", None),
    ("501 5.5.4 HELO/EHLO argument is invalid. https://support.google.com/mail/?p=helo", "unknown", GMAIL_SISIMAI, "en",
     None),
    (("421 4.7.0 Connection expired, try reconnecting. For more information, go to About SMTP error messages. "
      "https://support.google.com/a/answer/3221692"), "server.temporary_failure", GMAIL_SISIMAI, "en", None),
    (("451 4.4.2 Timeout - closing connection. For more information, go to About SMTP error messages. "
      "https://support.google.com/a/answer/3221692"), "server.temporary_failure", GMAIL_SISIMAI, "en", None),
    (("421 4.7.29 Your email has been rate limited because this message wasn't sent over a TLS connection. Gmail "
      "requires all bulk email senders to use TLS/SSL for SMTP connections."), "tls.starttls_required", GMAIL_SISIMAI,
      "en", None),
    (("452 4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to "
      "https://support.google.com/mail/?p=OverQuotaTemp"), "send.recipient_mailbox_full", GMAIL_SISIMAI, "en", None),
    (("554 5.4.6 Message exceeded 50 hops, this may indicate a mail loop. For more information, go to Gmail Help. "
      "https://support.google.com/mail/?p=MailLoop"), "unknown", GMAIL_SISIMAI, "en", None),
    (("550 7.7.1 The IP you're using to send mail is not authorized to send email directly to our servers. Use the "
      "SMTP relay at your service provider instead."), "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("550 5.7.1 Messages missing a valid address in the From: header, or having no From: header, are not accepted. "
      "For more information, go to Email sender guidelines and review RFC 5322 specifications."),
      "send.sender_not_allowed", GMAIL_SISIMAI, "en", None),
    (("550 5.7.1 Messages missing a valid Message-ID: header are not accepted. For more information, go to Email "
      "sender guidelines and review RFC 5322 specifications."), "unknown", GMAIL_SISIMAI, "en", None),
    (("553 5.1.7 The sender address factuur@bakkerij is not a valid RFC 5321 address. For more information, go to "
      "About SMTP error messages and review RFC 5321 specifications."), "send.sender_not_allowed", GMAIL_SISIMAI, "en",
      None),
    (("554 5.6.0 Mail message is malformed. Not accepted. For more information, go to Email sender guidelines and "
      "review RFC 5322 specifications."), "unknown", GMAIL_SISIMAI, "en", None),
    (("552 5.7.0 Our system detected an illegal attachment on your message. Please visit "
      "http://mail.google.com/support/bin/answer.py?answer=6590 to review our attachment guidelines."),
      "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("552 5.7.0 This message was blocked because its content presents a potential security issue. Please visit "
      "https://support.google.com/mail/?p=BlockedMessage to review our message content and attachment content "
      "guidelines."), "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("421 4.7.0 The IP address sending this message does not have a PTR record, or the corresponding forward DNS "
      "entry does not point to the sending IP. To protect our users from spam, mail sent from your IP address has been "
      "temporarily rate limited. For more information, go to Email sender guidelines."), "send.rejected_as_spam",
      GMAIL_SISIMAI, "en", None),
    (("550 5.7.25 The sending IP does not match the IP address of the hostname specified in the pointer (PTR) record. "
      "For more information, go to Email sender guidelines."), "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("421 4.7.0 This message is suspicious due to the nature of the content or the links within. To best protect our "
      "users from spam, the message has been blocked. For more information, go to Why has Gmail blocked my messages?."),
      "send.rejected_as_spam", GMAIL_SISIMAI, "en", None),
    (("450 4.2.1 Peak SMTP relay limit exceeded for customer. This is a temporary error. For more information on SMTP "
      "relay limits, please contact your administrator or visit https://support.google.com/a/answer/6140680"),
      "server.rate_limited", GMAIL_SISIMAI, "en", None),
    (("550 5.2.1 The email account that you tried to reach is inactive. For more information, go to "
      "https://support.google.com/mail/?p=DisabledUser"), "send.recipient_unknown", GMAIL_SISIMAI, "en", None),
    ("502 5.5.1 Too many unrecognized commands, goodbye.", "server.rate_limited", GMAIL_SISIMAI, "en", None),
    (("451 4.3.0 Multiple destination domains per transaction is unsupported. Please try again. For more information, "
      "go to About SMTP error messages and review RFC 5321 specifications."), "server.temporary_failure", GMAIL_SISIMAI,
      "en", None),
    (("454 4.7.0 Cannot authenticate due to a temporary system problem. Try again later. For more information, go to "
      "About SMTP error messages."), "server.temporary_failure", GMAIL_SISIMAI, "en", None),
    ("452 4.5.3 Domain policy size per transaction exceeded, please try this recipient in a separate transaction.",
     "server.rate_limited", GMAIL_SISIMAI, "en", None),
]
YAHOO_SISIMAI = "senders.yahooinc.com/smtp-error-codes (via sisimai Rhost/YahooInc.pm)"
ROUND6 += [
    (("550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to "
      "authenticate with either SPF or DKIM."), "send.rejected_as_spam", YAHOO_SISIMAI, "en", None),
    (("553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see "
      "http://postmaster.yahoo.com/errors/550-bl23.html [550]"), "send.rejected_as_spam", YAHOO_SISIMAI, "en", None),
    ("550 relaying denied for <klant@yahoo.com>", "unknown", YAHOO_SISIMAI, "en", None),
    (("451 Message temporarily deferred due to unresolvable RFC.5321 from domain. See "
      "https://senders.yahooinc.com/error-codes#unresolvable-from-domain"), "send.sender_not_allowed", YAHOO_SISIMAI,
      "en", None),
    (("553 5.7.2 [TSS09] All messages from 192.0.2.25 will be permanently deferred; Retrying will NOT succeed. See "
      "https://postmaster.yahooinc.com/error-codes"), "send.rejected_as_spam", YAHOO_SISIMAI, "en", None),
    ("554 delivery error: dd klant@yahoo.com is no longer valid.", "send.recipient_unknown", YAHOO_SISIMAI, "en", None),
    ("554 30 Sorry, your message to klant@aol.jp cannot be delivered. This mailbox is disabled (554.30)",
     "send.recipient_unknown", YAHOO_SISIMAI, "en", None),
    ("501 Syntax error in parameters or arguments", "unknown", YAHOO_SISIMAI, "en", None),
]
MIMECAST = "community.mimecast.com: Mimecast SMTP error codes"
IRIDIS = "portal.iridis.uk: mailRelay and mailFeed response codes"
ROUND6 += [
    ("421 Sender address blocked", "send.rejected_as_spam", MIMECAST, "en", None),
    ("421 Unable to process connection at this time", "server.temporary_failure", MIMECAST, "en", None),
    ("451 Internal resource temporarily unavailable", "server.temporary_failure", MIMECAST, "en", None),
    ("HST-RTE: Hourly send rate exceeded, retry later.", "server.rate_limited", IRIDIS, "en", None),
    ("HST-RTE: Daily send rate exceeded, retry later", "send.daily_limit_reached", IRIDIS, "en", None),
    ("SND-VFY: Sender domain does not exist", "send.sender_not_allowed", IRIDIS, "en", None),
    ("RPT-VFY: Recipient domain does not exist", "send.recipient_unknown", IRIDIS, "en", None),
    ("MSG-VMS: This message contains a virus, malware or spam", "send.rejected_as_spam", IRIDIS, "en", None),
    ("MSG-EXT: Blacklisted high risk file extension detected", "send.rejected_as_spam", IRIDIS, "en", None),
]
RACKSPACE = "postmaster.emailsrvr.com response codes / smtp.codes/rackspace (Rackspace Email)"
RACKSPACE_DOCS = "docs.rackspace.com: common email bounce messages"
SPAMBRELLA = "spambrella.com FAQ: email delivery error codes"
TREND = "docs.trendmicro.com: Deep Discovery Email Inspector SMTP error codes"
ROUND6 += [
    ("421 Too many concurrent connections from this client (G2)", "server.rate_limited", RACKSPACE, "en", None),
    ("450 4.7.1 Client host 198.51.100.7 has no PTR record (G1F)", "send.rejected_as_spam", RACKSPACE, "en", None),
    ("450 4.4.1 <klant@bakkerij.nl>: The recipient's server was temporarily unavailable to accept your message (G6)",
     "server.temporary_failure", RACKSPACE, "en", None),
    ("450 4.2.1 <klant@bakkerij.nl>: Mailbox received too much email in a short period of time (G30)",
     "server.rate_limited", RACKSPACE, "en", None),
    ("450 4.4.6 Routing loop detected (G16)", "server.temporary_failure", RACKSPACE, "en", None),
    ("450 4.4.0 <klant@bakkerij.nl> Temporary DMARC DNS lookup failure (G1E)", "server.temporary_failure", RACKSPACE,
     "en", None),
    ("451 4.7.1 Received too many messages from a new or untrusted IP (G28)", "server.rate_limited", RACKSPACE, "en",
     None),
    ("Host or domain name not found. MX host not found.", "send.recipient_unknown", RACKSPACE_DOCS, "en", None),
    (("451 4.3.0 <mail.bakkerij.nl[198.51.100.7]>: Client host rejected: Throttled - Too much spam from your mail "
      "server. Try again later."), "send.rejected_as_spam", RACKSPACE_DOCS, "en", None),
    ("452 4.3.1 Insufficient system resources", "server.temporary_failure", SPAMBRELLA, "en", None),
    ("550 5.7.1 <klant@bakkerij.nl>: Recipient address rejected: User email address is marked as invalid.",
     "send.recipient_unknown", SPAMBRELLA, "en", None),
    ("421 Block temporarily (Sender Filtering/Authentication)", "send.rejected_as_spam", TREND, "en", None),
    ("521 Block permanently (Sender Filtering/Authentication)", "send.rejected_as_spam", TREND, "en", None),
    ("450 Temporary denial of connection (450) for Zombie matches (ERS)", "send.rejected_as_spam", TREND, "en", None),
    ("550 Permanent denial of connection (550) for RBL+ matches (ERS)", "send.rejected_as_spam", TREND, "en", None),
]
ROUND6 += [
    (("Failed to authenticate on SMTP server with username \"noreply@example.com\" using 2 possible authenticators. "
      "Authenticator LOGIN returned Expected response code 250 but got code \"235\", with message \"235 2.7.0 "
      "Authentication successful\n\". Authenticator XOAUTH2 returned Expected response code 250 but got code \"503\", "
      "with message \"503 5.5.2 Auth command already specified\n\"."),
     "unknown", "github.com/swiftmailer/swiftmailer/issues/669", "en", None),
    ("fgets(): SSL: Connection reset by peer", "unknown", "github.com/swiftmailer/swiftmailer/issues/669", "en", None),
    (("Expected response code 250 but got code \"354\", with message \"354 Enter mail, end with \".\" on a line by "
      "itself"), "unknown",
     "github.com/jorijn/laravel-security-checker/issues/14", "en", None),
    ("Swift_TransportException: Expected response code 250 but got code \"\", with message \"\"", "unknown",
     "github.com/swiftmailer/swiftmailer/issues/331", "en", None),
    ("smtplib.SMTPRecipientsRefused: {'bryanb@psych360.org': (550, b'relay access denied - please authenticate')}",
     "auth.invalid_credentials",
     "github.com/mikechabot/smtp-email-spoofer-py/issues/18", "en", None),
    (("    raise SMTPServerDisconnected(\"Connection unexpectedly closed\")\nsmtplib.SMTPServerDisconnected: "
      "Connection unexpectedly closed"), "unknown",
     "github.com/NeloF4/brutegmail/issues/1", "en", None),
]
ZOHO_SISIMAI = "github.com/sisimai/p5-sisimai lib/Sisimai/Rhost/Zoho.pm (Zoho Mail replies)"
MS_SISIMAI = "learn.microsoft.com Exchange NDR codes (via sisimai Rhost/Microsoft.pm)"
ROUND6 += [
    (("<klant@zoho.com>: host smtpin.zoho.com[204.141.33.23] said: 554 5.7.1 Email cannot be delivered. Reason: Email "
      "flagged as Spam. (in reply to RCPT TO command)"), "send.rejected_as_spam", ZOHO_SISIMAI, "en", None),
    (("<klant@zoho.com>: host smtpin.zoho.com[204.141.33.23] said: 554 5.7.7 Email policy violation detected (in reply "
      "to end of DATA command)"), "send.rejected_as_spam", ZOHO_SISIMAI, "en", None),
    (("mx.zoho.com[204.141.33.44]:25, delay=1202, delays=1200/0/0.91/0.30, dsn=4.7.1, status=deferred (host "
      "mx.zoho.com[204.141.33.44] said: 451 4.7.1 Greylisted, try again after some time (in reply to RCPT TO "
      "command))"),
     "server.temporary_failure", ZOHO_SISIMAI, "en", None),
    (("<klant@zoho.com>: host smtpin.zoho.com[204.141.33.23] said: 550 5.1.1 User does not exist - <klant@zoho.com> "
      "(in reply to RCPT TO command)"), "send.recipient_unknown", ZOHO_SISIMAI, "en", None),
    ("554 5.4.6 Hop count exceeded - possible mail loop", "unknown", MS_SISIMAI, "en", None),
    ("550 5.4.14 Routing loop detected", "unknown", MS_SISIMAI, "en", None),
    ("550 5.7.1 Unable to relay", "unknown", MS_SISIMAI, "en", None),
    ("550 5.7.64 TenantAttribution; Relay Access Denied", "unknown", MS_SISIMAI, "en", None),
    ("550 5.4.310 DNS domain bakkerij.nlx does not exist", "send.recipient_unknown", MS_SISIMAI, "en", None),
    ("550 5.1.7 Unknown sender address", "send.sender_not_allowed", MS_SISIMAI, "en", None),
    ("550 5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant", "send.sender_not_allowed",
     MS_SISIMAI, "en", None),
    ("550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains",
     "send.sender_not_allowed", MS_SISIMAI, "en", None),
]
GAPPS = "support.google.com/a/answer/3726730 (via sisimai Rhost/GoogleApps.pm)"
ROUND6 += [
    ("550 5.1.2 We weren't able to find the recipient domain.", "send.recipient_unknown", GAPPS, "en", None),
    ("550 5.2.1 The email account that you tried to reach is disabled.", "send.recipient_unknown", GAPPS, "en", None),
    ("550 5.7.1 Email quota exceeded.", "send.recipient_mailbox_full", GAPPS, "en", None),
    ("550 5.7.1 Unauthenticated email is not accepted from this domain.", "send.rejected_as_spam", GAPPS, "en", None),
    ("550 5.7.1 Messages with multiple addresses in From: header are not accepted.", "send.sender_not_allowed", GAPPS,
     "en", None),
    ("535 5.5.4 Optional Argument not permitted for that AUTH mode.", "unknown", GAPPS, "en", None),
    ("554 5.7.0 Too Many Unauthenticated commands.", "unknown", GAPPS, "en", None),
    ("503 5.7.0 No identity changes permitted.", "unknown", GAPPS, "en", None),
]
TB_L10N = ("Thunderbird's own messages, github.com/mozilla-l10n/firefox-l10n "
           "{lang}/mail/chrome/messenger/messengercompose/composeMsgs.properties")
_TB = {
    "de": ("smtp.gmx.net", [
        (("Fehler beim Senden der Nachricht: SMTP-Server {h} ist unbekannt. Der Server ist eventuell falsch "
          "konfiguriert. Bitte kontrollieren Sie die SMTP-Server-Einstellungen und versuchen Sie es nochmals."),
          "net.host_not_found"),
        (("Die Nachricht konnte nicht gesendet werden, weil der Verbindungsaufbau mit dem SMTP-Server {h} "
          "fehlgeschlagen ist. Der Server ist entweder nicht verfügbar oder lehnt SMTP-Verbindungen ab. Bitte "
          "kontrollieren Sie die SMTP-Server-Einstellungen und versuchen Sie es nochmals oder kontaktieren Sie Ihren "
          "Netzwerkadministrator."), "net.connection_refused"),
        (("Die Nachricht konnte nicht gesendet werden, weil die Verbindung mit dem SMTP-Server {h} mitten in der "
          "Transaktion verloren wurde. Versuchen Sie es nochmals oder kontaktieren Sie Ihren Netzwerkadministrator."),
          "unknown"),
        (("Die Nachricht konnte nicht gesendet werden, weil die Verbindung mit dem SMTP-Server {h} ihre Ablaufzeit "
          "(Timeout) überschritten hat. Versuchen Sie es nochmals oder kontaktieren Sie Ihren Netzwerkadministrator."),
          "net.timeout"),
        (("Die Nachricht konnte aus unbekannten Gründen nicht über den SMTP-Server {h} gesendet werden. Bitte "
          "kontrollieren Sie die SMTP-Server-Einstellungen und versuchen Sie es nochmals oder kontaktieren Sie Ihren "
          "Netzwerkadministrator."), "unknown"),
        (("Der SMTP-Server {h} erlaubt die ungesicherte Übertragung des Passworts im Klartext nicht. Ändern Sie die "
          "\"Authentifizierungsmethode\" bitte versuchsweise zu \"Verschlüsseltes Passwort\" unter "
          "\"Konten-Einstellungen | Server-Einstellungen\"."), "tls.starttls_required"),
        (("Die Authentifizierung bei dem SMTP-Server {h} ist fehlgeschlagen. Bitte überprüfen Sie das Passwort und die "
          "gewählte \"Authentifizierungsmethode\" unter \"Konten-Einstellungen | Postausgang-Server (SMTP)\"."),
          "auth.invalid_credentials"),
        (("Die Authentifizierung bei dem SMTP-Server {h} ist fehlgeschlagen. Der Server unterstützt keine "
          "Authentifizierung (SMTP-AUTH). Bitte ändern Sie die \"Authentifizierungsmethode\" zu \"Keine "
          "Authentifizierung\" unter \"Konten-Einstellungen | Postausgang-Server (SMTP)\" oder kontaktieren Sie Ihren "
          "Anbieter des E-Mail-Diensts für Hilfestellung."), "tls.starttls_required"),
        (("Fehler beim Senden der Nachricht: Eine sichere Verbindung mit dem SMTP-Server {h} kann nicht mit STARTTLS "
          "aufgebaut werden, da der Server diese Funktion nicht angibt. Schalten Sie STARTTLS für diesen Server ab "
          "oder kontaktieren Sie Ihren Anbieter des E-Mail-Diensts."), "tls.mode_mismatch"),
        (("Die Größe der zu sendenden Nachricht übersteigt das globale Größenlimit (26214400 Bytes) des Servers. Die "
          "Nachricht wurde nicht gesendet; reduzieren Sie die Nachrichtengröße und versuchen Sie es nochmals."),
          "send.message_too_large"),
    ]),
    "fr": ("smtp.orange.fr", [
        (("Une erreur est survenue lors de l’envoi du courrier : le serveur sortant (SMTP) « {h} » est inconnu. Le "
          "serveur est peut-être mal configuré. Veuillez vérifier que les paramètres de votre serveur sortant (SMTP) "
          "sont corrects et essayez à nouveau."), "net.host_not_found"),
        (("Le message n’a pas pu être envoyé car la connexion au serveur sortant (SMTP) « {h} » a échoué. Le serveur "
          "est peut-être indisponible ou refuse les connexions SMTP. Veuillez vérifier que les paramètres de votre "
          "serveur sortant (SMTP) sont corrects et essayez à nouveau."), "net.connection_refused"),
        (("Le message n’a pas pu être envoyé car la connexion au serveur sortant (SMTP) « {h} » a été perdue pendant "
          "la transaction. Veuillez essayer à nouveau."), "unknown"),
        (("Le message n’a pas pu être envoyé car la connexion au serveur sortant (SMTP) « {h} » a expiré. Veuillez "
          "essayer à nouveau."), "net.timeout"),
        (("Le message n’a pas pu être envoyé en utilisant le serveur sortant (SMTP) « {h} » pour une raison inconnue. "
          "Veuillez vérifier que les paramètres de votre serveur sortant (SMTP) sont corrects et essayez à nouveau."),
          "unknown"),
        (("Le serveur sortant (SMTP) {h} n’autorise pas les mots de passe non chiffrés. Veuillez modifier la « Méthode "
          "d’authentification » pour « Mot de passe chiffré » dans le menu « Paramètres des comptes | Serveur sortant "
          "(SMTP) »."), "tls.starttls_required"),
        (("Impossible de s’authentifier sur le serveur sortant (SMTP) {h}. Veuillez vérifier votre mot de passe et la "
          "« Méthode d’authentification » dans le menu « Paramètres des comptes | Serveur sortant (SMTP) »."),
          "auth.invalid_credentials"),
        (("Impossible de s’authentifier sur le serveur sortant (SMTP) {h}. Il ne gère pas l’authentification "
          "(SMTP-AUTH) mais vous avez choisi de l’utiliser. Veuillez modifier la « Méthode d’authentification » pour « "
          "Aucune » dans le menu « Paramètres des comptes | Serveur sortant (SMTP) » ou contacter votre fournisseur de "
          "messagerie pour des instructions."), "tls.starttls_required"),
        (("Une erreur est survenue lors de l’envoi du courrier : impossible d’établir un lien sécurisé avec le serveur "
          "SMTP « {h} » en utilisant « STARTTLS » puisqu’il ne propose pas cette fonctionnalité. Désactivez « STARTTLS "
          "» pour ce serveur ou contactez votre fournisseur d’accès à Internet."), "tls.mode_mismatch"),
        (("La taille du message que vous essayez d’envoyer excède la limite de taille globale (26214400 octets) du "
          "serveur. Le message n’a pas été envoyé ; réduisez la taille du message et essayez à nouveau."),
          "send.message_too_large"),
    ]),
    "it": ("smtps.aruba.it", [
        (("Errore durante l'invio della posta: server SMTP {h} sconosciuto. Il server potrebbe non essere configurato "
          "correttamente. Controllare le impostazioni relative al server SMTP e riprovare."), "net.host_not_found"),
        (("Non è stato possibile inviare il messaggio in quanto impossibile connettersi al server SMTP {h}. Il server "
          "potrebbe essere non disponibile o potrebbe rifiutare connessioni SMTP. Verificare che le impostazioni "
          "relative al server SMTP siano corrette e riprovare oppure contattare l'amministratore del server."),
          "net.connection_refused"),
        (("Non è stato possibile inviare il messaggio in quanto la connessione al server SMTP {h} è stata persa nel "
          "mezzo della transazione. Riprovare oppure contattare l'amministratore del server."), "unknown"),
        (("Non è stato possibile inviare il messaggio in quanto la connessione al server SMTP {h} è andata fuori tempo "
          "massimo. Riprovare oppure contattare l'amministratore del server."), "net.timeout"),
        (("Non è stato possibile inviare il messaggio attraverso il server SMTP {h} per una ragione sconosciuta. "
          "Verificare le impostazioni SMTP e riprovare oppure contattare l'amministratore del server."), "unknown"),
        (("Il server SMTP {h} non gestisce le password in testo semplice. Usare 'Password cifrata' come 'Metodo di "
          "autenticazione' in 'Impostazioni account | Impostazione Server'."), "tls.starttls_required"),
        (("Impossibile ottenere l'autenticazione dal server SMTP {h}. Controllare la password e verificare il 'Metodo "
          "di autenticazione' in 'Impostazioni account | Server in uscita (SMTP)'."), "auth.invalid_credentials"),
        (("Impossibile ottenere l'autenticazione dal server SMTP {h} in quanto non gestisce l'autenticazione "
          "(SMTP-AUTH). Cambiare il 'Metodo di autenticazione' in 'Nessuno' in 'Impostazioni account | Server in "
          "uscita (SMTP)' o contattare il fornitore di posta per istruzioni."), "tls.starttls_required"),
        (("Errore durante l'invio della posta: impossibile stabilire un collegamento sicuro col server SMTP {h} "
          "utilizzando STARTTLS in quanto non supporta tale caratteristica. Disattivare STARTTLS per quel server o "
          "contattare il proprio fornitore di servizi."), "tls.mode_mismatch"),
        (("La dimensione del messaggio che si cerca di inviare eccede la dimensione massima globale (26214400 byte) "
          "del server. Il messaggio non è stato inviato; Ridurre la dimensione del messaggio e riprovare."),
          "send.message_too_large"),
    ]),
    "nl": ("smtp.ziggo.nl", [
        (("Er is een fout opgetreden bij het verzenden van e-mail: SMTP-server {h} is onbekend. De server is misschien "
          "niet juist geconfigureerd. Ga na of uw SMTP-serverinstellingen juist zijn en probeer het opnieuw."),
          "net.host_not_found"),
        (("Het bericht kon niet worden verzonden omdat het verbinden met SMTP-server {h} is mislukt. De server is "
          "misschien niet beschikbaar of weigert SMTP-verbindingen. Ga na of uw SMTP-serverinstellingen juist zijn en "
          "probeer het opnieuw, of neem contact op met de serverbeheerder."), "net.connection_refused"),
        (("Het bericht kon niet worden verzonden omdat de verbinding met de SMTP-server {h} werd verbroken in het "
          "midden van de transactie. Probeer het opnieuw, of neem contact op met uw netwerkbeheerder."), "unknown"),
        (("Het bericht kon niet worden verzonden omdat de wachttijd voor de verbinding met SMTP-server {h} is "
          "verlopen. Probeer het opnieuw, of neem contact op met uw netwerkbeheerder."), "net.timeout"),
        (("Het bericht kon niet worden verzonden via SMTP-server {h} om een onbekende reden. Ga na of uw "
          "SMTP-serverinstellingen juist zijn en probeer het opnieuw, of neem contact op met uw netwerkbeheerder."),
          "unknown"),
        (("Er is een fout opgetreden bij het verzenden van e-mail: niet gelukt om te authenticeren bij SMTP-server "
          "{h}. Deze ondersteunt geen authenticatie (SMTP-AUTH), maar u hebt gekozen voor gebruik van authenticatie. "
          "Vink ‘Gebruikersnaam en wachtwoord’ uit voor deze server of neem contact op met uw serviceprovider."),
          "tls.starttls_required"),
        (("Er is een fout opgetreden bij het verzenden van e-mail: niet gelukt om een beveiligde verbinding te maken "
          "met SMTP-server {h} met gebruik van STARTTLS. Schakel STARTTLS uit voor deze server of neem contact op met "
          "uw serviceprovider."), "tls.mode_mismatch"),
        (("Er is een fout opgetreden bij het verzenden van e-mail: niet gelukt om te aan te melden bij SMTP-server "
          "{h}. De server is misschien niet juist geconfigureerd. Ga na of uw SMTP-serverinstellingen juist zijn en "
          "probeer het opnieuw."), "auth.invalid_credentials"),
        (("De grootte van het bericht dat u wilt verzenden overschrijdt de globalegroottelimiet (26214400 bytes) van "
          "de server. Het bericht is niet verzonden; verminder de berichtgrootte en probeer het opnieuw."),
          "send.message_too_large"),
    ]),
}
for _lang, (_host, _items) in _TB.items():
    for _text, _code in _items:
        ROUND6.append((_text.format(h=_host), _code, TB_L10N.format(lang=_lang), _lang, None))
TB_IMAP_DE = ("Thunderbird's own messages, github.com/mozilla-l10n/firefox-l10n "
              "de/mail/chrome/messenger/imapMsgs.properties")
ROUND6 += [
    ("Dieser Mail-Server imap.gmx.net ist kein IMAP4-Mail-Server.", "net.wrong_service", TB_IMAP_DE, "de", None),
    ("Konnte nicht mit dem Server imap.gmx.net verbinden.", "net.host_not_found", TB_IMAP_DE, "de", None),
    ("Konnte keine Verbindung mit dem Mail-Server imap.gmx.net aufbauen, da sie verweigert wurde.",
     "net.connection_refused", TB_IMAP_DE, "de", None),
    ("Zeitüberschreitung der Verbindung mit Server imap.gmx.net.", "net.timeout", TB_IMAP_DE, "de", None),
    (("Der Server imap.gmx.net hat die Verbindung abgebrochen. Dieser Server ist entweder ausgefallen oder es gibt "
      "Netzwerkprobleme."), "unknown", TB_IMAP_DE, "de", None),
    (("Konnte nicht zu Ihrem IMAP-Server verbinden. Sie haben eventuell die maximale Anzahl von Verbindungen zu diesem "
      "Server überschritten.  Falls dies der Fall ist, verwenden Sie den Dialog für erweiterte "
      "IMAP-Server-Einstellungen, um die Anzahl der aufrecht erhaltenen Verbindungen zu reduzieren."),
      "server.rate_limited", TB_IMAP_DE, "de", None),
    (("Alle Login-Versuche auf imap.gmx.net sind fehlgeschlagen. Bitte überprüfen Sie das eingegebene Passwort oder "
      "ändern Sie die \"Authentifizierungsmethode\" unter \"Konten-Einstellungen | Server-Einstellungen\"."),
      "auth.invalid_credentials", TB_IMAP_DE, "de", None),
    (("Der IMAP-Server imap.gmx.net erlaubt die ungesicherte Übertragung des Passworts im Klartext nicht. Ändern Sie "
      "die \"Authentifizierungsmethode\" bitte versuchsweise zu \"Verschlüsseltes Passwort\" unter "
      "\"Konten-Einstellungen | Server-Einstellungen\"."), "tls.starttls_required", TB_IMAP_DE, "de", None),
]


# Relabelling (session 4, README "Combined diagnoses"): three pairs of causes that the reply's text
# cannot tell apart got one diagnosis each, naming both (or all) causes and fixes. A reply moves to
# it only where its text is one of the wordings that the corpus shows carrying either reading; its
# old label stays in ``relabelled_from``. These patterns are the labelling rule, written apart from
# the classifier's (a label must not be whatever the classifier says).
RELABEL: list[tuple[frozenset[str], re.Pattern[str], str]] = [
    # A relay refusal that names no cause: no sign-in, the wrong outgoing server, or a server that
    # does not take mail for the recipient's domain (labelled `unknown` until now).
    (frozenset({"unknown"}), re.compile(
        r"relay(?:ing)? (?:access )?(?:denied|not permitted)|unable to relay|no relaying|open relay not allowed"
        r"|as a relay, but I have not been configured", re.IGNORECASE), "send.relay_denied"),
    # A client that says only that the connection failed: PHPMailer's connect_host and
    # smtp_connect_failed in its languages, Nextcloud Mail's "Error connecting to SMTP server".
    (frozenset({"unknown"}), re.compile(
        r"could not connect to SMTP host|SMTP connect\(\) fail|Error connecting to SMTP server\.?$"
        r"|Konnte keine Verbindung zum SMTP-Host herstellen|Verbindung zum SMTP-Server fehlgeschlagen"
        r"|impossible de se connecter au serveur SMTP|Échec de la connexion SMTP|Impossibile connettersi all'host SMTP"
        r"|SMTP Connect\(\) fallita|kon niet verbinden met SMTP-host|SMTP Verbinding mislukt", re.IGNORECASE),
     "net.connection_failed"),
    # "Server (too) busy" naming neither a limit nor a fault: labelled a temporary failure at one
    # source and a rate limit at two others.
    (frozenset({"server.temporary_failure", "server.rate_limited"}), re.compile(
        r"^\d{3}[ -](?:\d\.\d{1,3}\.\d{1,3} )?Server (?:too )?busy\b", re.IGNORECASE), "server.busy"),
    # Session 7, the clash "relay … without authentication" (README "Labelling rules"): a refusal
    # that says the program did not sign in before sending ("relay access denied - please
    # authenticate", "Sender address rejected: not logged in", "530 Authentication required",
    # "smtp auth required", "Client was not authenticated") was `auth.invalid_credentials` at some
    # sources and `unknown` at others, while "relay through this server without authentication" was
    # `send.relay_denied`. One reading for all: `send.relay_denied`, whose first cause and step is
    # the missing sign-in (no password was refused: none was sent). Microsoft's documented 5.7.57
    # keeps its provider meaning (`auth.smtp_auth_disabled`).
    (frozenset({"auth.invalid_credentials", "unknown"}), re.compile(
        r"relay(?:ing)? (?:access )?denied.{0,80}(?:authenticat|log (?:eerst )?in|anmelden|inloggen)"
        r"|Sender address rejected: not logged in"
        r"|\bauth(?:entication)? required\b|client was not authenticated", re.IGNORECASE), "send.relay_denied"),
    # Outlook's relay refusal in Dutch and Italian, and qmail's rcpthosts refusal as Outlook's Dutch
    # help page gives it (the German and French ones and the English rcpthosts refusal are
    # `send.relay_denied` since session 6): relay refusals naming no cause, like the first rule above.
    (frozenset({"unknown"}), re.compile(r"Doorsturen geweigerd|Inoltro negato|lijst met toegestane rcpt-hosts"),
     "send.relay_denied"),
]


def relabel(row: dict[str, object]) -> None:
    for old, pattern, new in RELABEL:
        if row["code"] in old and pattern.search(str(row["text"])):
            row["relabelled_from"] = row["code"]
            row["code"] = new
            return


def split_of(text: str) -> str:
    """Round 1's held-out choice (by hash); that round is spent, see ``README.md``."""
    return "holdout" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5 < 3 else "train"


def main() -> None:
    rows: list[dict[str, object]] = []
    for case in json.loads(OLD.read_text(encoding="utf-8")):
        if any(k in case for k in ("protocol", "stage", "exception", "provider")):
            continue  # not something a user can paste into `mailport explain`
        rows.append({"text": case["text"], "code": case["code"], "source": case["source"], "lang": "en",
                     "email": case.get("email"), "split": "train"})
    seen = {str(r["text"]) for r in rows}
    for text, code, source, lang, email in NEW:
        if text in seen:
            continue
        seen.add(text)
        # Round 1's held-out replies were measured once (see README.md), then became training data.
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round1_holdout": split_of(text) == "holdout"})
    for text, code, source, lang, email in ROUND2:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round2_holdout": True})
    for text, code, source, lang, email in ROUND3:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round3_holdout": True})
    for text, code, source, lang, email in ROUND4:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round4_holdout": True})
    for text, code, source, lang, email in ROUND5:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round5_holdout": True})
    for text, code, source, lang, email in ROUND6:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "round6_holdout": True})
    for text, code, source, lang, email in SESSION4:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session4": True})
    for text, code, source, lang, email in SESSION4B:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session4b": True})
    for text, code, source, lang, email in SESSION4C:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session4c": True})
    for text, code, source, lang, email in SESSION6:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session6": True})
    for text, code, source, lang, email in SESSION6B:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session6b": True})
    for text, code, source, lang, email in SESSION7:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session7": True})
    for text, code, source, lang, email in SESSION8:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session8": True})
    for text, code, source, lang, email in SESSION9:
        if text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "code": code, "source": source, "lang": lang, "email": email,
                     "split": "train", "session9": True})
    for row in rows:
        relabel(row)
    (HERE / "replies.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    held = sum(1 for r in rows if r["split"] == "holdout")
    print(f"{len(rows)} replies, {held} held out, {sum(1 for r in rows if r['lang'] != 'en')} not in English")


if __name__ == "__main__":
    main()
