"""Evidence -> :class:`Diagnosis`.

The order of decisions, most specific first:

1. Signatures in the text that name the situation outright (``Application-specific password
   required``, ``SmtpClientAuthentication is disabled``, ``WRONG_VERSION_NUMBER`` …), including
   decoded XOAUTH2 error challenges and OAuth ``error`` / ``AADSTS`` codes.
2. The exception type, for evidence that carries little text (``ConnectionRefusedError``).
3. IMAP response codes (RFC 5530) such as ``[AUTHENTICATIONFAILED]``.
4. SMTP enhanced status codes (RFC 3463) and then basic reply codes (RFC 5321, RFC 4954).
5. Refinement by provider, for replies that mean something more precise at a known provider
   (documented at :func:`_refine`).

Before 1, where the account's provider is known (address, account host or provider id), that
provider's own documented meaning of a reply (:mod:`.provider_codes`, a table of data) comes first.

For free text read by a person (:func:`classify_text` with ``learned_layer``, what ``mailport
explain`` does), where the rules say
``unknown`` or only read the generic meaning of a status code, the model learned from the corpus of
real replies (:mod:`.learned`) answers if it is sure enough; replies known to be ambiguous stay
``unknown`` (``_AMBIGUOUS_RE``).

Anything else is ``unknown`` with the server's own text: a wrong confident answer sends the user
down the wrong path, an honest "we don't know" plus the server text does not.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from mailport.core.diagnostics import learned
from mailport.core.diagnostics.catalog import CODES
from mailport.core.diagnostics.evidence import Diagnosis, Evidence, scrub
from mailport.core.diagnostics.provider_codes import provider_code
from mailport.core.diagnostics.providers import provider_family, provider_variant

__all__ = ["classify", "classify_exception", "classify_text", "combine", "rules_with_basis"]


@dataclass(frozen=True, slots=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]
    protocols: frozenset[str | None] | None = None  # None: any protocol


def _rule(code: str, *alternatives: str, protocols: Iterable[str | None] | None = None) -> _Rule:
    pattern = re.compile("|".join(f"(?:{alt})" for alt in alternatives), re.IGNORECASE)
    return _Rule(code, pattern, frozenset(protocols) if protocols is not None else None)


# Microsoft Entra (AADSTS) error numbers -> code. Numbers not listed (app registration mistakes
# such as 7000215 "invalid client secret") stay unknown: the user cannot fix those.
_AADSTS: Final[dict[str, str]] = {
    "65001": "auth.admin_consent_required",  # consent not granted
    "65004": "auth.admin_consent_required",  # user declined consent
    "90094": "auth.admin_consent_required",  # admin consent required
    "90099": "auth.admin_consent_required",  # application not authorised in tenant
    "50105": "auth.admin_consent_required",  # user not assigned to the app
    "53003": "auth.admin_consent_required",  # blocked by Conditional Access
    "70008": "auth.token_invalid",  # refresh token expired
    "700082": "auth.token_invalid",  # refresh token expired due to inactivity
    "700084": "auth.token_invalid",  # SPA refresh token lifetime
    "50173": "auth.token_invalid",  # grant expired (password changed)
    "50133": "auth.token_invalid",  # session invalid (password expired/changed)
    "70043": "auth.token_invalid",  # sign-in frequency forces re-authentication
    "50076": "auth.web_login_required",  # MFA required
    "50079": "auth.web_login_required",  # MFA registration required
    "50074": "auth.web_login_required",  # strong authentication required
    "50158": "auth.web_login_required",  # external security challenge
    "50126": "auth.invalid_credentials",  # invalid username or password
    "50034": "auth.invalid_credentials",  # user does not exist
    "50055": "auth.invalid_credentials",  # password expired
    "50053": "auth.too_many_attempts",  # account locked / smart lockout
    "50057": "send.account_blocked",  # user account disabled
}
_AADSTS_RE: Final = re.compile(r"\bAADSTS(\d{5,7})\b")

# Orange and La Poste put a documented reason number after their OFR / LPN / OUK codes
# ("OFR_416", "LPN105_104", "OFR004_104", "LPNAAA_101"); the numbers whose meaning is unambiguous -> code.
# (Not 421: Orange sends "OFR_421" with "too many connections" too, so that number alone says nothing.)
# Session 8 added 101, 103, 505, 510, 517, 630 and 999 from the reason table Sisimai keeps for these hosts
# (README, "Session 8"): "Service refuse. Veuillez essayer plus tard." under 103/510/999 is a block of the
# sender, not a busy server, while the same words under 505 (a 421 at end of DATA) are a system error. (Not
# 402: La Poste sends "LPN007_402" with "DKIM is not configured" as well as "Authentication Required".)
_ORANGE_REASONS: Final[dict[str, str]] = {
    "101": "send.rejected_as_spam",  # blocked (a block list named)
    "102": "send.rejected_as_spam",  # source IP blocked for spam
    "103": "send.rejected_as_spam",  # "service refused": sender blocked
    "104": "server.rate_limited",  # too many connections
    "305": "auth.invalid_credentials",  # invalid authentication code
    "401": "send.rejected_as_spam",  # SPF: not allowed to send
    "403": "send.sender_not_allowed",  # invalid sender
    "405": "send.sender_not_allowed",  # invalid sender
    "415": "send.sender_not_allowed",  # invalid sender
    "416": "send.recipient_unknown",  # invalid recipient
    "417": "send.recipient_mailbox_full",  # recipient over quota
    "418": "send.recipient_unknown",  # invalid recipient
    "420": "send.recipient_unknown",  # archived recipient
    "426": "send.recipient_unknown",  # recipient account blocked
    "505": "server.temporary_failure",  # system error (421 at end of DATA)
    "506": "send.rejected_as_spam",  # mail rejected (spam)
    "510": "send.rejected_as_spam",  # "service refused": sender blocked
    "514": "send.message_too_large",  # maximum message size reached
    "517": "send.rejected_as_spam",  # DMARC verification failed
    "630": "unknown",  # "policy violation" with nothing more: a deliberate unknown (README, labelling rules)
    "999": "send.rejected_as_spam",  # "service refused": sender blocked
}
_ORANGE_RE: Final = re.compile(r"\b(?:OFR|LPN|OUK)(?:AAA|_?\d{3})?[_ ](\d{3})\b", re.IGNORECASE)

# The client says it tried OAuth ("XOAUTH2 authentication failed", "OAuth2 auth failed for …").
_OAUTH_MENTION_RE: Final = re.compile(
    r"\b(?:X?OAUTH2?|OAUTHBEARER)\b[^\n]{0,40}?\b(?:auth\w*|log ?in)\b[^\n]{0,20}?\bfail", re.IGNORECASE
)
# A connection that never came up: whatever a client's wrapper says about the sign-in, the cause
# is the network ("Login failed … Could not connect …: Connection refused").
_NETWORK_CAUSE_CODES: Final = frozenset({"net.connection_refused", "net.timeout", "net.host_not_found"})
# The sender's address or outgoing mail blocked: more specific than an "authentication failed"
# wrapper around it ("Authentication failed:554 5.1.8 Sender Address Blocked").
_SENDER_BLOCKED_RE: Final = re.compile(
    r"sender (?:address )?blocked|outgoing (?:mail |email |e-mail )?(?:is |has been )?blocked"
    r"|outgoing (?:mail|e-?mail)\b[^.;]{0,40}\b(?:has been|is) suspended", re.IGNORECASE
)
# An NDR's network status (4.4.x / 5.4.x) is about the receiving server, not the user's connection.
_RELAY_NETWORK_STATUS_RE: Final = re.compile(r"(?<![\d.])4\.4\.\d{1,3}\b")
_ADDRESS_CONTEXT_RE: Final = re.compile(r"recipient|address|mailbox|user|RCPT", re.IGNORECASE)

# Text signatures, most specific first. Each alternative is a regex matched case-insensitively
# against the flattened text (SMTP continuation prefixes removed, lines joined by spaces).
_TEXT_RULES: Final[tuple[_Rule, ...]] = (
    # --- TLS and wrong service: the transport tells its own story ---------------------------
    _rule(
        "tls.mode_mismatch",
        r"wrong[_ ]version[_ ]number",
        r"\bunknown[_ ]protocol\b",
        r"packet[_ ]length[_ ]too[_ ]long",
        r"record[_ ]layer[_ ]failure",
        r"\bSSL: HTTP_REQUEST\b",
        r"STARTTLS extension not supported by server",
        # A client log naming the scheme and port: ssl:// (implicit TLS) on a STARTTLS or plain port,
        # tls:// (STARTTLS) on an implicit-TLS port.
        r"\bssl://[\w.-]+:(?:25|143|587)\b|\btls://[\w.-]+:(?:465|993)\b",
        # Outlook's "The server does not support secure connections", as the seed languages say it.
        r"does not support (?:secure|encrypted) connections|ondersteunt geen beveiligde verbindingen|"
        r"unterstützt keine (?:sicheren|verschlüsselten) Verbindungen|"
        r"ne prend pas en charge les connexions (?:sécurisées|chiffrées)|"
        r"non supporta connessioni (?:sicure|crittografate)",
        # Session 4: "Unable to establish TLS connection to POP3 server", as Thunderbird says it.
        r"(?:unable to|could not|kon geen|impossible d'établir une) (?:establish )?(?:a )?TLS[- ]"
        r"(?:connection|verbinding|connexion)|TLS-Verbindung\b.{0,40}\bkann nicht hergestellt werden",
    ),
    _rule(
        "tls.certificate_invalid",
        r"certificate[_ ]verify[_ ]failed",
        r"self[- _]signed[_ ]cert",
        r"certificate has expired|CERT_HAS_EXPIRED",
        r"hostname mismatch|ERR_TLS_CERT_ALTNAME_INVALID|IP address mismatch",
        r"does not match certificate'?s? altnames|not in the cert'?s altnames",
        r"unable to (?:get local issuer certificate|verify the first certificate)",
        r"SSLCertVerificationError",
        # Session 6: a client naming a certificate error or problem (K-9's notifications), in en and
        # the seed languages.
        r"certificate (?:error|problem)|Zertifikats?(?:problem|fehler)|certificaat(?:fout|probleem)|"
        r"(?:erreur|problème) de certificat|(?:errore|problema) (?:del |di |con il )?certificato",
        r"certificat\w* (?:non valide|invalide|expiré|non approuvé)|"
        r"Zertifikat\w* (?:ist )?(?:ungültig|abgelaufen|nicht vertrauenswürdig)|"
        r"certifica(?:at|to)\w* (?:is |è )?(?:ongeldig|verlopen|non valido|scaduto|non attendibile)",
    ),
    _rule(
        "tls.starttls_required",
        r"must issue a STARTTLS command first",
        # AUTH not offered: usually TLS must come first, or this is the relay port (25).
        r"AUTH (?:extension |command )?(?:used when )?not (?:advertised|supported|available)",
        r"\bauthentication not enabled\b",
        r"STARTTLS (?:is )?required",
        r"encryption required for requested authentication mechanism",
        r"plaintext authentication disallowed",
        r"\[PRIVACYREQUIRED\]",
        r"\bLOGINDISABLED\b",
        r"TLS required|requires? (?:an )?(?:SSL|TLS|secure|encrypted) connection",
        # Go's net/smtp refuses to send a password over a connection that is not encrypted.
        r"\bunencrypted connection\b",
        r"(?:TLS|SSL|Verschlüsselung)\b[^.;]{0,40}\b(?:erforderlich|vereist|requis|richiest[oa]|obbligatori[oa])",
        # Session 4: a password refused because it would travel unencrypted (Thunderbird in the seed
        # languages), and a server that offers no AUTH at all before TLS (MailKit's wording).
        r"(?:Klartext|plain[- ]?text|cleartext|non chiffrés|testo semplice)\b.{0,20}\b(?:nicht|not|pas|non)\b|"
        r"plattetekstwachtwoord|(?:Passworts?|password|mots? de passe)\b.{0,30}\b(?:im Klartext|in (?:testo semplice|"
        r"plain ?text)|non chiffrés)",
        r"server does not support authentication",
        # Session 6: the server does not know the AUTH command at all (a relay port, or TLS first).
        r"(?:command unrecognized|unrecognized command|command not (?:recognized|implemented))\b.{0,60}\bAUTH\b",
        r"command \"?AUTH\"? not (?:recognized|implemented)",
    ),
    _rule(
        "net.wrong_service",
        r"^\+OK\b",
        r"^\+ \(a '\+' line where the IMAP greeting should be\)",
        r"^-ERR\b",
        r"(?:Malformed SMTP response line|unexpected response):? (?:b['\"])?(?:\+OK|\* OK|220[ -])",
        r"^HTTP/1\.[01] \d{3}",
        r"^SSH-\d",
        # Session 4: Thunderbird's "… is not an IMAP4 mail server" in the seed languages.
        r"(?:\bnot an?|\bgeen|\bkein|pas un serveur de type|non è un server) IMAP4",
    ),
    # --- Sign-in ---------------------------------------------------------------------------
    _rule(
        "auth.app_password_required",
        r"application[- ]specific password (?:is )?required",
        r"app(?:lication)? password (?:is )?required",
        r"InvalidSecondFactor",
        # Session 4: QQ Mail and NetEase want the mailbox's separate "authorization code".
        r"enter your authori[sz]ation code",
    ),
    _rule(
        "auth.web_login_required",
        r"log ?in (?:via|with|using|through) (?:your|a) (?:web )?browser",
        # Session 7: "Login to your account via a web browser to verify your identity" (Outlook.com).
        r"log ?in\b.{0,30}\bvia (?:your|a) web ?browser",
        r"\[WEBALERT\b",
        r"web login required",
        # Outlook.com wants a "human interaction proof" (a puzzle in the webmail) first.
        r"Actual verdict is Hip(?:Notify|Send)",
        r"\b5\.7\.14\b",
        r"interaction_required",
    ),
    _rule(
        "auth.smtp_auth_disabled",
        r"SmtpClientAuthentication is disabled",
        r"SMTP ?AUTH(?:entication)? (?:is )?(?:disabled|not enabled|turned off)",
        r"the request did not meet the criteria to be authenticated successfully",
        r"organization configuration does not allow this authentication request",
        r"\b5\.7\.57\b",
    ),
    _rule(
        "auth.password_login_disabled",
        r"basic authentication is (?:disabled|not supported|not allowed)",
        r"\b5\.7\.30\b",
        r"security defaults policy",
        r"legacy authentication (?:is )?(?:blocked|disabled)",
        r"password authentication (?:is )?(?:disabled|not allowed|not supported)",
    ),
    _rule(
        "auth.imap_disabled",
        r"not enabled for IMAP",
        # Not Yandex's "Invalid credentials or IMAP is disabled": that one is ambiguous.
        r"(?<!or )IMAP (?:access )?(?:is )?(?:disabled|not enabled|turned off)",
        r"User is authenticated but not connected",
        # Session 6: Thunderbird's account set-up, "the server administrator has probably disabled the
        # chosen configuration for your account" (en, de, fr, it).
        r"(?:administrator|administrateur|amministratore|beheerder)\b.{0,60}\b(?:disabled|désactivé|disattivat\w*|"
        r"deaktiviert|uitgeschakeld)\b.{0,40}\b(?:configuration|configurazione|configuratie|protocol\w*)",
        r"Administrator\b.{0,40}\bKonfiguration\b.{0,40}\bdeaktiviert",
    ),
    _rule(
        "auth.too_many_attempts",
        r"too many (?:bad |failed |invalid )?(?:login|auth|authentication|sign-?in|logon)"
        r" ?(?:attempts|failures|tries)",
        r"too many (?:bad|failed|invalid) (?:attempts|logins)",
        r"#AUTH005",
        r"(?:auth\w*|log ?in|sign ?in|log ?on)\b[^.;]{0,20}\btoo many times",
        r"account (?:is )?(?:temporarily )?locked",
    ),
    # --- OAuth -----------------------------------------------------------------------------
    _rule(
        "auth.admin_consent_required",
        r"admin_policy_enforced",
        r"need(?:s)? admin approval",
        r"admin(?:istrator)? consent (?:is )?required",
    ),
    _rule(
        "auth.token_invalid",
        r"\binvalid_grant\b",
        r"\binvalid_token\b",
        r"token (?:has been )?(?:expired|revoked)",
        r"expired,? or revoked",
        # Session 7: Thunderbird's OAuth2 failure (imapOAuth2Error) in en and the seed languages; it
        # never says "OAuth", and a refused OAuth sign-in is fixed by signing in to the provider again.
        r"authentication failure while connecting to server|Authentifizierungsfehler beim Verbinden mit dem Server|"
        r"authenticatiefout tijdens het verbinden|échec de l[’']authentification lors de la connexion au serveur|"
        r"autenticazione non riuscita durante la connessione al server",
        r'"status"\s*:\s*"(?:400|401)"',
    ),
    # --- provider APIs (Gmail API, Microsoft Graph): reasons of their JSON error bodies -------
    _rule(
        "api.mailbox_not_enabled",
        r"\bMailboxNot(?:Enabled|Supported)ForRESTAPI\b",
    ),
    _rule(
        "auth.insufficient_permissions",
        r"\binsufficientPermissions\b",
        r"ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        r"insufficient authentication scopes",
        r"\bErrorAccessDenied\b",
    ),
    _rule(
        "api.rate_limited",
        r"\b(?:userRateLimitExceeded|rateLimitExceeded|concurrentLimitExceeded)\b",
        r"\bApplicationThrottled\b|\bMailboxConcurrency\b",
        r"^429 ",
    ),
    # Session 6, second batch: the server could not reach its own sign-in backend (before the
    # "authentication failed" wording that comes with it).
    _rule(
        "server.temporary_failure",
        r"(?:connection lost to|unable to (?:reach|contact)|cannot connect to) (?:the )?authentication "
        r"(?:server|backend|service)",
        # Session 8: Exim's 435 when its authenticator cannot run for now (nothing about the password).
        r"unable to authenticate at present",
        # Session 9: the server closed a session the client let sit idle ("451 Timeout waiting for client
        # input", Exchange's "4.4.2 Timeout waiting for data from client"): nothing to fix, send again.
        r"timeout waiting for (?:client input|data from (?:the )?client)",
    ),
    # Session 7 (the clash "relay … without authentication", README "Labelling rules"): a refusal
    # saying the program did not sign in before sending. No password was refused — none was sent —
    # so the fix is the first of ``send.relay_denied``'s steps, not a password check. After the
    # Microsoft 5.7.57 rule above (its documented meaning is SMTP AUTH turned off).
    _rule(
        "send.relay_denied",
        r"relay(?:ing)? (?:access )?denied.{0,80}(?:log (?:eerst )?in|authenticat|anmelden|inloggen)",
        r"\brelay\b.{0,40}\bwithout (?:authentication|auth\b|sign(?:ing)? ?in)",
        r"rejected: not logged in",
        r"\b(?:smtp )?auth(?:entication)? (?:is )?required\b",
        r"\bclient (?:was )?not authenticated\b",
        r"unauthenticated (?:senders?|users?|clients?|relay(?:ing)?) (?:are |is )?not (?:allowed|permitted)",
        # Session 9: "If MAIL FROM is local then you must authenticate" (hMailServer's wording).
        r"\byou must (?:first )?authenticate\b",
    ),
    # Plain "wrong password" wordings, for text that lost its reply code on the way.
    _rule(
        "auth.invalid_credentials",
        r"username and password not accepted",
        # (Session 8: also with the protocol named, "invalid IMAP credentials".)
        r"invalid (?:(?:IMAP|SMTP|POP3?|e-?mail) )?(?:login|username or password|credentials(?! for relay)|"
        r"user name or password)",
        r"incorrect authentication data",
        r"bad credentials|authentication credentials invalid",
        r"\bauthentication (?:failed|unsuccessful)\b",
        r"\blog ?in failed\b",
        r"\blog(?:in|on) failure\b|unknown user ?name or (?:bad|wrong|incorrect) password",
        # The seed languages' wordings of "wrong password" (mail programs translate the reply).
        r"(?:Passwort|Kennwort) (?:ist )?(?:falsch|ungültig)|"
        r"(?:Anmeldung|Authentifizierung|Authentifikation|Authentisierung)\b[^.;]{0,30}\bfehlgeschlagen",
        r"wachtwoord (?:is )?(?:onjuist|ongeldig|fout)|(?:onjuist|ongeldig) wachtwoord|"
        r"(?:aanmelden|inloggen|verificatie|authenticatie)\b[^.;]{0,30}\bmislukt",
        # Session 7: "cannot authenticate (with the server)" as the seed languages' clients say it.
        r"(?:kan|kon) niet (?:authenticeren|aanmelden|inloggen)|kann nicht authentifiziert werden",
        # PHPMailer's "Could not authenticate", PHP imap's "Can not authenticate to IMAP server",
        # Exchange's "AUTHENTICATE failed", libetpan's (MailCore's) login error constant.
        r"\bcould not authenticate\.?$|\bcan ?not authenticate to\b|\bAUTHENTICATE failed\b|\bMAILIMAP_ERROR_LOGIN\b",
        r"autenticazione\b[^.;]{0,30}\b(?:non riuscita|fallita)|password (?:errat[aoi]|non valid[aoi]|sbagliat[aoi])",
        r"authentification (?:a )?échoué|identifiants? (?:incorrects?|invalides?)",
        r"(?:code|identifiants?|informations?) d'authentification (?:invalides?|incorrects?)",
        # Thunderbird: "Login to server … with username … failed."
        r"\blog ?in to (?:the )?server\b.{0,80}\bfailed\b",
        r"échec de l'authentification|mot de passe (?:incorrect|invalide)",
        # Session 4: a client saying the password or user name it sent was refused (Thunderbird's
        # POP3 messages, PHPMailer's Italian one).
        r"Fehler beim Senden des (?:Passworts|Benutzernamens)|Verzending van (?:wachtwoord|gebruikersnaam)\b.{0,60}"
        r"\bniet gelukt|Échec de l'envoi du (?:mot de passe|nom d'utilisateur)|impossibile autenticarsi",
    ),
    # --- Sending ---------------------------------------------------------------------------
    # Round 6: blocks whose wording names something else first — Gmail's "rate limited because
    # unauthenticated / SPF / DKIM didn't pass", a day's block for too many invalid recipients.
    _rule(
        "tls.starttls_required",
        r"(?:wasn'?t|was not|not) sent over a TLS connection",
    ),
    _rule(
        "send.rejected_as_spam",
        r"rate limited because (?:it is unauthenticated|(?:SPF|DKIM) authentication|the From: header)",
        r"sender is unauthenticated|requires all (?:bulk )?(?:email )?senders to authenticate",
        r"blocked for the day, for attempting to mail too many invalid recipients",
        r"\bRBL\b|\bBlock (?:permanently|temporarily) \(Sender Filtering",
        r"not authorized to (?:\d{3}-\d\.\d\.\d{1,3} )?send (?:e-?mail )?directly to our servers",
        r"illegal attachment|content presents a potential security issue",
        r"\bfor Zombie matches\b",
        # Session 4: NetEase's "DT:SPM" and QQ Mail's content refusals; a bare "Blocked" refusal.
        r"\bDT:SPM\b|inappropriate words or content|mail content denied",
        r"\b5\.7\.0 Blocked\b",
        # Session 4, batch 2 (after its one measurement): sender authentication failures in the
        # filtering services' words; a recipient's or its organisation's block of the sender; content
        # filters. All are fixed on the sending side like spam: authenticate the domain, clean the
        # message, or ask the recipient to allow the sender.
        r"rate limited (?:because there is no DMARC alignment|due to IP reputation)|insufficient reputation",
        r"\b(?:SPF|DKIM|DMARC) Sender Invalid\b|Anti-Spoofing|DMARC check failed|spoofed message|per its SPF Record",
        r"Blocked Senders|envelope blocked|Administrative prohibition|Blocked by this recipient|BLOCK-SEND-ER|"
        r"ERS-Customized-Block|Policy Rejection- Abuse|Mail is rejected by recipients|"
        r"Mail rejected by destination domain|Mailbox delivery restricted by policy|\(\S+@\S+:blocked\)",
        r"banned content|\bMessage filtered\b|header_contenttype|MIME messages are rejected as dangerous",
        # Session 4 (clash with the sender rule below): "<ip or sender> is not allowed to send from
        # <domain> [per its SPF Record]" is an SPF verdict about a *domain* (Rackspace, GoDaddy,
        # sisimai's fixtures); "not allowed to send from <address>" stays a sender permission.
        r"\bnot allowed to send (?:mail )?from <?[a-z0-9-]+(?:\.[a-z0-9-]+)+>?(?=[\s.,;]|$)",
    ),
    _rule(
        "send.sender_not_allowed",
        r"domain of sender address\b.{0,80}?\bdoes not exist|Invalid DNS MX or A/AAAA resource record",
        # Session 7: the sender (From) address named invalid or not authorised, in en and the seed
        # languages (Thunderbird's couldNotGetUsersMailAddress2, Postal, SendGrid's sender identity).
        r"(?:sender|from|Absender|afzender|l[’']expéditeur|mittente)(?: e-?mail)? ?(?:address|adres|adresse|"
        r"indirizzo)?\b[^.;]{0,30}\b(?:ungültig|ongeldig|n[’']est pas valide|non (?:era |è )?valid[oa]|is invalid|"
        r"was invalid|not valid)",
        r"from address is not authori[sz]ed to send|does not match a verified sender identity",
    ),
    _rule(
        "send.recipient_unknown",
        r"invalid mailbox\b.{0,80}\baccount is disabled|Policy rejection on the target address",
        # Session 7: a returned message saying the recipient's domain has no DNS (Gmail's "DNS Error:
        # DNS type 'mx' lookup of <domain> responded with code NXDOMAIN … p=BadRcptDomain"): the
        # address is dead, not the user's own server name.
        r"DNS type '?mx'? lookup of\b|\bp=BadRcptDomain\b",
        # Postfix's reject_unknown_recipient_domain.
        r"Recipient address rejected: Domain not found",
    ),
    _rule(
        "send.recipient_mailbox_full",
        r"mailbox size limit exceeded|quota violation",
    ),
    _rule(
        "server.temporary_failure",
        r"address verification in progress",
        # Session 8: the server out of resources (452 4.3.1's words) or without a server to hand the
        # message to, in English and in Outlook.com's Italian non-delivery texts.
        r"insufficient system (?:storage|resources)|\bout of memory\b|memoria esaurita",
        r"no suitable (?:mail )?servers?\b|nessun server adeguato",
    ),
    _rule(
        "server.rate_limited",
        r"hourly (?:send(?:ing)? )?(?:rate|limit)|too many messages (?:this|per|an) hour",
        # Session 4, batch 2: Exchange Online's per-hour recipient limits, concurrent-connection caps,
        # per-recipient and per-sender frequency limits, an organisation's full queue.
        r"limit for the number of messages they can (?:send|receive) per hour",
        r"maximum number of concurrent connections|too many recent messages|frequency limited",
        r"Organization queue quota exceeded",
        r"too many sessions|concurrent sessions",
        r"too much (?:e-?mail|mail) in a short period|too many messages from a new or untrusted IP",
        r"per transaction exceeded|try this recipient in a separate transaction",
        r"peak [\w ]{0,30}limit exceeded",
        r"too many unrecognized commands",
        # Session 6: a wait named in seconds, "Ratelimit … exceeded" (rspamd/mailcow), too many mails too fast.
        r"try again in \d+ (?:seconds?|minutes?)\b",
        r"\bratelimit\b",
        r"(?:sending )?too many (?:e-?mails|messages)(?: too (?:fast|quickly)| in (?:a|too) short)|"
        r"sorry, too many (?:e-?mails|messages)",
        r"submission rate\b.{0,40}\bexceed",
        # Session 7: Amazon SES's "Maximum sending rate exceeded" (a per-second rate, not a day's cap).
        r"\bmaximum sending rate exceeded",
    ),
    _rule(
        "send.daily_limit_reached",
        r"daily (?:user )?sending (?:quota|limit)",
        r"\b24[- ]hours? (?:sending )?limit",  # Session 8
        r"\bdaily [\w ]{0,24}limit\b",
        r"limite giornaliero|Tageslimit|daglimiet|limite quotidienne",
        r"send(?:ing)? (?:quota|limit) (?:exceeded|reached)",
        r"exceeded (?:its|the|your)? ?daily limit",
        r"SubmissionQuotaExceeded",
        r"Actual verdict is RefuseQuota",
        r"RecipientRateLimitExceeded|TenantOutboundRecipientRateLimit",
        r"limit on the number of allowed outgoing messages",
        r"message (?:submission )?rate limit exceeded",
        r"daily send(?:ing)? rate exceeded",
        # Session 6: a count per day, a sending account's quota limit.
        r"\b(?:messages|e-?mails|recipients) per day\b",
        r"reached (?:its|your|the) (?:e-?mail |sending )?quota limit",
        # Session 7: "Daily message quota exceeded" (Amazon SES), before the mailbox-quota wordings.
        r"\bdaily (?:message|sending|send|e-?mail) quota\b",
    ),
    _rule(
        # The recipient's mailbox is closed or disabled (delivery context), or its domain does not
        # exist: the address itself is dead, whatever words say "account".
        "send.recipient_unknown",
        r"(?:delivery error|(?:cannot|could not|can't) be delivered|message to|recipient)\b.{0,120}?"
        r"\b(?:account|mailbox|user) (?:has been |is )?(?:disabled|discontinued|closed|suspended|"
        r"deactivated|inactive)",
        r"STOREDRV\.Deliver\b.{0,80}?Disabled",
        r"(?<!your )(?<!sender )\b(?:account|mailbox|user) (?:is |has been )?(?:closed|inactive|discontinued)\b",
        r"MX records? points? to non-?existent hosts|\bNonExistentDomain\b|\bnon-?existent domain\b",
        r"Host or domain name not found",
        r"\bis no longer valid\b|address (?:is )?marked as invalid",
        r"recipient domain (?:does not|doesn'?t) exist|\bDNS domain [\w.-]+ does not exist",
        # Session 4, batch 2: a recipient address that is not even well-formed.
        r"\bInvalid address \[|Bad address syntax|not a valid RFC-?5321 address",
    ),
    _rule(
        "send.account_blocked",
        r"OutboundSpamException",
        r"Actual verdict is Suspend",
        r"bad outbound sender",
        r"banned sender",
        r"spam abuse detected",
        r"account (?:has been |is )?(?:disabled|suspended|blocked|deactivated)",
        r"\b5\.7\.13\b",
        r"tenant has exceeded threshold",
        r"outgoing (?:mail |email |e-mail )?(?:is |has been )?blocked|Email Outgoing Blocked",
    ),
    _rule(
        "send.sender_not_allowed",
        r"SendAsDenied",
        r"send as this sender",
        # Session 4: Amazon SES's unverified sending identity; Exchange's "only these senders" groups.
        r"Email address is not verified\b|\bRESOLVER\.RST\.NotAuthorized\b",
        r"not owned by (?:the )?(?:auth )?user",
        r"sender address rejected",
        r"(?:sender|from) address (?:must|does not) match",
        r"not (?:allowed|authori[sz]ed|permitted) to send (?:as|from|on behalf)",
        r"\b5\.7\.60\b",
        r"sender verify failed",
        r"sender (?:address )?(?:is )?not allowed",
        r"does not allow external forwarding",
        r"does not belong to (?:the )?logged[- ]in user",
        r"invalid credentials for relay",
        r"(?:relaying|sending) (?:is )?(?:disallowed|not allowed|denied) as\b",
        r"mail from not owned by user",
        # Round 6: a From: header or sender domain the receiving side will not take.
        r"\bBlank From\b|as a From:? address|From:? Domain is invalid|missing a valid address in the From",
        r"sender domain (?:does not|doesn'?t) exist|unregistered domains|unresolvable [\w.]* ?from domain",
        r"RFC ?5322 section 3\.6\.2",
        # Session 6: a From or sender header the submission server will not take.
        r"missing (?:a |the )?'?From'? header|(?:incorrect|invalid|bad) sender header",
        # Session 8: Gmail's refusal of a From: header naming several addresses.
        r"multiple addresses in (?:the )?From:? header",
    ),
    _rule(
        # A relay refusal that names no cause (those that do were read above: "please
        # authenticate", "Relaying disallowed as <sender>", "invalid credentials for relay").
        "send.relay_denied",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed)|unable to relay|no relaying"
        r"|open relay not allowed|as a relay, but I have not been configured",
        # Session 6: bare "Relaying disallowed" (with "as <sender>" it is a sender permission, above),
        # "(relaying) is not allowed", qmail's rcpthosts refusal, Outlook's localised "Relay verweigert".
        r"\(relaying\) is not allowed|list of allowed rcpthosts|lijst met toegestane rcpt-hosts|"
        r"relay verweigert|relais refusé|relay (?:non (?:consentito|permesso)|niet toegestaan)",
    ),
    _rule(
        "send.message_too_large",
        r"message (?:size )?(?:exceeds|exceeded)(?! \d+ hops)",
        r"message (?:is )?too (?:big|large)",
        r"exceeds? (?:the )?(?:fixed |configured )?maximum (?:allowed |permitted )?(?:message )?size",
        r"(?:Nachricht|E-Mail) (?:ist )?zu gro(?:ß|ss)|bericht (?:is )?te groot|messaggio (?:è )?troppo grande|"
        r"message (?:est )?trop (?:volumineux|gros)",
        r"size limits?(?: exceeded)?",
        r"\bsize violation\b",
        # Session 6: Amazon SES names the limit in bytes.
        r"is more than \d+ bytes\b",
        r"\b(?:e-?mail|message) size exceeded|maximum size of the message|"
        r"taille (?:limite|maximale) du message|dimensione massima del messaggio",
        r"\b5\.3\.4\b",
        r"\b[45]\.2\.3\b",
    ),
    _rule(
        "send.gave_up",
        r"delivery time expired|retry time(?:out)? (?:exceeded|not reached for any host after a long failure period)",
        r"\b5\.4\.(?:7|300)\b",
        r"(?<!4\.4\.7 )\bmessage expired\b",
        r"not going to try again",
        # Session 8: an Italian certified-mail (PEC) provider's non-delivery notice after its time limit.
        r"mancata consegna per (?:sup\.|superamento) (?:del )?tempo massimo",
        # Session 9: Exchange Online's words when the far side never answered (no 5.4.x code in the user
        # part), and sendmail's final "could not be delivered for 5 days".
        r"despite repeated attempts to (?:contact|reach|deliver)",
        r"could not be delivered for \d+ (?:days?|hours?)",
    ),
    _rule(
        "send.recipient_mailbox_full",
        r"(?:mailbox|folder) (?:is )?full",
        r"\bover ?quota\b",
        r"(?<!sending )(?<!send )quota exceeded",
        r"QuotaExceededException",
        r"out of storage space",
        r"exceeded storage allocation",
        r"exhausted (?:the |its |his |her )?(?:allowed )?storage|storage (?:space )?(?:exceeded|exhausted)",
        r"too many messages (?:on the server|in (?:the |this |his |her )?mailbox)",
        r"(?:Postfach|Mailbox|Speicher(?:platz|volumen)?)\b[^.;/]{0,30}\b(?:voll|überschritten|ueberschritten)",
        r"(?:mailbox|postvak|brievenbus) (?:is )?vol\b",
        r"\bstorage limit\b",
        # (Session 8: Outlook.com's Italian "cassetta postale piena" too.)
        r"(?:casella|cassetta) (?:di posta |postale )?(?:è |e' )?piena|"
        r"spazio (?:disponibile |della casella )?(?:esaurito|superato)",
        r"boîte (?:aux lettres |mail )?(?:est )?pleine",
        r"\b[45]\.2\.2\b",
        protocols=("smtp", None),
    ),
    _rule(
        "send.recipient_unknown",
        r"user unknown|unknown user|no such user|unknown recipient|invalid recipient",
        r"no such (?:mailbox|recipient|address|account)",
        r"\buser not found\b|(?:don'?t|doesn'?t|does not) exists? (?:that|this) user",
        r"bad (?:recipient|destination) (?:mailbox )?address",
        # (Session 8: Outlook.com's Italian "cassetta postale non trovata".)
        r"(?:mailbox|casella|cassetta postale|indirizzo) non (?:valid[ao]|esistente|trovat[ao])",
        # Session 8: the same "mailbox not found" in the other seed languages.
        r"boîte (?:aux lettres |mail )?introuvable|(?:Postfach|Mailbox|Empfänger) (?:wurde )?nicht gefunden|"
        r"(?:postvak|mailbox|ontvanger) (?:is )?niet gevonden",
        r"(?:compte|boite|boîte) du destinataire (?:est )?(?:bloqu|archiv|suspendu|désactiv|ferm)|"
        r"archived recipient|"
        r"recipient (?:account|mailbox) (?:is ?|has been )?(?:blocked|archived|suspended|disabled|closed)",
        r"(?<!sender )(?<!sender e-mail )\b(?:recipient|address|adress|adresse|mailbox) (?:is )?unknown\b",
        r"no longer accepts (?:messages|mail)|n'accepte plus de messages|accepteert geen berichten meer|"
        r"nimmt keine (?:Nachrichten|E-Mails) mehr an|non accetta più messaggi",
        r"destinatario (?:sconosciuto|inesistente)|utente (?:sconosciuto|inesistente)|"
        r"destinataire (?:inconnu|introuvable)|utilisateur inconnu|adresse [\w' ]{0,20}introuvable|"
        r"Empfänger(?:adresse)? (?:ist )?(?:unbekannt|existiert nicht)|unbekannter Empfänger|"
        r"Benutzer (?:ist )?unbekannt|onbekende (?:ontvanger|gebruiker)|(?:ontvanger|gebruiker) (?:is )?onbekend",
        r"RecipientNotFound|recipient not found",
        r"(?:address|account|mailbox|user) (?:that you tried to reach )?(?:does not|doesn'?t) exist",
        r"(?:doesn'?t|does not) have an? (?:[\w.-]+ )?account",
        r"no mailbox (?:here )?by that name",
        # Session 6: Lotus/HCL Domino's unknown recipient.
        r"not listed in (?:the )?(?:public )?(?:Domino )?Directory",
        # Session 6, second batch: cPanel/Exim's "the account or domain may not exist", a recipient known to bounce.
        r"account or domain may not exist|recipient is known to bounce",
        r"this mailbox is disabled",
        # Exchange Online directory-based edge blocking: the recipient is not in the tenant.
        r"5\.4\.1 Recipient address rejected: Access denied",
        r"unrouteable address",
        r"mailbox not found|address not found",
        # Session 9: Exchange Online's "<name> wasn't found at <domain>." under "Your message to … couldn't be
        # delivered", and its German text ("… wurde nicht in <domain> gefunden"; seen in the batch); the French,
        # Italian and Dutch forms written from it, not seen.
        r"\b(?:wasn'?t|was not) found at [\w-]+\.[\w.-]+",
        r"wurde nicht in [\w-]+\.[\w.-]+ gefunden|n'a pas été trouvé (?:sur|dans) [\w-]+\.[\w.-]+|"
        r"non è stato trovato (?:in|su) [\w-]+\.[\w.-]+|is niet gevonden (?:op|in|bij) [\w-]+\.[\w.-]+",
        r"\b5\.1\.(?:1|10)\b",
    ),
    _rule(
        # Session 6: a bare "Relaying disallowed" (with "as <sender>" a sender permission, above; beside
        # a 5.1.1 the recipient's address, just above).
        "send.relay_denied",
        r"relaying disallowed",
    ),
    _rule(
        "send.rejected_as_spam",
        r"\bspam(?:mer|ming|my)?\b",
        r"\bphishing\b|\bmalware\b|\bvirus\b",
        r"content rejected|rejected (?:for|due to|because of) (?:its )?content",
        r"unsolicited",
        r"blocked using|block ?list|black ?list|spamhaus|\bDNSBL\b",
        r"not accepted for policy reasons",
        r"\b5\.7\.(?:26|23|25|27|515|350)\b",
        r"\b(?:bad|poor|low|negative) reputation\b",
        r"\b(?:dial-?up|dynamic|transient|residential)(?:/transient)? IP\b",
        r"\bbad HELO\b",
        r"DMARC policy|fails? (?:to pass )?(?:SPF|DKIM|DMARC)|SPF (?:check )?fail",
        r"(?:fail(?:ed|ing)?|(?:does|did) not pass)\s+(?:both\s+)?(?:SPF|DKIM|DMARC)",
        r"\bSPF (?:policy|record|violation)\b|Sender Policy Framework|not permitted by the domain owner",
        r"\bSPF\b[^.]{0,60}\bnot (?:allowed|permitted|authori[sz]ed)",
        r"\[BL\d+\]",
        r"\bpermanently deferred\b",
        r"has a policy that prohibited",
        r"traffic not accepted from this IP|\b5\.7\.708\b",
        # Microsoft's blocked sending IPs (5.7.606-649 "banned sending IP").
        r"banned sending IP|\b5\.7\.6(?:0[6-9]|[1-4]\d)\b",
        r"bad DNS PTR|\bPTR records?\b|reverse DNS|cannot find your (?:reverse )?hostname",
        r"sending guidelines",
        r"(?:reject(?:ed)?|refused|denied) (?:due to|by|for) (?:local |content )?polic(?:y|ies)|policy restrictions",
        r"adresse IP est list[ée]e|\bIP (?:address )?(?:is )?listed\b",
        # Session 6: a recipient domain that takes mail only from the IP addresses it lists.
        r"\bIP not in (?:the )?(?:white|allow) ?list\b",
    ),
    # --- Server side, transient -----------------------------------------------------------
    # A limit on connections or volume is not a breakdown: the fix is patience or less at once.
    _rule(
        "server.rate_limited",
        r"too many (?:concurrent |simultaneous |parallel )?(?:SMTP |IMAP )?connections",
        r"maximum number of connections|connections? limit (?:exceeded|reached)",
        # Session 4: Thunderbird's "you may have exceeded the maximum number of connections".
        r"maximale aantal verbindingen|nombre maximal de connexions|massimo numero di collegamenti",
        # Session 7: the same in German and in Thunderbird's newer Italian wording.
        r"maximale Anzahl (?:von |an )?Verbindungen|numero massimo di (?:connessioni|collegamenti)",
        r"exceeded command or bandwidth limits",
        r"\brate limit(?:ed| exceeded)?\b|too much mail from",
        r"too many errors\b|too many recipients",
        r"(?:deferred|throttled) due to (?:excessive|unexpected) volume|excessive volume",
        r"max(?:imum)? (?:number of )?messages? per (?:connection|session)(?: reached| exceeded)?",
        # Yahoo's volume and complaint deferrals: [TS01]/[TS02]/[TSS04]… and the 4.16.5x diagnostics.
        r"\[TSS?0[124]\]|deferred due to user complaints|\btemporarily deferred - 4\.16\.5\d",
        r"unexpected volume|thread limit exceeded",
        r"try again later, closing connection",
        # Gmail's 4.2.1 "receiving mail at a rate that prevents additional messages"; Dovecot's
        # "Too many invalid IMAP commands" ends a session that kept erring, like SMTP's errors cap.
        r"receiving mail at a rate|receiving mail too quickly",
        r"exceeded the max(?:imum)? [\w ]{0,40}per (?:hour|minute)",
        r"per[- ]hour (?:message )?(?:receive|receiving|sending) limit|RecipientThreadLimitExceeded",
        r"too many (?:invalid|bad|unknown) (?:IMAP |SMTP )?commands",
        r"trop de connexions|troppe connessioni|zu viele (?:gleichzeitige )?Verbindungen|"
        r"te veel (?:gelijktijdige )?verbindingen",
    ),
    _rule(
        # "Server busy" with no limit and no fault named: overload or a limit on this sender
        # (the corpus has both readings from documented sources); one diagnosis says so.
        "server.busy",
        r"(?:server|system) (?:is )?(?:too |very )?busy",
    ),
    _rule(
        "server.temporary_failure",
        # Not the resolver's "Temporary failure in name resolution": that is a name lookup.
        r"temporary (?:server |authentication |system )?(?:error|failure|problem)"
        r"(?! in name resolution)",
        # A server's own 421 4.4.2 (it dropped the connection) is its trouble, not our network's.
        r"\b421[ -]4\.4\.2\b",
        r"temporarily (?:unavailable|deferred|rejected)",
        r"service (?:not |un)available",
        r"greylist",
        r"temporaneamente non disponibil[ei]|vorübergehend nicht verfügbar|"
        r"temporairement (?:indisponible|non disponible)|tijdelijk niet beschikbaar",
        r"please try again later|try again later",
    ),
)

# IMAP response codes (RFC 5530 and Gmail's WEBALERT) -> code.
_IMAP_CODES: Final[dict[str, str]] = {
    "AUTHENTICATIONFAILED": "auth.invalid_credentials",
    "AUTHORIZATIONFAILED": "auth.invalid_credentials",
    "EXPIRED": "auth.invalid_credentials",
    "PRIVACYREQUIRED": "tls.starttls_required",
    "UNAVAILABLE": "server.temporary_failure",
    "INUSE": "server.temporary_failure",
    "SERVERBUG": "server.temporary_failure",
    "LIMIT": "server.temporary_failure",
    "WEBALERT": "auth.web_login_required",
}
_IMAP_CODE_RE: Final = re.compile(r"\[([A-Z][A-Z-]+)(?:[ \]])")
_OAUTH_MECHANISMS: Final = frozenset({"XOAUTH2", "OAUTHBEARER", "OAUTH"})
# The client's command in a pasted log; capability lists ("250-AUTH PLAIN XOAUTH2",
# "AUTH=XOAUTH2") only say what the server offers, so they do not count.
_OAUTH_COMMAND_RE: Final = re.compile(
    r"(?im)^(?!\s*(?:250|\*))[^\n]*?\bAUTH(?:ENTICATE)?\s+(?:XOAUTH2|OAUTHBEARER)\b"
)
_IMAP_LOGIN_FAILED_RE: Final = re.compile(r"\b(?:LOGIN|AUTHENTICATE) failed", re.IGNORECASE)
_IMAP_TAGGED_RE: Final = re.compile(r"(?m)^(?:[A-Za-z0-9.]+|\*) (?:NO|BAD|BYE|OK)\b")

# Enhanced status codes (RFC 3463) -> code, by "subject.detail".
_ENHANCED: Final[dict[str, str]] = {
    "7.8": "auth.invalid_credentials",  # RFC 4954: authentication credentials invalid
    "7.11": "tls.starttls_required",  # RFC 4954: encryption required for mechanism
    "1.1": "send.recipient_unknown",  # bad destination mailbox address
    "1.10": "send.recipient_unknown",  # RFC 7505: recipient address has null MX
    "1.2": "send.recipient_unknown",  # bad destination system address
    "1.7": "send.sender_not_allowed",  # bad sender's mailbox address syntax
    "1.8": "send.sender_not_allowed",  # bad sender's system address
    "2.2": "send.recipient_mailbox_full",  # mailbox full
    "2.3": "send.message_too_large",  # message length exceeds administrative limit
    "3.4": "send.message_too_large",  # message too big for system
    "7.25": "send.rejected_as_spam",  # RFC 7372: reverse DNS validation failed
    # Codes whose registered meaning alone decides the fix (RFC 3463, RFC 5248's registry, RFC 7372);
    # read only where no wording did, and a sure learned answer still beats them (``combine``).
    "1.3": "send.recipient_unknown",  # RFC 3463: bad destination mailbox address syntax
    "7.10": "tls.starttls_required",  # RFC 5248 registry: encryption needed
    "7.20": "send.rejected_as_spam",  # RFC 7372: no passing DKIM signature found
    "7.21": "send.rejected_as_spam",  # RFC 7372: no acceptable DKIM signature found
    "7.22": "send.rejected_as_spam",  # RFC 7372: no valid author-matched DKIM signature found
    "7.23": "send.rejected_as_spam",  # RFC 7372: SPF validation failed
    "7.24": "send.rejected_as_spam",  # RFC 7372: SPF validation error
    "7.26": "send.rejected_as_spam",  # RFC 7372: multiple authentication checks failed
    # Not X.7.27 and up: Gmail numbers its own 4.7.27-4.7.32 differently from the registry (its
    # 4.7.27 is an SPF failure, the registry's X.7.27 a sender domain with a null MX, RFC 7505).
}
# Permanent (5.x.x) only: the same subject.detail under 4.x.x is a passing state, not a dead address.
_ENHANCED_PERMANENT: Final[dict[str, str]] = {
    "1.0": "send.recipient_unknown",  # other address status (a sender is named: see below)
    "1.6": "send.recipient_unknown",  # destination mailbox has moved, no forwarding address
    "2.1": "send.recipient_unknown",  # mailbox disabled, not accepting messages
    "4.4": "send.recipient_unknown",  # unable to route: the destination domain has no mail host
    "4.7": "send.gave_up",  # RFC 3463: delivery time expired (under 4.x.x it is still being retried)
    "7.17": "send.recipient_unknown",  # RFC 7293: mailbox owner has changed
    "7.18": "send.recipient_unknown",  # RFC 7293: domain owner has changed
}
# Transient (4.x.x) only: La Poste answers "5.5.3 Mail from not owned by user", so a permanent
# X.5.3 does not reliably mean RFC 3463's "too many recipients".
_ENHANCED_TRANSIENT: Final[dict[str, str]] = {
    "5.3": "server.rate_limited",  # RFC 3463: too many recipients (send the rest in another transaction)
}
_SENDER_RE: Final = re.compile(r"\bsender\b|\bMAIL FROM\b", re.IGNORECASE)
_ENHANCED_RE: Final = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
_SMTP_LINE_RE: Final = re.compile(r"(?m)^\s*([2-5]\d\d)(?:[ -]|$)")
_SMTP_ANYWHERE_RE: Final = re.compile(
    r"(?:^|[\s:(\[])([45]\d\d)(?:[ -](?=[245]\.\d)|,\s*b?['\"]| (?=[A-Za-z#(\[<]))"
)
# Session 6: a reply code that a client's or library's wrapper names as such ("permanent error (535)",
# "Error SMTP: [550]", "(Code: 554)", 'got code "550"', "Negative SMTP reply: 553").
_SMTP_WRAPPED_RE: Final = re.compile(
    r"(?i)\b(?:error|code|reply)\b[^\n\d]{0,8}?[(\[\"]?([45]\d\d)(?![\d.])"
)
# Failure replies of RFC 5321, RFC 4954 (432, 454, 530, 534, 535, 538), RFC 3030 and RFC 7504
# (521, 556) and what Exchange sends (432); anything else in that range is not a reply code.
_SMTP_FAILURE_CODES: Final = frozenset(
    {421, 432, 450, 451, 452, 454, 455, 500, 501, 502, 503, 504, 521, 523, 530, 534, 535, 538,
     550, 551, 552, 553, 554, 555, 556}
)
_SMTP_PREFIX_RE: Final = re.compile(r"(?m)^\s*[2-5]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?")
_INLINE_CONTINUATION_RE: Final = re.compile(r"(?<=\S) +([2-5]\d\d-[245]\.\d{1,3}\.\d{1,3}) +")
_B64_RE: Final = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,}={0,2}")

# Exception type names (any class in the exception's MRO) -> code, for text-poor evidence.
_EXCEPTION_NAMES: Final[dict[str, str]] = {
    "SSLCertVerificationError": "tls.certificate_invalid",
    "CertificateError": "tls.certificate_invalid",
    "gaierror": "net.host_not_found",
    "NXDOMAIN": "net.host_not_found",
    "NoNameservers": "net.host_not_found",
    "NoAnswer": "net.host_not_found",
    "ConnectionRefusedError": "net.connection_refused",
    "SMTPConnectTimeoutError": "net.timeout",
    "SMTPReadTimeoutError": "net.timeout",
    "SMTPTimeoutError": "net.timeout",
    "TimeoutError": "net.timeout",
    "timeout": "net.timeout",
    "CancelledError": "net.timeout",
}

_NETWORK_TEXT_RULES: Final[tuple[_Rule, ...]] = (
    _rule(
        "net.host_not_found",
        r"Name or service not known",
        r"nodename nor servname provided",
        r"getaddrinfo (?:failed|ENOTFOUND)|\bENOTFOUND\b|\bEAI_NONAME\b",
        r"No address associated with hostname",
        # Session 9: Windows' WSAHOST_NOT_FOUND as .NET and PHP print it, and PHP's older gethostbyname.
        r"No such host is known|SocketException \(11001\)|gethostbyname failed",
        r"Temporary failure in name resolution|\bEAI_AGAIN\b",
        r"DNS query name does not exist|\bNXDOMAIN\b",
        r"\bgaierror\b",
        r"servernaam kan niet worden gevonden|nom du serveur est introuvable|"
        r"Server-?Name konnte nicht gefunden werden|impossibile trovare il server",
        r"\bHost\b.{0,40}\bwurde nicht gefunden|\bhost\b.{0,40}\b(?:is niet gevonden|kan niet worden gevonden)|"
        r"l'hôte .{0,40}(?:est )?introuvable|impossibile trovare l'host",
        # Thunderbird (imapMsgs): its bare "Failed to connect to server <name>." is the unknown-host
        # message; refused and timed-out connections have sentences of their own (session 4).
        r"^Failed to connect to (?:the )?server [\w.-]+\.?$|^Konnte nicht mit dem Server [\w.-]+ verbinden\.?$|"
        r"^Verbinden met server [\w.-]+ is mislukt\.?$|^Échec lors de la connexion au serveur [\w.-]+\.?$",
    ),
    _rule(
        "net.connection_refused",
        r"Connection refused|\bECONNREFUSED\b|actively refused",
        r"connexion refusée|Verbindung(?:saufbau)? (?:wurde )?(?:abgelehnt|verweigert)|"
        r"verbinding (?:is |werd )?geweigerd|"
        r"connessione rifiutata",
        r"Connect call failed",
        r"No route to host|Network is unreachable|\bEHOSTUNREACH\b|\bENETUNREACH\b",
        r"ConnectionRefusedError",
    ),
    _rule(
        "net.timeout",
        r"timed out|\bETIMEDOUT\b|time-?out",
        r"Zeitüberschreitung|connexion (?:au serveur )?a expiré|délai d'attente (?:dépassé|expiré)",
        r"tempo (?:di attesa )?scaduto|verbinding (?:is )?verlopen",
        r"temps limite de connexion\b.{0,60}\bdépassé|verbindingstijd\b.{0,60}\bverlopen|fuori tempo massimo",
        r"greeting never received",
        r"did not properly respond after a period of time",
        r"TimeoutError",
    ),
)

# A client saying only that the connection failed, not why (PHPMailer's connect_host and
# smtp_connect_failed in its languages, Nextcloud Mail): read after every rule that names a cause.
_CONNECT_FAILED_RE: Final = re.compile(
    r"could not connect to (?:the )?SMTP host|SMTP connect\(\) fail|error connecting to (?:the )?SMTP server"
    r"|Konnte keine Verbindung zum SMTP-Host herstellen|Verbindung zum SMTP-Server fehlgeschlagen"
    r"|impossible de se connecter au serveur SMTP|Échec de la connexion SMTP"
    r"|Impossibile connettersi all'host SMTP|kon niet verbinden met SMTP-host|SMTP Verbinding mislukt"
    # Session 6: Roundcube's "Connection to (storage) server failed" and MailCore's wording, in the
    # seed languages (Thunderbird's own "Failed to connect to server <name>." is read above: unknown host).
    r"|connection to (?:the )?(?:IMAP |SMTP |POP3? |mail |storage )?server failed"
    r"|Verbinding met (?:de )?(?:IMAP-|SMTP-|mail)?server (?:is )?mislukt|Verbindung zum (?:IMAP-|SMTP-)?Server "
    r"fehlgeschlagen|Keine Verbindung zum (?:IMAP[- ]|SMTP[- ])?Server|(?:échec lors de la|erreur de) connexion au "
    r"serveur|Connessione al server (?:fallita|non riuscita)"
    r"|stable connection to the server could not be established"
    # Session 9: Postal's soft fail when none of the recipient's MX hosts answered it.
    r"|No SMTP servers were available for",
    re.IGNORECASE,
)

# Name resolution failures that are the resolver's, not the name's: worth retrying.
_DNS_TRANSIENT_RE: Final = re.compile(
    r"Temporary failure in name resolution|EAI_AGAIN|SERVFAIL|NoNameservers", re.IGNORECASE
)
_CONNECTION_DROPPED_RE: Final = re.compile(
    r"Connection (?:reset|lost|closed|aborted)|ECONNRESET|Server not connected"
    r"|unexpectedly closed|EOF occurred in violation of protocol|Broken pipe",
    re.IGNORECASE,
)


# Replies known to mean different things at different servers (the corpus labels them
# ``unknown``): an unnamed client-host rejection, a bare "mailbox unavailable", permanent mail loops.
# (Relay refusals have a diagnosis of their own that names their causes, ``send.relay_denied``; a
# loop under a 4xx code is a temporary failure by its 4.4.x status, RFC 3463 X.4.6.)
_AMBIGUOUS_RE: Final = re.compile(
    r"client host rejected: access denied|mailbox unavailable|mail loop|hop count exceeded|routing loop|is looping",
    re.IGNORECASE,
)

# A 4xx remote reply quoted in a final bounce (qmail: "I'm not going to try again").
_FINAL_RE: Final = re.compile(r"not going to try again", re.IGNORECASE)

# One line that is a greeting or a positive reply ("* OK Dovecot ready.", "+OK", "250 OK"): not a
# failure at all, so nothing to guess.
_NOT_A_FAILURE_RE: Final = re.compile(r"\s*(?:\* OK|\+OK|[23]\d\d[ -])[^\n]*\s*\Z", re.IGNORECASE)


def _flatten(text: str) -> str:
    """Text with SMTP continuation prefixes (``534-5.7.9``) removed and lines joined."""
    lines = [line.strip() for line in text.splitlines()]
    first, rest = (lines[0], lines[1:]) if lines else ("", [])
    # Keep the first line's code so rules can anchor on it; strip it from the continuations.
    joined = " ".join([first, *(_SMTP_PREFIX_RE.sub("", line) for line in rest)])
    # A multi-line reply quoted on one line (an Exchange NDR's "Remote server returned '… 550-5.7.1 …'"):
    # its repeated continuation markers go too (the first stays, for the code), so its sentences read whole.
    seen: set[str] = set()

    def _repeat(match: re.Match[str]) -> str:
        marker = match.group(1)
        if marker in seen:
            return " "
        seen.add(marker)
        return match.group(0)

    joined = _INLINE_CONTINUATION_RE.sub(_repeat, joined)
    return re.sub(r"\s+", " ", joined).strip()


def _decode_challenges(text: str) -> list[str]:
    """JSON error challenges hidden in base64 (XOAUTH2 ``334 eyJ…`` / IMAP ``+ eyJ…``)."""
    found: list[str] = []
    for match in _B64_RE.finditer(text):
        blob = match.group(0)
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            decoded = raw.decode("utf-8")
            payload = json.loads(decoded)
        except (binascii.Error, ValueError):
            continue
        if isinstance(payload, dict) and ("status" in payload or "error" in payload):
            found.append(json.dumps(payload, separators=(",", ":")))
    return found


def _smtp_code(text: str) -> int | None:
    """The first failure reply code in ``text``: a line starting with one (a reply or a pasted
    transcript, where the 220/250 lines before it are ignored), else one inside a library's
    message (``Invalid login: 535 …``, ``(535, b'…')``). Only codes SMTP servers actually send
    count, so a port number such as 465 in a sentence is not mistaken for a reply."""
    for regex in (_SMTP_LINE_RE, _SMTP_ANYWHERE_RE, _SMTP_WRAPPED_RE):
        for match in regex.finditer(text):
            code = int(match.group(1))
            if code in _SMTP_FAILURE_CODES:
                return code
    return None


def _match_rules(rules: Iterable[_Rule], flat: str, protocol: str | None) -> str | None:
    for rule in rules:
        if rule.protocols is not None and protocol not in rule.protocols:
            continue
        if rule.pattern.search(flat):
            return rule.code
    return None


def _by_enhanced_or_basic(flat: str, smtp_code: int | None) -> str | None:
    enhanced = _ENHANCED_RE.search(flat)
    if enhanced and enhanced.group(1) in "45":
        subject_detail = f"{enhanced.group(2)}.{enhanced.group(3)}"
        if subject_detail in _ENHANCED:
            return _ENHANCED[subject_detail]
        if enhanced.group(1) == "5" and subject_detail in _ENHANCED_PERMANENT:
            if subject_detail == "1.0" and _SENDER_RE.search(flat):
                return "send.sender_not_allowed"  # "5.1.0 Sender denied"
            if subject_detail == "1.0" and not _ADDRESS_CONTEXT_RE.search(flat):
                return None  # "5.1.0 … policy violation": about no address at all
            return _ENHANCED_PERMANENT[subject_detail]
        if enhanced.group(1) == "4" and subject_detail in _ENHANCED_TRANSIENT:
            return _ENHANCED_TRANSIENT[subject_detail]
    if smtp_code is None:
        # An enhanced status alone (an NDR line "4.4.7 Message delayed") still says "transient".
        return "server.temporary_failure" if enhanced and enhanced.group(1) == "4" else None
    if smtp_code == 535:  # RFC 4954: authentication credentials invalid
        return "auth.invalid_credentials"
    if smtp_code == 538:  # RFC 4954: encryption required for requested mechanism
        return "tls.starttls_required"
    if 400 <= smtp_code < 500:  # RFC 5321: transient negative completion
        return "server.temporary_failure"
    return None


def _is_oauth(evidence: Evidence, challenges: list[str]) -> bool:
    """Whether a token rather than a password was refused."""
    if evidence.auth_mechanism is not None:
        return evidence.auth_mechanism.upper() in _OAUTH_MECHANISMS
    return (
        evidence.protocol == "oauth"
        or evidence.stage == "token"
        or bool(challenges)
        or bool(_OAUTH_COMMAND_RE.search(evidence.text))
        or bool(_OAUTH_MENTION_RE.search(evidence.text))
    )


def _refine(code: str, *, variant: str | None, oauth: bool, flat: str) -> str:
    """Provider knowledge that makes a generic reply precise.

    - Gmail / Google Workspace, password rejected (``535 5.7.8``, ``[AUTHENTICATIONFAILED]``):
      Google refuses the normal account password from every third-party program since "less
      secure apps" ended in 2022 (Workspace: 2024-2025); only an app password or OAuth works,
      so the fix is an app password.
    - iCloud, password rejected: Apple accepts only app-specific passwords from third-party
      mail programs; the Apple Account password never works there.
    - Yahoo / AOL, password rejected or ``(#AUTH005) Too many bad auth attempts``: Yahoo answers
      AUTH005 to any normal password from a program; it needs an app password.
    - Outlook.com, password rejected: Microsoft ended password (basic) sign-in for Outlook.com
      on 16 September 2024, app passwords included; only "Sign in with Microsoft" works.
    None of these apply when OAuth was used: then the token, not a password, was refused.
    - Microsoft, ``5.7.139 … SmtpClientAuthentication is disabled`` to an XOAUTH2 login: the
      tenant (or mailbox) switched SMTP AUTH off, which blocks OAuth SMTP too; the same
      Microsoft sign-in works through Graph (``Mail.Send``), so the fix is to switch to it.
    """
    if oauth:
        if code == "auth.invalid_credentials":
            return "auth.token_invalid"
        if code == "auth.smtp_auth_disabled" and (
                variant in ("microsoft365", "outlook") or "smtpclientauthentication" in flat.lower()):
            return "auth.use_graph"
        return code
    rejected = code == "auth.invalid_credentials"
    if variant in ("gmail", "google_workspace", "icloud") and rejected:
        return "auth.app_password_required"
    if variant == "yahoo" and (rejected or "#auth005" in flat.lower()):
        return "auth.app_password_required"
    if variant == "outlook" and rejected:
        return "auth.password_login_disabled"
    return code


def _diagnosis(
    code: str,
    *,
    variant: str | None,
    server_text: str | None,
    smtp_code: int | None,
    retryable: bool | None = None,
) -> Diagnosis:
    info = CODES[code]
    if retryable is None:
        # A 4xx reply says "try again" whatever the reason; 5xx keeps the code's default.
        retryable = info.retryable or (smtp_code is not None and 400 <= smtp_code < 500)
    return Diagnosis(
        code=code,
        severity=info.severity,
        retryable=retryable,
        provider=variant,
        server_text=server_text or None,
    )


def classify(
    evidence: Evidence, *, email: str | None = None, provider: str | None = None, host: str | None = None
) -> Diagnosis:
    """Diagnose ``evidence``; ``email``/``provider``/``host`` (the account's address, provider id
    and server host) select the provider's documented codes and the advice variant."""
    return _classify_by_rules(evidence, email=email, provider=provider, host=host)[0]


def _classify_by_rules(
    evidence: Evidence, *, email: str | None = None, provider: str | None = None, host: str | None = None
) -> tuple[Diagnosis, str]:
    """The rules' diagnosis and what it rests on: ``"signature"`` (a wording, a named exception or
    a response code that names the situation), ``"status"`` (only the generic meaning of an SMTP
    reply or enhanced status code) or ``"none"`` (``unknown``)."""
    variant = provider_variant(email=email, provider=provider, host=host)
    family = provider_family(email=email, provider=provider, host=host)
    text = scrub(evidence.text or "")
    challenges = _decode_challenges(text)
    server_text = "\n".join([text, *(f"(decoded: {c})" for c in challenges)]).strip()
    flat = _flatten(text)
    haystack = " ".join([flat, *challenges])
    smtp_code = evidence.smtp_code if evidence.smtp_code is not None else _smtp_code(text)
    protocol = evidence.protocol
    if protocol is None and _IMAP_TAGGED_RE.search(text) and smtp_code is None:
        protocol = "imap"
    exception = evidence.exception or ""

    def done(code: str, retryable: bool | None = None, basis: str = "signature") -> tuple[Diagnosis, str]:
        return _diagnosis(
            code, variant=variant, server_text=server_text, smtp_code=smtp_code, retryable=retryable
        ), basis

    # A greeting from the wrong kind of server (POP3 on an IMAP port, SMTP on IMAP …). Only for
    # a raw greeting: an exception's message at this stage is not what the server said.
    if evidence.stage in ("greeting", "connect") and text and not evidence.exception:
        greeting = text.lstrip()
        expects_imap = protocol == "imap" and not greeting.startswith("* ")
        expects_smtp = protocol == "smtp" and not greeting[:3].isdigit()
        if expects_imap or expects_smtp:
            return done("net.wrong_service")

    aad = _AADSTS_RE.search(haystack)
    if aad and aad.group(1) in _AADSTS:
        return done(_AADSTS[aad.group(1)])

    orange = _ORANGE_RE.search(haystack)
    if orange and orange.group(1) in _ORANGE_REASONS:
        return done(_ORANGE_REASONS[orange.group(1)])
    documented = provider_code(flat, family=family)
    if documented is not None and not _is_oauth(evidence, challenges):
        return done(documented.code)
    if _SENDER_BLOCKED_RE.search(haystack):
        return done("send.account_blocked")

    code = _match_rules(_TEXT_RULES, haystack, protocol)
    if code is not None and code.startswith("auth."):
        network = _match_rules(_NETWORK_TEXT_RULES, haystack, protocol)
        if network in _NETWORK_CAUSE_CODES and code == "auth.invalid_credentials":
            code = None  # the sign-in never happened: the network rules below decide
    if code is None and _RELAY_NETWORK_STATUS_RE.search(flat):
        return done("server.temporary_failure")  # "4.4.316 Connection refused": the far side's
    if code == "send.gave_up" and smtp_code is not None and 400 <= smtp_code < 500 and not _FINAL_RE.search(flat):
        code = "server.temporary_failure"  # still being retried
    if code is None:
        name_code = _EXCEPTION_NAMES.get(exception)
        code = name_code or _match_rules(_NETWORK_TEXT_RULES, haystack, protocol)
        if code == "net.host_not_found" and _DNS_TRANSIENT_RE.search(f"{exception} {haystack}"):
            return done(code, retryable=True)
        if code is None and _CONNECT_FAILED_RE.search(haystack):
            code = "net.connection_failed"
        if code is not None:
            return done(code)
    if code is None:
        imap_codes = [c for c in _IMAP_CODE_RE.findall(text) if c in _IMAP_CODES]
        if imap_codes:
            code = _IMAP_CODES[imap_codes[0]]
    basis = "signature"
    if code is None and protocol != "imap":
        code = _by_enhanced_or_basic(flat, smtp_code)
        basis = "status"
    if code is None and protocol == "imap" and _IMAP_LOGIN_FAILED_RE.search(flat):
        code = "auth.invalid_credentials"  # Exchange/Courier/Cyrus: "NO LOGIN failed."
    if code is None:
        # A dropped connection is worth retrying even though we cannot say why it dropped.
        dropped = bool(_CONNECTION_DROPPED_RE.search(f"{exception} {haystack}"))
        # Replies that mean different things in different places stay a deliberate "unknown"
        # (README's labelling rules): no learned guess either.
        deliberate = dropped or _AMBIGUOUS_RE.search(haystack) or _NOT_A_FAILURE_RE.match(text)
        basis = "signature" if deliberate else "none"
        return done("unknown", retryable=dropped or None, basis=basis)
    oauth = _is_oauth(evidence, challenges)
    return done(_refine(code, variant=variant, oauth=oauth, flat=flat), basis=basis)


POLICY: Final = "rules>model(unknown,status)"  # chosen by the replay of every fresh measurement (README, session 5)
THRESHOLD: Final = 0.7  # the learned answer's least posterior to be used (README: chosen by the same cross-validation)


def classify_text(
    text: str, *, email: str | None = None, provider: str | None = None, host: str | None = None,
    learned_layer: bool = False,
) -> Diagnosis:
    """Diagnose free text (a pasted reply, log excerpt or error message).

    The rules; with ``learned_layer`` (``mailport explain`` and the explain API, where a person
    reads the answer), where they say ``unknown`` or only read a status code's generic meaning, the
    model learned from the corpus of real replies (:mod:`.learned`) answers if it is sure enough
    (``POLICY``). Code that acts on the answer (an adapter
    translating an error body) keeps the rules alone: a guess must not decide what happens to a
    message or an address."""
    diagnosis, basis = rules_with_basis(text, email=email, provider=provider, host=host)
    if basis == "signature" or not learned_layer:
        return diagnosis
    prediction = learned.shipped_model().predict(text)
    return combine(diagnosis, basis, prediction, text=text, email=email, provider=provider, host=host,
                   policy=POLICY, threshold=THRESHOLD)


def rules_with_basis(
    text: str, *, email: str | None = None, provider: str | None = None, host: str | None = None
) -> tuple[Diagnosis, str]:
    """The rules' diagnosis of free text and its basis (see :func:`_classify_by_rules`)."""
    return _classify_by_rules(Evidence(text=text), email=email, provider=provider, host=host)


def combine(
    diagnosis: Diagnosis,
    basis: str,
    prediction: learned.Prediction,
    *,
    text: str,
    email: str | None = None,
    provider: str | None = None,
    host: str | None = None,
    policy: str,
    threshold: float,
) -> Diagnosis:
    """The rules' ``diagnosis`` or the learned ``prediction``, by ``policy``:

    - ``rules`` / ``model``: one of them alone;
    - ``rules>model(unknown)``: the model where the rules say ``unknown``;
    - ``rules>model(unknown,status)``: also where they only read a generic reply/status code (a
      learned ``unknown`` does not replace such a reading).
    The model's answer is used only with a posterior of at least ``threshold`` (``model``: always); it is refined by
    provider like a rule's (a Gmail password rejection is an app-password question).
    """
    use_model = (
        policy == "model"
        or (policy == "rules>model(unknown)" and basis == "none")
        or (policy == "rules>model(unknown,status)" and basis in ("none", "status"))
    )
    if policy != "model" and prediction.probability < threshold:
        use_model = False
    if basis == "status" and prediction.code == "unknown":
        use_model = False  # the code's registered meaning says more than a learned shrug
    if not use_model or prediction.code == diagnosis.code:
        return diagnosis
    if prediction.code not in CODES:
        return diagnosis
    variant = provider_variant(email=email, provider=provider, host=host)
    clean = scrub(text)
    oauth = _is_oauth(Evidence(text=clean), _decode_challenges(clean))
    code = _refine(prediction.code, variant=variant, oauth=oauth, flat=_flatten(clean))
    return _diagnosis(code, variant=variant, server_text=diagnosis.server_text, smtp_code=_smtp_code(clean))


_IMAPLIB_ERRORS: Final = frozenset({"IMAP4.error", "IMAP4.abort"})


def _exception_names(exc: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(exc).__mro__]


def _exception_text(exc: BaseException) -> tuple[str, int | None]:
    """The message of ``exc`` and its cause chain, plus an SMTP code if the library has one."""
    parts: list[str] = []
    smtp_code: int | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "smtp_code", None)
        if code is None:
            code = getattr(current, "code", None)  # aiosmtplib SMTPResponseException
        message = getattr(current, "message", None)
        if message is None:
            message = getattr(current, "smtp_error", None)  # smtplib
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        if isinstance(code, int) and 200 <= code < 600 and smtp_code is None:
            smtp_code = code
            parts.append(f"{code} {message}" if isinstance(message, str) else str(current))
        else:
            parts.append(str(current))
        server_text = getattr(current, "server_text", None)  # mailport.errors.RemoteError
        if isinstance(server_text, str) and server_text:
            parts.append(server_text)
        current = current.__cause__ or current.__context__
    return "\n".join(p for p in parts if p), smtp_code


def classify_exception(
    exc: BaseException,
    *,
    protocol: str | None = None,
    stage: str | None = None,
    email: str | None = None,
    provider: str | None = None,
    auth_mechanism: str | None = None,
) -> Diagnosis:
    """Diagnose an exception from ssl, socket, asyncio, dnspython, aiosmtplib, smtplib, imaplib.

    Matching is by class name along the MRO and by message, so core needs none of those
    libraries; the cause chain is followed (aiosmtplib wraps the ``OSError`` it got).
    """
    if type(exc).__qualname__ in _IMAPLIB_ERRORS and str(exc) == "None":
        # imaplib reads a "+" line (POP3's "+OK" greeting) as a continuation and then raises
        # error(None): the server on this port does not speak IMAP.
        return classify(
            Evidence(
                protocol="imap",
                stage=stage,
                exception=type(exc).__name__,
                text="+ (a '+' line where the IMAP greeting should be)",
            ),
            email=email,
            provider=provider,
        )
    names = _exception_names(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        names += _exception_names(cause)
    text, smtp_code = _exception_text(exc)
    known = next((name for name in names if name in _EXCEPTION_NAMES), names[0])
    return classify(
        Evidence(
            protocol=protocol,
            stage=stage,
            smtp_code=smtp_code,
            text=text,
            exception=known,
            auth_mechanism=auth_mechanism,
        ),
        email=email,
        provider=provider,
    )
