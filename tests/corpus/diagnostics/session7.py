"""Replies collected in session 7 for issue 18: one growth batch, measured once before it was trained on.

Collected from mail clients' and libraries' GitHub issue trackers (the server's reply as the user
saw it, usually inside a library's wrapper), hosting providers' and ISPs' help pages in en/de/nl/
fr/it, and Thunderbird's own messages in de/nl/fr/it (``thunderbird/thunderbird-l10n``: strings the
corpus did not have yet). Each reply is labelled by what fixes it for the user (README.md,
"Labelling rules", including session 7's rule for a refusal that says the client did not sign in),
deduplicated against the corpus (same text once addresses, IP addresses and host names are masked;
49 collected replies were dropped as repeats), committed before ``mailport explain`` first ran on
it and measured once with ``measure_batch.py session7`` (README.md, "Session 7"); only after that
used as training data. ``build.py`` adds them with ``"session7": true``. Placeholders stand where
the source had a user's address or host (``imap.example.de``); a reply's wording and codes are as
the source gives them.
"""

from __future__ import annotations

BATCH: list[tuple[str, str, str, str, str | None]] = [
    (("{ [AuthError: Invalid login - 435 4.7.8 Error: authentication failed:]\n  name: 'AuthError',\n  data: '435 4."
      "7.8 Error: authentication failed:',\n  stage: 'auth' }"),
     'auth.invalid_credentials',
     'https://github.com/nodemailer/nodemailer/issues/280',
     'en', None),
    (('Error: 530-5.5.1 Authentication Required. Learn more at\n530 5.5.1 http://mail.google.com/support/bin/answer.'
      'py?answer=14257 a9sm3071219icy.6'),
     'send.relay_denied',
     'https://github.com/nodemailer/nodemailer/issues/36',
     'en', None),
    (('Error while trying to send test email: {"code":"EAUTH","response":"535 Incorrect authentication data","respon'
      'seCode":535,"command":"AUTH PLAIN"} [other-email-sending-error]'),
     'auth.invalid_credentials',
     'https://github.com/sandstorm-io/sandstorm/issues/3137',
     'en', None),
    ('SMTP ERROR: Password command failed: 535 Incorrect authentication data\nSMTP Error: Could not authenticate.',
     'auth.invalid_credentials',
     'https://github.com/modoboa/modoboa/issues/1880',
     'en', None),
    ('Couldn’t connect with these settings \nInvalid login: 535 Incorrect authentication data',
     'auth.invalid_credentials',
     'https://github.com/n8n-io/n8n/issues/34376',
     'en', None),
    ('(535 Incorrect authentication data)',
     'auth.invalid_credentials',
     'https://github.com/afterlogic/webmail-lite-8/issues/77',
     'en', None),
    ("smtplib.SMTPRecipientsRefused: (550, b'relay not permitted')",
     'send.relay_denied',
     'https://github.com/namshi/docker-smtp/issues/77',
     'en', None),
    ('H=(localhost) [172.22.0.1] F=<no-reply@example.com> rejected RCPT <admin11@test.com>: relay not permitted',
     'send.relay_denied',
     'https://github.com/appwrite/docker-smtp/issues/9',
     'en', None),
    ('Expected response code 250 but got code "550", with message "550 5.7.1 Relaying denied\n"',
     'send.relay_denied',
     'https://github.com/jan-vince/smallcontactform/issues/95',
     'en', None),
    ('554 5.7.1 xxxxx@163.com: Relay access denied',
     'send.relay_denied',
     'https://github.com/docker-mailserver/docker-mailserver/issues/19',
     'en', None),
    ('Error: 554 5.7.1 <you@me.com>: Relay access denied',
     'send.relay_denied',
     'https://github.com/mike-koch/Mods-for-HESK/issues/116',
     'en', None),
    ('Server terminates connection. response=421-4.7.0 Try again later, closing connection. (EHLO)',
     'server.rate_limited',
     'https://github.com/dawidd6/action-send-mail/issues/196',
     'en', None),
    ('MessagingException: 421 4.3.2 too many connections, please try again later (5.0.0)',
     'server.rate_limited',
     'https://github.com/Purelymail/purelymail-issues/issues/388',
     'en', None),
    ('421 gmx.net Service closing transmission channel - command timeout',
     'server.temporary_failure',
     'https://github.com/chatmail/filtermail/pull/145',
     'en', None),
    ('SMTPServerDisconnected at /some-route/\nConnection unexpectedly closed',
     'unknown',
     'https://github.com/harvard-lil/perma/pull/2765',
     'en', None),
    ('S: A00000001 NO AUTHENTICATE failed.\nC: A00000002 LOGIN *****@*****.com *****\nS: A00000002 NO LOGIN failed.',
     'auth.invalid_credentials',
     'https://github.com/jstedfast/MailKit/issues/483',
     'en', None),
    (('ERROR: 4 NO [AUTHENTICATIONFAILED] Authentication failed. at /usr/local/share/perl5/Mail/IMAPClient.pm line'
      ' 1388.'),
     'auth.invalid_credentials',
     'https://github.com/imapsync/imapsync/issues/449',
     'en', None),
    (('S: a0 NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials\n[ERROR:flutter/runtime/dart_vm_initializer.cc(41)]'
      ' Unhandled Exception: [AUTHENTICATIONFAILED] LOGIN Invalid credentials'),
     'auth.invalid_credentials',
     'https://github.com/Enough-Software/enough_mail/issues/245',
     'en', None),
    (('IMAP Error: Login failed for support@site.ru from XXX.XXX.XXX.XX(X-Forwarded-For: XXX.XXX.XXX.XX). AUTHENTICA'
      'TE PLAIN: Authentication failed. in /usr/share/roundcubemail/program/lib/Roundcube/rcube_imap.php on line 193'
      ' (GET /webmail/)'),
     'auth.invalid_credentials',
     'https://github.com/roundcube/roundcubemail/issues/5310',
     'en', None),
    ('auth [LOGIN]: 2 NO LOGIN failed',
     'auth.invalid_credentials',
     'https://github.com/imapsync/imapsync/issues/255',
     'en', None),
    ('1 LOGIN "hr@example.com.pk" *********\n1 NO [AUTHENTICATIONFAILED] Authentication failed.',
     'auth.invalid_credentials',
     'https://github.com/Foundry376/Mailspring/issues/1503',
     'en', None),
    (('got code "552", with message "552-5.2.3 Your message exceeded Google\'s message size limits. Please visit 552'
      '-5.2.3  https://support.google.com/mail/?p=MaxSizeError to view our size 552 5.2.3 guidelines.'),
     'send.message_too_large',
     'https://github.com/swiftmailer/swiftmailer/issues/989',
     'en', None),
    (('Delivery to the following recipient failed permanently:\nprivate@localtest.me\n\nTechnical details of permane'
      'nt failure:\n\n550 Message too big!'),
     'send.message_too_large',
     'https://github.com/zone-eu/wildduck/issues/762',
     'en', None),
    (('submission: DATA error\t{"msg_id":"552598d7","reason":"I/O error while writing buffer: buffer: failed to writ'
      'e file: SMTP error 552: Maximum message size exceeded"}'),
     'send.message_too_large',
     'https://github.com/foxcpp/maddy/issues/772',
     'en', None),
    ('Horde_Smtp_Exception: Message size exceeds fixed limit',
     'send.message_too_large',
     'https://github.com/nextcloud/mail/issues/8295',
     'en', None),
    ('Unable to send an email: SMTP Error (535): Authentication failed',
     'auth.invalid_credentials',
     'https://github.com/roundcube/roundcubemail/issues/6605',
     'en', None),
    ('Exception message was: 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',
     'auth.invalid_credentials',
     'https://github.com/aschroder/Magento-SMTP-Pro-Email-Extension/issues/179',
     'en', None),
    ('500 Error: command "AUTH" not recognized',
     'tls.starttls_required',
     'https://github.com/kz26/mailproxy/issues/2',
     'en', None),
    ('SSL_connect returned=1 errno=0 peeraddr=x.x.x.x:587 state=error: wrong version number',
     'tls.mode_mismatch',
     'https://github.com/docusealco/docuseal/issues/93',
     'en', None),
    (('Error: 6924:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:c:\\ws\\deps\\openssl\\openssl\\'
      'ssl\\record\\ssl3_record.c:332:'),
     'tls.mode_mismatch',
     'https://github.com/dawidd6/action-send-mail/issues/124',
     'en', None),
    (('{"response":"139680966739840:error:1408F10B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl'
      '/openssl/ssl/record/ssl3_record.c:332:\\n","status":404,"message":"139680966739840:error:1408F10B:SSL routine'
      's:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:332:\\n","name":"Http'
      'Exception"'),
     'tls.mode_mismatch',
     'https://github.com/ever-co/ever-gauzy/issues/5341',
     'en', None),
    (("{ Error: connect ECONNREFUSED `65.55.163.152:587`\n    at Object.exports._errnoException (util.js:1022:11)\n"
      "  code: 'ECONNREFUSED',\n  errno: 'ECONNREFUSED',\n  syscall: 'connect',\n  address: '65.55.163.152',\n  port"
      ": 587 }"),
     'net.connection_refused',
     'https://github.com/nodemailer/nodemailer/issues/710',
     'en', None),
    (('SMTP ERROR: Failed to connect to server: Connection refused (111)\nSMTP connect() failed. https://github.com/'
      'PHPMailer/PHPMailer/wiki/Troubleshooting'),
     'net.connection_refused',
     'https://github.com/PHPMailer/PHPMailer/issues/1340',
     'en', None),
    ('Error: Error: connect ECONNREFUSED',
     'net.connection_refused',
     'https://github.com/nodemailer/nodemailer/issues/161',
     'en', None),
    (("/usr/local/lib/ruby/2.0.0/net/smtp.rb:541:in `initialize': Connection refused - connect(2) (Errno::ECONNREFUS"
      "ED)"),
     'net.connection_refused',
     'https://github.com/mikel/mail/issues/726',
     'en', None),
    (("****** ERROR  EMAIL  { Error: connect ECONNREFUSED 74.125.28.109:465\n    at Object.exports._errnoException"
      " (util.js:1026:11)\n  code: 'ECONNECTION',\n  errno: 'ECONNREFUSED',\n  syscall: 'connect',\n  address: '74.1"
      "25.28.109',\n  port: 465,\n  command: 'CONN'"),
     'net.connection_refused',
     'https://github.com/nodemailer/nodemailer/issues/292',
     'en', None),
    ("SMTPDataError: (550, b'5.4.5 Daily user sending quota exceeded. s124sm6149838wme.29 - gsmtp')",
     'send.daily_limit_reached',
     'https://github.com/iiuni/projektzapisy/issues/960',
     'en', None),
    ('554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException',
     'send.daily_limit_reached',
     'https://github.com/MicrosoftDocs/OfficeDocs-Support/issues/1150',
     'en', None),
    (('2020-08-15 17:53:32 SERVER -> CLIENT: 550 5.4.5 Daily user sending quota exceeded. s5sm12197523qke.120 - gsmt'
      'p'),
     'send.daily_limit_reached',
     'https://github.com/PHPMailer/PHPMailer/issues/2113',
     'en', None),
    ('550 unknown user account',
     'send.recipient_unknown',
     'https://turbolab.it/email-54/principali-messaggi-derrore-quando-spedite-email-3010',
     'en', None),
    (('SMTP error from remote mail server after RCPT TO:<email@adres.nl>: 554 No relaying allowed - psmtp\nhost boox'
      '.nl.s200a1.psmtp.com [207.126.147.10]: 554 No relaying allowed - psmtp'),
     'send.relay_denied',
     ('https://www.weboke.nl/knowledgebase/6/Email-foutmeldingen-Mail-delivery-failed-returning-message-to-sender.ht'
      'ml'),
     'en', None),
    (("Kan het bericht niet verzenden omdat één van de geadresseerden door de server is geweigerd. Het geweigerde e-"
      "mailadres is <e-mailadres>. Onderwerp: '<Test>', account: '<Test>', server: 'smtp.example.com>', protocol: SM"
      "TP, reactie van server: '553, dat domein is niet in mijn lijst met toegestane rcpt-hosts (#5.7.1)', poort: 25"
      ", beveiligd (SSL): Nee, serverfout: 553, foutnummer: 0x800CCC79."),
     'send.relay_denied',
     ('https://support.microsoft.com/nl-nl/office/ik-ontvang-550-553-en-doorstuurfouten-relay-bij-het-verzenden-van-'
      'e-mailberichten-65b494a4-0a15-433e-829f-e73651e0245e'),
     'nl', None),
    (("response: '550 The from address does not match a verified Sender Identity. Mail cannot be sent until this err"
      "or is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Send"
      "er Identity requirements',"),
     'send.sender_not_allowed',
     'https://github.com/sahat/hackathon-starter/issues/1083',
     'en', None),
    (("SMTPDataError: (550, b'The from address does not match a verified Sender Identity. Mail cannot be sent until"
      " this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender"),
     'send.sender_not_allowed',
     'https://github.com/CoderBounty/coderbounty/issues/364',
     'en', None),
    (('status=deferred (host smtppromx.orange.fr[xxx.xxx.xxx.xxx] refused to talk to me: 550 mwinf5c14 ME Adresse IP'
      ' source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref http://csi.clo'
      'udmark.com/reset-request/?ip=xxx.xxx.xxx.xxx [102])'),
     'send.rejected_as_spam',
     'https://github.com/ActiveCampaign/smtp-field-manual/pull/60',
     'fr', None),
    (("status=bounced (host aspmx.l.google.com[71.123.123.123] said: 550-5.7.1 [1.123.123.123] The IP you're using"
      " to send mail is not authorized to 550-5.7.1 send email directly to our servers. Please use the SMTP relay at"
      " your 550-5.7.1 service provider instead. For more information, go to 550 5.7.1  https://support.google.com/m"
      "ail/?p=NotAuthorizedError d2e1a72fcca58-715e57a0f50si1104d2710b3a.328 - gsmtp (in reply to end of DATA comman"
      "d))"),
     'send.rejected_as_spam',
     'https://github.com/iredmail/iRedMail/issues/264',
     'en', None),
    ('SMTP Error: 550 Unauthenticated senders not allowed',
     'send.relay_denied',
     'https://github.com/sendgrid/docs/issues/6473',
     'en', None),
    (("Server response: 550 550 OU-001 (SNT004-MC11F3) Unfortunately, messages from 104.130.122.18 weren't sent. Ple"
      "ase contact your Internet service provider since part of their network is on our block list. You can also ref"
      "er your provider to http://mail.live.com/mail/troubleshooting.aspx#errors."),
     'send.rejected_as_spam',
     'https://github.com/portier/portier-broker/issues/128',
     'en', None),
    (('"code": "UnauthenticatedFromAddress",\n        "message": "The From address is not authorised to send mail fr'
      'om this server"'),
     'send.sender_not_allowed',
     'https://github.com/postalserver/postal/issues/1161',
     'en', None),
    (('5.7.9 Application-specific password required. Learn more at 5.7.9 https://support.google.com/mail/?p=InvalidS'
      'econdFactor h26sm30121397pfq.64 - gs'),
     'auth.app_password_required',
     'https://github.com/mageplaza/magento-2-smtp/issues/181',
     'en', None),
    (('Exception message was: 5.7.9 Application-specific password required. Learn more at 5.7.9 https://support.goog'
      'le.com/accounts/answer/185833 b4sm274481wjd.16 - gsmtp'),
     'auth.app_password_required',
     'https://github.com/aschroder/Magento-SMTP-Pro-Email-Extension/issues/174',
     'en', None),
    ('Error 1: Password Command Failed: 534-5.7.9 Application-Specific Password Required',
     'auth.app_password_required',
     'https://github.com/PHPMailer/PHPMailer/issues/1708',
     'en', None),
    (('Failed to send some messages\nApplication-specific password required. Learn more at https://support.google.co'
      'm/mail/?p=invalidsecondfactor'),
     'auth.app_password_required',
     'https://github.com/thunderbird/thunderbird-android/issues/5607',
     'en', None),
    (("Configuration Error: (534, b'5.7.9 Application-specific password required. For more information, go to\\n5.7."
      "9  https://support.google.com/mail/?p=InvalidSecondFactor ffacd0b85a97d-368119970e7sm1809147f8f.21 - gsmtp')"),
     'auth.app_password_required',
     'https://github.com/Der-Henning/tgtg/issues/517',
     'en', None),
    (('[ error ] ofApp::onSMTPException: Exception: Login using LOGIN password failed: 535-5.7.8 Username and Passwo'
      'rd not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/answer/14257 j88sm1532869qgf.7 -'
      ' gsmtp'),
     'auth.invalid_credentials',
     'https://github.com/bakercp/ofxSMTP/issues/13',
     'en', None),
    (('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://a'
      'ka.ms/smtp_auth_disabled for more information. [MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.2'
      '14Z 08DBB276B7E699C4]'),
     'auth.smtp_auth_disabled',
     'https://github.com/simonrob/email-oauth2-proxy/issues/193',
     'en', None),
    (('ERROR Send Error: Invalid login: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disable'
      'd for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [TY1PR01CA0183.jpnprd01.prod.'
      'outlook.com]'),
     'auth.smtp_auth_disabled',
     'https://github.com/nodemailer/nodemailer/issues/1484',
     'en', None),
    (('The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.'
      '7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthent'
      'ication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.'),
     'auth.smtp_auth_disabled',
     'https://github.com/MicrosoftDocs/OfficeDocs-Exchange/issues/3124',
     'en', None),
    (("/usr/lib/ruby/gems/1.8/gems/tlsmail-0.0.1/lib/net/smtp.rb:679:in `auth_plain': 530 5.7.0 Must issue a STARTTL"
      "S command first. w29sm21914057vcr.2 (Net::SMTPAuthenticationError)"),
     'tls.starttls_required',
     'https://github.com/dcparker/ruby-gmail/issues/22',
     'en', None),
    ('"last_error": "5.7.0 Must issue a STARTTLS command first (530 5.7.0 Must issue a STARTTLS command first)"',
     'tls.starttls_required',
     'https://github.com/mailpile/Mailpile/issues/2251',
     'en', None),
    (('com.sun.mail.smtp.SMTPSendFailedException: 530 5.7.0 Must issue a STARTTLS command first. pe5sm5768337wjb.15'
      ' - gsmtp'),
     'tls.starttls_required',
     'https://github.com/virtualzone/tubewarder/issues/29',
     'en', None),
    ('Expected response code(s) [334] but got response [530 5.7.0 Must issue a STARTTLS command first]',
     'tls.starttls_required',
     'https://github.com/swiftmailer/swiftmailer/issues/1233',
     'en', None),
    ('SMTP Error: 530 5.7.0 Must issue a STARTTLS command first. m129sm2162575qkc.2 - gsmtp',
     'tls.starttls_required',
     'https://github.com/passbolt/passbolt_docker/issues/25',
     'en', None),
    ('550 5.1.1 : Recipient address rejected: User unknown in local recipient table',
     'send.recipient_unknown',
     'https://github.com/jeboehm/docker-mailserver/issues/221',
     'en', None),
    ('550 5.1.1 <*@religio-x.com>: Recipient address rejected: User unknown in virtual mailbox table;',
     'send.recipient_unknown',
     'https://github.com/mailcow/mailcow-dockerized/issues/893',
     'en', None),
    (('Une erreur est survenue lors de l’envoi du courrier. Le serveur de courrier a répondu : 5.1.1 <test@liste.dom'
      'ain.tld>: Recipient address rejected: User unknown in virtual mailbox table. Veuillez vérifier l’adresse du'
      ' destinataire test@liste.domain.tld et essayer à nouveau.'),
     'send.recipient_unknown',
     'https://github.com/YunoHost-Apps/mailman_ynh/issues/6',
     'fr', None),
    (('Net::SMTPFatalError - 550 5.1.1 &lt;asdasdasd&gt;: Recipient address rejected: User unknown in local recipien'
      't table'),
     'send.recipient_unknown',
     'https://github.com/mlandauer/cuttlefish/issues/191',
     'en', None),
    (("Address not found\n--\nYour message wasn't delivered to  anyaddress@mydomain.com  because the address couldn'"
      "t be found or is unable to receive email.\n\nThe response from the remote server was:\n\n550 5.1.1 <anyaddres"
      "s@mydomain.com >: Recipient address rejected: User unknown in virtual mailbox table"),
     'send.recipient_unknown',
     'https://github.com/forwardemail/free-email-forwarding/issues/158',
     'en', None),
    (('Diagnostic code: smtp;550 5.1.1 <user@docker-mail.tld >: Recipient address rejected: User unknown in local re'
      'cipient table'),
     'send.recipient_unknown',
     'https://github.com/docker-mailserver/docker-mailserver/issues/97',
     'en', None),
    ("Erorr: { [Error: certificate has expired] code: 'CERT_HAS_EXPIRED' }",
     'tls.certificate_invalid',
     'https://github.com/nodemailer/nodemailer/issues/530',
     'en', None),
    ('Error: self-signed certificate in certificate chain',
     'tls.certificate_invalid',
     'https://github.com/GEOLYTIX/xyz/issues/2086',
     'en', None),
    ("'{ [Error: self signed certificate] code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }'",
     'tls.certificate_invalid',
     'https://github.com/nodemailer/nodemailer/issues/406',
     'en', None),
    (('#Email could not be sent successfully to: XXX@tld.com\n        Email subject: [2023-08-25 (Agend)\n        Er'
      'ror: Error: certificate has expired'),
     'tls.certificate_invalid',
     'https://github.com/4minitz/4minitz/issues/587',
     'en', None),
    (("{ Error: self signed certificate in certificate chain\n    at TLSSocket.onConnectSecure (_tls_wrap.js:1055:34"
      ")\n    at TLSSocket.emit (events.js:198:13)\n    at TLSSocket._finishInit (_tls_wrap.js:633:8) code: 'ESOCKET"
      "', command: 'CONN' }"),
     'tls.certificate_invalid',
     'https://github.com/nodemailer/nodemailer/issues/1040',
     'en', None),
    (("XOAUTH2 authentication failed: xoauth2handler got: {u'error': u'invalid_grant'}\n ERROR: All authentication"
      " types failed:\n\tXOAUTH2: xoauth2handler got: {u'error': u'invalid_grant'}"),
     'auth.token_invalid',
     'https://github.com/OfflineIMAP/offlineimap/issues/374',
     'en', None),
    ('Error: Failed generating XOAuthToken: OPError: invalid_grant (Bad Request)',
     'auth.token_invalid',
     'https://github.com/ankaboot-source/leadminer/issues/901',
     'en', None),
    (('`fetch_access_token\': Authorization failed.  Server message: (Signet::AuthorizationError)\n{\n  "error": "in'
      'valid_grant",\n  "error_description": "Token has been expired or revoked."\n}'),
     'auth.token_invalid',
     'https://github.com/joeyates/imap-backup/issues/94',
     'en', None),
    ('XOAUTH2 authentication failed: [AUTHENTICATIONFAILED] Invalid credentials',
     'auth.token_invalid',
     'https://github.com/OfflineIMAP/offlineimap/issues/536',
     'en', None),
    ('permanent: 5.7.1 Service unavailable; client [54.224.254.xxx] blocked using zen.spamhaus.org',
     'send.rejected_as_spam',
     'https://github.com/reacherhq/backend/issues/189',
     'en', None),
    (('554-Service unavailable; Client host [bl11-253-215.dsl.telepac.pt] blocked using\r\n554-Barracuda Reputation;'
      '\r\n554 http://www.barracudanetworks.com/reputation/?r=1&ip=85.244.xxx.yyy'),
     'send.rejected_as_spam',
     'https://github.com/getconversio/email-deep-validator/pull/20',
     'en', None),
    (("Error: Can't send mail - all recipients were rejected: 550 5.7.1 Service unavailable; client [xx.xxx.xxx.xxx]"
      " blocked using zen.spamhaus.org"),
     'send.rejected_as_spam',
     'https://github.com/nodemailer/nodemailer/issues/1089',
     'en', None),
    (('Mailbox: got data 550 5.7.1 Service unavailable, Client host [xx.xx.xx.xx] blocked using Spamhaus. To request'
      ' removal from this list see ... (outlook)'),
     'send.rejected_as_spam',
     'https://github.com/devmehq/email-validator-js/issues/100',
     'en', None),
    (('Mailbox: got data 550 5.7.1 Mail from IP xx.xx.xx.xx was rejected due to listing in Spamhaus SBL. For details'
      ' please see ... (icloud)'),
     'send.rejected_as_spam',
     'https://github.com/devmehq/email-validator-js/issues/100',
     'en', None),
    (('status=bounced (host c3.testrun.org[private/dovecot-lmtp] said: 552 5.2.2 <user1697413481.021437_1@c3.testrun'
      '.org> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))'),
     'send.recipient_mailbox_full',
     'https://github.com/chatmail/relay/pull/21',
     'en', None),
    ('Diagnostic-Code:550 5.2.5 Folder full',
     'send.recipient_mailbox_full',
     'https://github.com/voku/PHPMailer-BMH/issues/23',
     'en', None),
    ('452 mailbox full',
     'send.recipient_mailbox_full',
     'https://github.com/customeros/mailsherpa/issues/32',
     'en', None),
    ('Net::SMTPServerBusy 450 Your account reached its email quota limit. Contact support to increase it. #MS42204',
     'send.daily_limit_reached',
     'https://github.com/geeksforsocialchange/PlaceCal/issues/2297',
     'en', None),
    ('#5.1.1 SMTP; 550 sorry, no mailbox here by that name',
     'send.recipient_unknown',
     'https://www.schieb.de/fehler-meldung-email-konnte-nicht-zugestellt-werden-entschluesseln',
     'en', None),
    ('450 4.7.1 Client host rejected: cannot find your hostname, []',
     'send.rejected_as_spam',
     'https://support.onesystems.ch/722126-%C3%9Cbersicht-h%C3%A4ufig-vorkommender-Fehlermeldungen',
     'en', None),
    ('554 5.7.1 Service unavailable; Client host [] blocked using ix.dnsbl.manitu.net',
     'send.rejected_as_spam',
     'https://support.onesystems.ch/722126-%C3%9Cbersicht-h%C3%A4ufig-vorkommender-Fehlermeldungen',
     'en', None),
    ('554 5.7.1 : Recipient address rejected: User unknown',
     'send.recipient_unknown',
     'https://support.onesystems.ch/722126-%C3%9Cbersicht-h%C3%A4ufig-vorkommender-Fehlermeldungen',
     'en', None),
    ('550 : Recipient address rejected: Account Closed',
     'send.recipient_unknown',
     'http://www.sitepackage.de/service/dokumentation/auswertung/typische-fehlermeldungen-bei-unzustellbarkeit.html',
     'en', None),
    ('Returned mail : user unknown',
     'send.recipient_unknown',
     'https://www.arobase.org:443/ecole/erreurs.htm',
     'en', None),
    ('Impossibile inviare il messaggio. Errore del server: 550.\nNumero di errore: 0x800CCC79',
     'unknown',
     'https://www.offertagratis.com/codici-di-errore-della-posta-elettronica/',
     'it', None),
    (('{ "errorMessage": "Error in sendVerificationEmail: MessageRejected: Email address is not verified. The follow'
      'ing identities failed the check in region US-WEST-2: tanzeelrana@cmail.carleotn.ca, tanzeelrana@cmail.carleto'
      'n.ca" }'),
     'send.sender_not_allowed',
     'https://github.com/danilop/LambdAuth/issues/64',
     'en', None),
    (('SimpleEmailService::sendRawEmail(): Sender - MessageRejected: Email address is not verified. The following id'
      'entities failed the check in region US-EAST-1: Sonrise241@gmail.com Request Id: b73f7091-8332-427a-8bba-e7ce5'
      '7950ac9'),
     'send.sender_not_allowed',
     'https://github.com/WPManageNinja/fluent-smtp/issues/103',
     'en', None),
    (('Net::SMTPFatalError: 554 Message rejected: Email address is not verified. The following identities failed the'
      ' check in region US-WEST-2: email'),
     'send.sender_not_allowed',
     'https://github.com/sul-dlss/dlme/issues/813',
     'en', None),
    (('[2016-08-04 12:20:39] main.CRITICAL: Zend_Mail_Protocol_Exception: Message rejected: Email address is not ver'
      'ified. The following identities failed the check in region US-EAST-1: abc@xyz.in'),
     'send.sender_not_allowed',
     'https://github.com/magepal/magento2-gmail-smtp-app/issues/17',
     'en', None),
    ('454 Throttling failure: Maximum sending rate exceeded',
     'server.rate_limited',
     'https://github.com/nodemailer/nodemailer/issues/436',
     'en', None),
    ("smtplib.SMTPDataError: (454, b'Throttling failure: Maximum sending rate exceeded.')",
     'server.rate_limited',
     'https://github.com/elifesciences/elife-bot/pull/1335',
     'en', None),
    (('exception \'Aws\\Ses\\Exception\\SesException\' with message \'Error executing "SendEmail" on "https://email.'
      'us-east-1.amazonaws.com"; AWS HTTP error: Client error: `POST https://email.us-east-1.amazonaws.com` resulted'
      ' in a `400 Bad Request` response:\n Throttling (client): Maximum sending rate exceeded.'),
     'server.rate_limited',
     'https://github.com/awsdocs/amazon-ses-developer-guide/issues/60',
     'en', None),
    ('452 4.3.2 Connection rate limit exceeded.',
     'server.rate_limited',
     'https://github.com/sisimai/p5-sisimai/issues/466',
     'en', None),
    ('message sending failed: 4.7.1 Ratelimit \\"user\\" exceeded (451)',
     'server.rate_limited',
     'https://github.com/mailcow/mailcow-dockerized/issues/1497',
     'en', None),
    (('450-4.2.1 450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-prevents additio'
      'nal messages from being delivered. Please resend your\n450-message at a later time. If the user is able to re'
      'ceive mail at that'),
     'server.rate_limited',
     'https://github.com/zone-eu/zone-mta/issues/110',
     'en', None),
    (('<?xml version="1.0" encoding="UTF-8"?> <error> <name>Net::SMTPServerBusy</name> <message>454 Throttling failu'
      're: Daily message quota exceeded. </message> </error>'),
     'send.daily_limit_reached',
     'https://github.com/EFForg/action-center-platform/issues/874',
     'en', None),
    (("Remote Server returned '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. Fo"
      "r more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230) [BM1PR01MB1076.INDPRD0"
      "1.PROD.OUTLOOK.COM]'"),
     'send.rejected_as_spam',
     'https://github.com/motze92/office365-mail/issues/11',
     'en', None),
    (('host ???-???.mail.protection.outlook.com[213.199.154.202] said: 550 5.7.606\n    Access denied, banned sendin'
      'g IP [****]. To request removal from\n    this list please visit https://sender.office.com/ and follow the\n'
      '    directions. For more information please go to\n    http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012'
      '609) (in reply to\n    RCPT TO command)'),
     'send.rejected_as_spam',
     'https://github.com/JamBrain/JamBrain/issues/271',
     'en', None),
    (('RCPT TO: email\n550 5.7.1 Service unavailable, Client host [3.211.34.40] blocked using Spamhaus. To request'
      ' removal from this list see https://www.spamhaus.org/query/ip/[3.211.34.40] (AS16012611) [DM3NAM03FT051.eop-N'
      'AM03.prod.protection.outlook.com]'),
     'send.rejected_as_spam',
     'https://github.com/aad-for-linux/pam_aad/issues/15',
     'en', None),
    (('Error login on [imap.gmail.com] with user [xxxxxxxxxxxxx@gmail.com] auth [LOGIN]: 2 NO [ALERT] Please log in'
      ' via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)'),
     'auth.web_login_required',
     'https://github.com/mailcow/mailcow-dockerized/issues/4277',
     'en', None),
    (('IMAP4 error: [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/7875'
      '4 (Failure)'),
     'auth.web_login_required',
     'https://github.com/rgladwell/imap-upload/issues/21',
     'en', None),
    ('<Net::IMAP::NoResponseError: Please log in via your web browser',
     'auth.web_login_required',
     'https://github.com/dcparker/ruby-gmail/issues/95',
     'en', None),
    (('error: [ALERT] Please log in via your web browser: http://support.google.com/mail/accounts/bin/answer.py?answ'
      'er=78754 (Failure)'),
     'auth.web_login_required',
     'https://github.com/lovelysystems/robotframework-imaplibrary/issues/23',
     'en', None),
    (('SMTP ERROR: Password command failed: 534-5.7.14 534-5.7.14 Please log in via your web browser and then try ag'
      'ain.'),
     'auth.web_login_required',
     'https://github.com/YetiForceCompany/YetiForceCRM/issues/14235',
     'en', None),
    ('* NO [WEBALERT <<long link>>] Web login required.',
     'auth.web_login_required',
     'https://github.com/smiley22/S22.Imap/issues/116',
     'en', None),
    ('ERROR | mailimap_login(m_Imap, m_User.c_str(), m_Pass.c_str()) = MAILIMAP_ERROR_LOGIN  (imap.cpp:105)',
     'auth.invalid_credentials',
     'https://github.com/d99kris/nmail/issues/129',
     'en', None),
    ('Host2 failure: Error login on [outlook.office365.com] with user [****] auth [LOGIN]: 2 NO LOGIN failed.',
     'auth.invalid_credentials',
     'https://github.com/imapsync/imapsync/issues/317',
     'en', None),
    ('Error: LOGIN failed. Account is blocked. Login to your account via a web browser to verify your identity.',
     'auth.web_login_required',
     'https://github.com/mscdex/node-imap/issues/799',
     'en', None),
    (('a1 LOGIN jolestar@hotmail.com ***\na1 NO Basic authentication is disabled.\n* BYE Microsoft Exchange Server'
      ' IMAP4 server signing off.'),
     'auth.password_login_disabled',
     'https://github.com/holon-run/uxc/issues/445',
     'en', None),
    (("Error: LOGIN failed.\n    at Connection._resTagged (/node_modules/imap/lib/Connection.js:1502:11)\n  type: 'n"
      "o',\n  textCode: undefined,\n  source: 'authentication'"),
     'auth.invalid_credentials',
     'https://github.com/mscdex/node-imap/issues/894',
     'en', None),
    (("/usr/local/lib/ruby/gems/3.1.0/gems/net-imap-0.2.3/lib/net/imap.rb:1245:in `get_tagged_response': LOGIN faile"
      "d. (Net::IMAP::NoResponseError)"),
     'auth.invalid_credentials',
     'https://github.com/joeyates/imap-backup/issues/134',
     'en', None),
    (("imap_open(): Couldn't open stream {outlook.office365.com:993/imap/novalidate-cert/ssl}. Retrying PLAIN authen"
      "tication after AUTHENTICATE failed.; Retrying PLAIN authentication after AUTHENTICATE failed.; Can not authen"
      "ticate to IMAP server: AUTHENTICATE failed."),
     'auth.invalid_credentials',
     'https://github.com/Webklex/php-imap/issues/302',
     'en', None),
    (("DNS Error: DNS type 'mx' lookup of dasdasdsadas.com responded with code NXDOMAIN Domain name not found: dasda"
      "sdsadas.com Learn more at https://support.google.com/mail/?p=BadRcptDomain"),
     'send.recipient_unknown',
     'https://github.com/postalsys/emailengine/issues/203',
     'en', None),
    ('450 4.1.2 <b8grvq@ubsonline.com>: Recipient address rejected: Domain not found',
     'send.recipient_unknown',
     'https://github.com/hitobito/hitobito/issues/495',
     'en', None),
    ('553 #5.1.8 Domain of sender address <nwq7bw@xxxx.xxxxx.net> does not exist',
     'send.sender_not_allowed',
     'https://github.com/postalserver/postal/issues/259',
     'en', None),
    (('Permanent SMTP delivery error when sending to mail.remoteserver.com (xx.xx.xx.xx) \n550 5.1.0 MailProtect :'
      ' Domain of sender address khcrqq@psrp.mydmain.com does not exist'),
     'send.sender_not_allowed',
     'https://github.com/postalserver/postal/issues/1199',
     'en', None),
    (("Error 550 5.1.1 The email account that you tried to reach does not exist. Please try 5.1.1 double-checking th"
      "e recipient's email address for typos or 5.1.1 unnecessary spaces. Learn more at 5.1.1 https://support.google"
      ".com/mail/?p=NoSuchUser b6-20020a056402350600b00425d8c9efd2si1462007edd.152 - gsmtp"),
     'send.recipient_unknown',
     'https://github.com/gophish/gophish/issues/2454',
     'en', None),
    (('550-Verification failed for <email address> 550-The mail server could not\n    deliver mail to <email address'
      '>.  The account or domain may not exist, they\n    may be blacklisted, or missing the proper dns entries. 550'
      ' Sender verify\n    failed (in reply to RCPT TO command)'),
     'send.sender_not_allowed',
     'https://github.com/mailcow/mailcow/issues/775',
     'en', None),
    ('550 no mailbox by that name is currently available',
     'send.recipient_unknown',
     'https://github.com/mailcow/mailcow-dockerized/issues/2237',
     'en', None),
    (('postfix/smtpd[2063]: NOQUEUE: reject: RCPT from app1 <user@gmail.com>: Recipient address rejected: Domain not'
      ' found; from=<noreply@mydomain.com> to=<user@gmail.com> proto=ESMTP helo=<[127.0.0.1]>'),
     'send.recipient_unknown',
     'https://github.com/bokysan/docker-postfix/issues/237',
     'en', None),
    (('Connection: Failed to connect to server. Error number 2. "Error notice: stream_socket_client(): unable to con'
      'nect to pg1.lexo.se:25 (Connection refused)\nSMTP ERROR: Failed to connect to server: Connection refused (111'
      ')'),
     'net.connection_refused',
     'https://github.com/PHPMailer/PHPMailer/issues/1149',
     'en', None),
    (('Connection failed. Error #2: stream_socket_client(): unable to connect to ssl://mail.planetinitiatives.com:46'
      '5 (Connection refused) [/var/www/planetinitiatives/wp-includes/PHPMailer/SMTP.php line 387]'),
     'net.connection_refused',
     'https://github.com/PHPMailer/PHPMailer/issues/2299',
     'en', None),
    (("exception 'Zend_Mail_Protocol_Exception' with message 'Connection refused' in /home/test/public_html/lib/Zend"
      "/Mail/Protocol/Abstract.php:277"),
     'net.connection_refused',
     'https://github.com/aschroder/Magento-SMTP-Pro-Email-Extension/issues/271',
     'en', None),
    (('Message could not be sent. Mailer Error: SMTP Error: Could not connect to SMTP host. Failed to connect to ser'
      'verSMTP server error: Failed to connect to server SMTP code: 111 Additional SMTP info: Connection refused'),
     'net.connection_refused',
     'https://github.com/PHPMailer/PHPMailer/issues/2885',
     'en', None),
    (('Recv: 550-Message rejected because [69.89.31.218]:10503 is blacklisted see Blocked -\nRecv: 550 Too many fail'
      'ed logins'),
     'auth.too_many_attempts',
     'https://github.com/roundcube/roundcubemail/issues/6393',
     'en', None),
    ('ar_sendmail: authentication error, giving up: 535-5.7.1 Username and Password not accepted. Learn more at',
     'auth.invalid_credentials',
     'https://github.com/redu/redu/issues/340',
     'en', None),
    ('SMTP Error: Could not authenticate.',
     'auth.invalid_credentials',
     'https://github.com/PHPMailer/PHPMailer/issues/3335',
     'en', None),
    (('Der Postausgangs-Server (SMTP) smtp.example.de kann nicht authentifiziert werden. Bitte überprüfen Sie das Pa'
      'sswort und die gewählte „Authentifizierungsmethode“ unter „Konten-Einstellungen | Postausgangs-Server (SMTP)“'
      '.'),
     'auth.invalid_credentials',
     ('https://github.com/thunderbird/thunderbird-l10n de/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (smtpAuthFailure)'),
     'de', None),
    (('Fehler beim Senden der Nachricht: Die Absenderadresse (Von:) ist ungültig. Bitte überprüfen Sie, ob Ihre E-Ma'
      'il-Adresse korrekt ist, und wiederholen Sie den Vorgang.'),
     'send.sender_not_allowed',
     ('https://github.com/thunderbird/thunderbird-l10n de/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (couldNotGetUsersMailAddress2)'),
     'de', None),
    ('Authentifizierungsfehler beim Verbinden mit dem Server imap.example.de.',
     'auth.token_invalid',
     ('https://github.com/thunderbird/thunderbird-l10n de/mail/chrome/messenger/imapMsgs.properties (imapOAuth2Error'
      ')'),
     'de', None),
    (('Verbindung mit imap.example.de konnte nicht hergestellt werden. Bitte versuchen Sie es später erneut. Wenn da'
      's Problem weiterhin besteht, habe Sie möglicherweise die maximale Anzahl von Verbindungen zu diesem Server üb'
      'erschritten. Sie können die Anzahl der zwischengespeicherten Verbindungen in den IMAP-Server-Einstellungen re'
      'duzieren.'),
     'server.rate_limited',
     ('https://github.com/thunderbird/thunderbird-l10n de/mail/chrome/messenger/imapMsgs.properties (imapServerDropp'
      'edConnection2)'),
     'de', None),
    ('Verbindung mit Server imap.example.de konnte nicht hergestellt werden.',
     'net.host_not_found',
     ('https://github.com/thunderbird/thunderbird-l10n de/mail/chrome/messenger/imapMsgs.properties (imapUnknownHost'
      'Error)'),
     'de', None),
    (('Kan niet authenticeren bij uitgaande (SMTP-)server smtp.example.nl. Controleer het wachtwoord en verifieer de'
      ' ‘Authenticatiemethode’ in de ‘Accountinstellingen | Uitgaande server (SMTP)’.'),
     'auth.invalid_credentials',
     ('https://github.com/thunderbird/thunderbird-l10n nl/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (smtpAuthFailure)'),
     'nl', None),
    ('Authenticatiefout tijdens het verbinden met server imap.example.nl.',
     'auth.token_invalid',
     ('https://github.com/thunderbird/thunderbird-l10n nl/mail/chrome/messenger/imapMsgs.properties (imapOAuth2Error'
      ')'),
     'nl', None),
    (('Kan geen verbinding maken met imap.example.nl. Probeer het later opnieuw. Als het probleem aanhoudt, hebt u'
      ' mogelijk het maximale aantal verbindingen met deze server overschreden. U kunt het aantal gebufferde verbind'
      'ingen verlagen in de IMAP-serverinstellingen.'),
     'server.rate_limited',
     ('https://github.com/thunderbird/thunderbird-l10n nl/mail/chrome/messenger/imapMsgs.properties (imapServerDropp'
      'edConnection2)'),
     'nl', None),
    (('Une erreur est survenue pendant l’envoi de l’e-mail : l’adresse de l’expéditeur (de :) n’est pas valide. Veui'
      'llez vérifier que cette adresse e-mail est correcte puis essayez à nouveau.'),
     'send.sender_not_allowed',
     ('https://github.com/thunderbird/thunderbird-l10n fr/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (couldNotGetUsersMailAddress2)'),
     'fr', None),
    ('Échec de l’authentification lors de la connexion au serveur imap.example.fr.',
     'auth.token_invalid',
     ('https://github.com/thunderbird/thunderbird-l10n fr/mail/chrome/messenger/imapMsgs.properties (imapOAuth2Error'
      ')'),
     'fr', None),
    (('Impossible de se connecter à imap.example.fr. Veuillez réessayer plus tard. Si le problème persiste, vous ave'
      'z peut-être dépassé le nombre maximal de connexions à ce serveur. Vous pouvez réduire le nombre de connexions'
      ' mises en cache dans les paramètres du serveur IMAP.'),
     'server.rate_limited',
     ('https://github.com/thunderbird/thunderbird-l10n fr/mail/chrome/messenger/imapMsgs.properties (imapServerDropp'
      'edConnection2)'),
     'fr', None),
    (('Autenticazione non riuscita col server di posta in uscita (SMTP) smtp.example.it. Controllare la password e'
      ' verificare il “Metodo di autenticazione” in “Impostazioni account | Server posta in uscita (SMTP)”.'),
     'auth.invalid_credentials',
     ('https://github.com/thunderbird/thunderbird-l10n it/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (smtpAuthFailure)'),
     'it', None),
    (('Si è verificato un errore durante l’invio della posta: l’indirizzo del mittente (Da:) non era valido. Verific'
      'are che l’indirizzo email sia corretto e provare di nuovo.'),
     'send.sender_not_allowed',
     ('https://github.com/thunderbird/thunderbird-l10n it/mail/chrome/messenger/messengercompose/composeMsgs.propert'
      'ies (couldNotGetUsersMailAddress2)'),
     'it', None),
    ('Autenticazione non riuscita durante la connessione al server imap.example.it.',
     'auth.token_invalid',
     ('https://github.com/thunderbird/thunderbird-l10n it/mail/chrome/messenger/imapMsgs.properties (imapOAuth2Error'
      ')'),
     'it', None),
    (('Impossibile connettersi a imap.example.it. Riprova più tardi. Se il problema persiste, potresti aver superato'
      ' il numero massimo di connessioni a questo server. È possibile ridurre il numero di connessioni memorizzate'
      ' nella cache nelle impostazioni del server IMAP.'),
     'server.rate_limited',
     ('https://github.com/thunderbird/thunderbird-l10n it/mail/chrome/messenger/imapMsgs.properties (imapServerDropp'
      'edConnection2)'),
     'it', None),
]
