"""The catalog of diagnosis codes: what each means for the user and the steps that fix it.

Codes are stable identifiers shared by the API, the CLI, the UI and :mod:`mailport.errors`; never
rename one. Every text is an English gettext msgid marked with :func:`N_` so that ``pybabel
extract`` finds it; the translation itself happens outside ``core`` (see
:mod:`mailport.diagnosis_text`), which keeps this module free of I/O.

The catalog is data: one module-level table (``_TABLE``) of :class:`CodeInfo` entries, built once at
import, and ``CODES`` indexes it by code. A code has generic steps and, where a provider does things
its own way, a provider variant with its own steps (and optionally its own title). Variant ids are those returned by
:func:`mailport.core.diagnostics.providers.provider_variant`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["CODES", "N_", "VARIANTS", "CodeInfo", "Severity", "Variant"]

Severity = Literal["error", "warning"]
"""``error``: the user must change something; ``warning``: transient, usually resolves itself."""

VARIANTS: Final = (
    "gmail",
    "google_workspace",
    "outlook",
    "microsoft365",
    "yahoo",
    "icloud",
    "gmx",
    "tonline",
    "libero",
    "generic",
)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here."""
    return message


@dataclass(frozen=True, slots=True)
class Variant:
    """Provider-specific advice for one code; ``title`` ``None`` keeps the generic title."""

    steps: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One stable diagnosis code with its default severity, retry advice and texts (msgids)."""

    code: str
    severity: Severity
    retryable: bool
    title: str
    steps: tuple[str, ...]
    variants: Mapping[str, Variant] = field(default_factory=dict)

    def advice(self, variant: str | None) -> Variant:
        """The title and steps for ``variant``, falling back to the generic ones."""
        specific = self.variants.get(variant or "generic")
        if specific is None:
            return Variant(steps=self.steps, title=self.title)
        return Variant(steps=specific.steps, title=specific.title or self.title)


# Steps shared by several variants: one msgid, translated once.
_PASTE_APP_PASSWORD = N_("Paste it here instead of your normal password and try again.")
_TRY_AGAIN = N_("Try again here.")
_RECONNECT_MICROSOFT = N_('Connect this mailbox again and choose "Sign in with Microsoft".')
_RECONNECT_GOOGLE = N_('Connect this mailbox again and choose "Sign in with Google".')
_GOOGLE_2SV = N_(
    "Open https://myaccount.google.com/security and turn on 2-Step Verification if it is not"
    " on yet."
)
_GOOGLE_APP_PASSWORD = N_(
    'Open https://myaccount.google.com/apppasswords, enter a name such as "Invoices" and click'
    " Create."
)
_GOOGLE_COPY = N_("Copy the 16-character password that Google shows you.")
_OUTLOOK_NO_PASSWORDS = N_(
    "Outlook.com no longer accepts passwords from other programs, not even app passwords."
)
_M365_MANAGE_APPS = N_(
    "In the Microsoft 365 admin center (https://admin.microsoft.com) open Users, Active users,"
    " select the person, then Mail and Manage email apps."
)
_GMX_SIGN_IN = N_("Sign in at https://www.gmx.net (or https://web.de for WEB.DE) in a browser.")
_GMX_ENABLE_IMAP = N_(
    "Open Settings (Einstellungen), then POP3/IMAP, tick \"Allow access via POP3 and IMAP\""
    " (POP3 und IMAP Zugriff erlauben) and save."
)
_TONLINE_SEPARATE = N_(
    'T-Online uses a separate "E-Mail-Passwort" for email programs, not the password you use'
    " to sign in to your customer account."
)
_TONLINE_SET_UP = N_(
    "Sign in at https://email.t-online.de, open Settings (Einstellungen), then Passwords"
    " (Passwörter), and set up the E-Mail-Passwort."
)
_TONLINE_ENTER = N_("Enter that E-Mail-Passwort here and try again.")
_CHANGE_PASSWORD = N_("If you did not send those messages yourself, change your password.")
_WAIT_AND_RETRY = N_("Wait a few minutes, then try again.")
_RECONNECT_ANY = N_("Then connect the mailbox again.")
# A refused password at a provider that wants an app password: the same steps serve
# auth.app_password_required and, after a first step that says so, auth.invalid_credentials.
_GMAIL_APP_PASSWORD_STEPS = (_GOOGLE_2SV, _GOOGLE_APP_PASSWORD, _GOOGLE_COPY, _PASTE_APP_PASSWORD)
_ICLOUD_APP_PASSWORD_STEPS = (
    N_("Open https://appleid.apple.com and sign in with your Apple Account."),
    N_("Go to Sign-In and Security, then App-Specific Passwords, and create a new one."),
    N_("Copy the password that Apple shows you (it looks like xxxx-xxxx-xxxx-xxxx)."),
    _PASTE_APP_PASSWORD,
)
_YAHOO_APP_PASSWORD_STEPS = (
    N_("Sign in at https://login.yahoo.com/account/security (for AOL:"
       " https://login.aol.com/account/security)."),
    N_('Click "Generate app password", enter a name such as "Invoices" and click Generate.'),
    N_("Copy the password that is shown."),
    _PASTE_APP_PASSWORD,
)
_LIBERO_APP_PASSWORD_STEPS = (
    N_("Sign in to Libero Mail at https://login.libero.it and open the security settings of"
       " your account."),
    N_("With two-step verification turned on, create an app password and copy it."),
    _PASTE_APP_PASSWORD,
)
_GMX_APP_PASSWORD = N_(
    "Open Security (Sicherheit), then Application-specific passwords (Anwendungsspezifische"
    " Passwörter); this needs two-factor authentication."
)
_M365_APP_PASSWORD = N_(
    "Create an app password at https://mysignins.microsoft.com/security-info (Add sign-in"
    " method, App password)."
)
_NEEDS_APP_PASSWORD = N_(
    "This provider does not accept your normal password from other programs: it needs an app"
    " password, which you create once in your account's security settings."
)


# The table itself: one entry per code, generic advice first, provider variants after.
_TABLE: Final[tuple[CodeInfo, ...]] = (
    CodeInfo(
        code="auth.app_password_required",
        severity="error",
        retryable=False,
        title=N_("Your email provider requires an app password"),
        steps=(
            N_("Sign in to your email provider's website and open your account's security"
               " settings."),
            N_("Turn on two-step verification if it is not on yet; app passwords are only"
               " offered when it is."),
            N_("Create a new app password (sometimes called an app-specific password) and"
               " copy it."),
            _PASTE_APP_PASSWORD,
        ),
        variants={
            "gmail": Variant(steps=_GMAIL_APP_PASSWORD_STEPS),
            "google_workspace": Variant(
                steps=(
                    N_("Ask your Google Workspace administrator whether app passwords are"
                       ' allowed for you; if not, connect with "Sign in with Google" instead.'),
                    _GOOGLE_2SV,
                    _GOOGLE_APP_PASSWORD,
                    _GOOGLE_COPY,
                    _PASTE_APP_PASSWORD,
                )
            ),
            "icloud": Variant(steps=_ICLOUD_APP_PASSWORD_STEPS),
            "yahoo": Variant(steps=_YAHOO_APP_PASSWORD_STEPS),
            "outlook": Variant(
                title=N_("Outlook.com needs you to sign in with Microsoft"),
                steps=(_OUTLOOK_NO_PASSWORDS, _RECONNECT_MICROSOFT),
            ),
            "microsoft365": Variant(
                steps=(
                    N_("Ask your Microsoft 365 administrator whether app passwords are"
                       ' allowed; if not, connect with "Sign in with Microsoft" instead.'),
                    _M365_APP_PASSWORD,
                    _PASTE_APP_PASSWORD,
                )
            ),
            "gmx": Variant(
                steps=(
                    _GMX_SIGN_IN,
                    _GMX_APP_PASSWORD,
                    N_('Create a new password, for example named "Invoices", and copy it.'),
                    _PASTE_APP_PASSWORD,
                )
            ),
            "libero": Variant(steps=_LIBERO_APP_PASSWORD_STEPS),
            "tonline": Variant(steps=(_TONLINE_SEPARATE, _TONLINE_SET_UP, _TONLINE_ENTER)),
        },
    ),
    CodeInfo(
        code="auth.invalid_credentials",
        severity="error",
        retryable=False,
        title=N_("The email address or password was not accepted"),
        steps=(
            N_("Check that the user name is your full email address, without spaces."),
            N_("Enter your password again carefully; upper and lower case matter."),
            N_("Sign in to your provider's webmail with the same password to make sure it"
               " works."),
            # The reply alone does not say which: a wrong password is likelier, but at providers
            # with two-step verification (Gmail, iCloud, Yahoo and many more) the same reply
            # means "app password needed" (README of the diagnostics corpus).
            N_("If the password works there but not here, and your account uses two-step"
               " verification, your provider wants an app password: create one in your"
               " account's security settings and paste it here instead of your normal"
               " password."),
            N_("Some providers also reject every password while access by email programs"
               " (IMAP, POP, SMTP) is switched off in the webmail settings; switch it on"
               " there."),
        ),
        variants={
            "tonline": Variant(steps=(_TONLINE_SEPARATE, _TONLINE_SET_UP, _TONLINE_ENTER)),
            "gmx": Variant(
                steps=(
                    N_("Check the password by signing in at https://www.gmx.net or"
                       " https://web.de."),
                    N_("GMX and WEB.DE also reject the password while access by email"
                       " programs is switched off:"),
                    _GMX_ENABLE_IMAP,
                    N_("If you use two-factor authentication, GMX and WEB.DE want an app"
                       " password instead:"),
                    _GMX_APP_PASSWORD,
                    _TRY_AGAIN,
                )
            ),
            "gmail": Variant(steps=(_NEEDS_APP_PASSWORD, *_GMAIL_APP_PASSWORD_STEPS)),
            "google_workspace": Variant(steps=(_NEEDS_APP_PASSWORD, *_GMAIL_APP_PASSWORD_STEPS)),
            "icloud": Variant(steps=(_NEEDS_APP_PASSWORD, *_ICLOUD_APP_PASSWORD_STEPS)),
            "yahoo": Variant(steps=(_NEEDS_APP_PASSWORD, *_YAHOO_APP_PASSWORD_STEPS)),
            "libero": Variant(
                steps=(
                    N_("Check the password by signing in at https://login.libero.it."),
                    N_("If it works there and two-step verification is on, Libero wants an"
                       " app password instead:"),
                    *_LIBERO_APP_PASSWORD_STEPS,
                )
            ),
            "outlook": Variant(steps=(_OUTLOOK_NO_PASSWORDS, _RECONNECT_MICROSOFT)),
            "microsoft365": Variant(
                steps=(
                    N_("Check the password by signing in at https://outlook.office.com."),
                    N_("If your organisation uses multi-factor authentication and your"
                       " administrator allows app passwords:"),
                    _M365_APP_PASSWORD,
                    _PASTE_APP_PASSWORD,
                    N_('If the password is right, your administrator may have switched off'
                       ' "Authenticated SMTP" for this mailbox:'),
                    _M365_MANAGE_APPS,
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.web_login_required",
        severity="error",
        retryable=False,
        title=N_("Your provider wants you to sign in on its website first"),
        steps=(
            N_("Sign in to your provider's webmail in a browser with this account."),
            N_("Look for a security notice or an email from your provider about a blocked"
               " sign-in and confirm that it was you."),
            _WAIT_AND_RETRY,
        ),
        variants={
            "gmail": Variant(
                steps=(
                    N_("Sign in at https://mail.google.com with this account."),
                    N_("Open https://myaccount.google.com/notifications and confirm that the"
                       " recent security activity was you."),
                    _WAIT_AND_RETRY,
                )
            ),
            "outlook": Variant(
                steps=(
                    N_("Sign in at https://outlook.live.com and follow any prompt to verify"
                       " your account, for example with a code sent to your phone."),
                    _WAIT_AND_RETRY,
                )
            ),
            "microsoft365": Variant(
                steps=(
                    N_("Sign in at https://outlook.office.com and complete any extra"
                       " verification step, such as the Microsoft Authenticator prompt."),
                    _WAIT_AND_RETRY,
                )
            ),
            "yahoo": Variant(
                steps=(
                    N_("Sign in at https://mail.yahoo.com and follow any prompt to verify"
                       " your account."),
                    _WAIT_AND_RETRY,
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.password_login_disabled",
        severity="error",
        retryable=False,
        title=N_("Your provider no longer accepts a password from other programs"),
        steps=(
            N_("Your provider has switched off signing in with a password from programs"
               " like this one."),
            N_("Connect the mailbox again and choose your provider's sign-in button, if"
               " one is offered."),
            N_("Otherwise ask your email administrator to allow sign-in with a password or"
               " an app password."),
        ),
        variants={
            "gmail": Variant(
                steps=(
                    N_('Google accepts only "Sign in with Google" or an app password from'
                       " programs like this one."),
                    _RECONNECT_GOOGLE,
                )
            ),
            "google_workspace": Variant(
                steps=(
                    N_('Google accepts only "Sign in with Google" or an app password from'
                       " programs like this one."),
                    _RECONNECT_GOOGLE,
                    N_("If that is blocked, ask your Google Workspace administrator to allow"
                       " this app in the Admin console (Security, API controls)."),
                )
            ),
            "outlook": Variant(steps=(_OUTLOOK_NO_PASSWORDS, _RECONNECT_MICROSOFT)),
            "microsoft365": Variant(
                steps=(
                    N_("Your organisation's Microsoft 365 settings block sign-in with a"
                       " password, for example through security defaults."),
                    _RECONNECT_MICROSOFT,
                    N_("If that is blocked too, ask your Microsoft 365 administrator for"
                       " help."),
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.smtp_auth_disabled",
        severity="error",
        retryable=False,
        title=N_("Sending through the mail server is switched off for this account"),
        steps=(
            N_("The mail server does not let this account sign in to send messages."),
            N_("Ask your email administrator or provider to allow authenticated SMTP for"
               " this mailbox."),
            N_("Check that you use the outgoing server and port that your provider"
               " recommends."),
        ),
        variants={
            "microsoft365": Variant(
                steps=(
                    N_('Your Microsoft 365 administrator needs to switch on "Authenticated'
                       ' SMTP" for this mailbox.'),
                    _M365_MANAGE_APPS,
                    N_("Tick Authenticated SMTP and save. If it is switched off for the"
                       " whole organisation, switch it on in the Exchange admin center"
                       " (https://admin.exchange.microsoft.com) under Settings, Mail flow."),
                    N_("Changes can take up to an hour; then try again."),
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.use_graph",
        severity="error",
        retryable=False,
        title=N_("Microsoft 365 blocks sending through SMTP for this mailbox: switch to"
                 " Microsoft Graph"),
        steps=(
            N_("Your organisation has switched off sign-in to SMTP (SMTP AUTH), as many"
               " Microsoft 365 organisations do. Signing in with Microsoft still works."),
            N_('Press "Switch to Microsoft Graph" and sign in with Microsoft once more.'
               " Nothing else changes: the mailbox, its messages and its settings stay."),
            N_("Or ask your Microsoft 365 administrator to switch on Authenticated SMTP"
               " for this mailbox in the admin center (https://admin.microsoft.com)."),
        ),
    ),
    CodeInfo(
        code="api.mailbox_not_enabled",
        severity="error",
        retryable=False,
        title=N_("This mailbox cannot be used through Microsoft Graph"),
        steps=(
            N_("Microsoft answers that this mailbox is not in Exchange Online, for example"
               " because it is on your own Exchange server, has no Exchange Online licence"
               " or is not active yet."),
            N_("Ask your Microsoft 365 administrator to give the mailbox an Exchange Online"
               " licence and to open it once in Outlook on the web"
               " (https://outlook.office.com)."),
            N_("If the mailbox is on your own Exchange server, connect it with its server"
               " settings (IMAP and SMTP) instead."),
        ),
    ),
    CodeInfo(
        code="auth.imap_disabled",
        severity="error",
        retryable=False,
        title=N_("Access by email programs (IMAP) is switched off"),
        steps=(
            N_("Sign in to your provider's webmail and open the settings."),
            N_('Look for an option such as "IMAP access" or "POP and IMAP" and switch it'
               " on."),
            _WAIT_AND_RETRY,
        ),
        variants={
            "gmx": Variant(steps=(_GMX_SIGN_IN, _GMX_ENABLE_IMAP, _TRY_AGAIN)),
            "gmail": Variant(
                steps=(
                    N_("Open Gmail in a browser, click the gear icon, then See all"
                       " settings."),
                    N_("Open the tab Forwarding and POP/IMAP, choose Enable IMAP and click"
                       " Save Changes."),
                    _TRY_AGAIN,
                )
            ),
            "google_workspace": Variant(
                steps=(
                    N_("Ask your Google Workspace administrator to allow IMAP in the Admin"
                       " console (Apps, Google Workspace, Gmail, End User Access)."),
                    _TRY_AGAIN,
                )
            ),
            "outlook": Variant(
                steps=(
                    N_("Sign in at https://outlook.live.com and open Settings, Mail,"
                       " Forwarding and IMAP."),
                    N_('Switch on "Let devices and apps use IMAP" and save.'),
                    _TRY_AGAIN,
                )
            ),
            "microsoft365": Variant(
                steps=(
                    N_("Your Microsoft 365 administrator needs to allow IMAP for this"
                       " mailbox."),
                    _M365_MANAGE_APPS,
                    N_("Tick IMAP and save. Changes can take up to an hour; then try"
                       " again."),
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.too_many_attempts",
        severity="warning",
        retryable=True,
        title=N_("Too many sign-in attempts"),
        steps=(
            N_("Your provider has paused sign-ins for this account after several failed"
               " attempts."),
            N_("Wait at least 15 minutes before you try again."),
            N_("In the meantime, check the password by signing in to your provider's"
               " webmail."),
        ),
    ),
    CodeInfo(
        code="auth.token_invalid",
        severity="error",
        retryable=False,
        title=N_("The connection to your mailbox has expired"),
        steps=(
            N_("The permission you gave earlier has expired or was withdrawn, for example"
               " after a password change."),
            N_("Connect the mailbox again and sign in with your provider when asked."),
        ),
    ),
    CodeInfo(
        code="auth.admin_consent_required",
        severity="error",
        retryable=False,
        title=N_("Your organisation's administrator has to approve this app"),
        steps=(
            N_("Your organisation only allows apps that an administrator has approved."),
            N_("Ask your administrator to approve this app."),
            _RECONNECT_ANY,
        ),
        variants={
            "microsoft365": Variant(
                steps=(
                    N_("Ask your Microsoft 365 administrator to open the Microsoft Entra"
                       " admin center (https://entra.microsoft.com), go to Enterprise apps"
                       " and grant admin consent for this app."),
                    _RECONNECT_ANY,
                )
            ),
            "google_workspace": Variant(
                steps=(
                    N_("Ask your Google Workspace administrator to mark this app as trusted"
                       " in the Admin console (https://admin.google.com, Security, Access"
                       " and data control, API controls)."),
                    _RECONNECT_ANY,
                )
            ),
        },
    ),
    CodeInfo(
        code="auth.insufficient_permissions",
        severity="error",
        retryable=False,
        title=N_("This app is missing a permission for your mailbox"),
        steps=(
            N_("When you signed in, not every permission this app asks for was allowed, for"
               " example a box on the consent page was left unticked."),
            N_("Connect the mailbox again and allow every permission the sign-in page asks"
               " for."),
        ),
        variants={
            "gmail": Variant(
                steps=(
                    N_("On Google's consent page every permission has its own tick box; one"
                       " that this app needs was left unticked."),
                    _RECONNECT_GOOGLE,
                    N_("Tick every box on Google's page before you press Continue."),
                )
            ),
            "google_workspace": Variant(
                steps=(
                    N_("On Google's consent page every permission has its own tick box; one"
                       " that this app needs was left unticked."),
                    _RECONNECT_GOOGLE,
                    N_("Tick every box on Google's page before you press Continue."),
                )
            ),
        },
    ),
    CodeInfo(
        code="api.rate_limited",
        severity="warning",
        retryable=True,
        title=N_("Your provider asked us to send more slowly"),
        steps=(
            N_("Your provider limits how many requests a program may make in a short time."),
            N_("Nothing is lost: the message is sent again automatically in a moment."),
        ),
    ),
    CodeInfo(
        code="send.sender_not_allowed",
        severity="error",
        retryable=False,
        title=N_("This account may not send from this address"),
        steps=(
            N_("Check that the sender address is the address of the mailbox you"
               " connected."),
            N_("To send from another address, ask your provider or administrator to allow"
               " this mailbox to send as that address."),
        ),
        variants={
            "microsoft365": Variant(
                steps=(
                    N_('Ask your Microsoft 365 administrator to give this mailbox "Send as"'
                       " permission for the sender address (Exchange admin center,"
                       " Recipients, Mailboxes, Delegation)."),
                    N_("Or change the sender address to the connected mailbox."),
                )
            ),
            "gmail": Variant(
                steps=(
                    N_("To send from another address with Gmail, add it in Gmail under"
                       ' Settings, Accounts and Import, "Send mail as", and confirm it.'),
                    N_("Or change the sender address to the connected mailbox."),
                )
            ),
        },
    ),
    CodeInfo(
        code="send.daily_limit_reached",
        severity="warning",
        retryable=True,
        title=N_("You have reached your provider's daily sending limit"),
        steps=(
            N_("Your provider limits how many messages you can send per day."),
            N_("Wait until the limit resets, usually after 24 hours, and send again."),
            N_("If you often send this many messages, ask your provider about a plan with a"
               " higher limit."),
        ),
        variants={
            "gmail": Variant(
                steps=(
                    N_("A personal Gmail account can send about 500 messages a day."),
                    N_("Wait until the limit resets, usually after 24 hours, and send"
                       " again."),
                    N_("For a higher limit, use a Google Workspace account."),
                )
            ),
            "google_workspace": Variant(
                steps=(
                    N_("Google Workspace allows about 2,000 messages a day per user."),
                    N_("Wait until the limit resets, usually after 24 hours, and send"
                       " again."),
                )
            ),
        },
    ),
    CodeInfo(
        code="send.account_blocked",
        severity="error",
        retryable=False,
        title=N_("Your provider has blocked sending from this account"),
        steps=(
            N_("Your provider has stopped this account from sending, often because it"
               " suspects misuse."),
            N_("Sign in to your provider's webmail and follow the instructions shown there,"
               " or contact their support."),
            _CHANGE_PASSWORD,
        ),
        variants={
            "outlook": Variant(
                steps=(
                    N_("Sign in at https://outlook.live.com; Microsoft usually shows how to"
                       " unblock the account, for example with a code sent to your phone."),
                    _CHANGE_PASSWORD,
                )
            ),
            "microsoft365": Variant(
                steps=(
                    N_("Your Microsoft 365 administrator can release the account in the"
                       " Microsoft Defender portal"
                       " (https://security.microsoft.com/restrictedusers)."),
                    _CHANGE_PASSWORD,
                )
            ),
        },
    ),
    CodeInfo(
        code="send.recipient_unknown",
        severity="error",
        retryable=False,
        title=N_("The recipient's address does not exist"),
        steps=(
            N_("Check the recipient's email address for typing mistakes."),
            N_("If the address is right, ask the recipient another way for their current"
               " email address."),
        ),
    ),
    CodeInfo(
        code="send.recipient_mailbox_full",
        severity="warning",
        retryable=False,
        title=N_("The recipient's mailbox is full"),
        steps=(
            N_("The recipient cannot receive new messages until they make room in their"
               " mailbox."),
            N_("Let the recipient know another way, or send again later."),
        ),
    ),
    CodeInfo(
        code="send.message_too_large",
        severity="error",
        retryable=False,
        title=N_("The message is too large"),
        steps=(
            N_("Most providers accept messages of up to about 20 to 25 MB, attachments"
               " included."),
            N_("Make the attachments smaller, for example with a compressed PDF, or send"
               " fewer at once."),
            N_("For large files, share a download link instead."),
        ),
    ),
    CodeInfo(
        code="send.rejected_as_spam",
        severity="error",
        retryable=False,
        title=N_("The message was rejected as possible spam"),
        steps=(
            N_("The receiving server thought this message might be spam."),
            N_("If you send from your own domain, make sure its email records (SPF, DKIM"
               " and DMARC) are set up; your email or IT provider can help."),
            N_("Remove unusual links or attachments and try again."),
            N_("If it keeps happening, show the server's message to your email provider."),
        ),
    ),
    CodeInfo(
        code="send.gave_up",
        severity="error",
        retryable=False,
        title=N_("The message could not be delivered in time"),
        steps=(
            N_("The receiving server kept refusing the message for days, so sending has"
               " stopped."),
            N_("Check the recipient's address, then send the message again."),
            N_("If it keeps happening, show the server's message to your email provider."),
        ),
    ),
    CodeInfo(
        code="tls.starttls_required",
        severity="error",
        retryable=False,
        title=N_("The server requires an encrypted connection"),
        steps=(
            N_("The server only accepts a sign-in over an encrypted connection."),
            N_("In the connection settings choose STARTTLS (usually port 587 for sending"
               " and 143 for receiving) or SSL/TLS (ports 465 and 993)."),
            _TRY_AGAIN,
        ),
    ),
    CodeInfo(
        code="tls.mode_mismatch",
        severity="error",
        retryable=False,
        title=N_("The encryption setting does not match the server"),
        steps=(
            N_("The encryption type does not fit the port: ports 465 and 993 use SSL/TLS,"
               " ports 587 and 143 use STARTTLS."),
            N_("Change either the encryption or the port in the connection settings."),
            _TRY_AGAIN,
        ),
    ),
    CodeInfo(
        code="tls.certificate_invalid",
        severity="error",
        retryable=False,
        title=N_("The server's security certificate could not be verified"),
        steps=(
            N_("The mail server showed a certificate that has expired, was made by the"
               " server itself, or belongs to a different name."),
            N_("Check that the server name is exactly the one your provider gives, for"
               " example mail.example.com rather than an IP address."),
            N_("If the name is right, ask your provider or IT administrator to renew the"
               " certificate."),
            N_("Do not connect without a valid certificate: someone could read your"
               " password."),
        ),
    ),
    CodeInfo(
        code="net.host_not_found",
        severity="error",
        retryable=False,
        title=N_("The server name could not be found"),
        steps=(
            N_("Check the server name for typing mistakes."),
            N_("Look up the correct server names on your provider's help pages."),
            N_("If the name is right, try again in a few minutes; the internet connection"
               " may have been interrupted."),
        ),
    ),
    # Decided by mailport's own network policy (MAILPORT_ALLOW_PRIVATE_HOSTS off), never by a
    # server: without its own texts the owner read "something went wrong that we could not identify".
    CodeInfo(
        code="net.host_not_allowed",
        severity="error",
        retryable=False,
        title=N_("This server address may not be used"),
        steps=(
            N_("The server name leads to an address in a local or private network (such as 127.0.0.1,"
               " 10.… or 192.168.…), and this service does not connect there."),
            N_("Enter the public server name from your email provider's help pages, such as"
               " smtp.provider.com."),
            N_("Is your mail server only reachable inside your own network? Ask the administrator of this"
               " program whether it can be allowed."),
        ),
    ),
    # The same network rule for a webhook URL, in words about webhooks: the mail server's steps
    # ("your email provider's help pages") would send a developer looking in the wrong place.
    CodeInfo(
        code="webhook.host_not_allowed",
        severity="error",
        retryable=False,
        title=N_("This webhook address may not be used"),
        steps=(
            N_("The webhook URL leads to a local or private network (such as localhost, 127.0.0.1, 10.… or"
               " 192.168.…, or a name without a dot), and this service does not send events there."),
            N_("Enter the public https address at which your application receives the events, such as"
               " https://app.example.com/mailport/events."),
            N_("Does your application only run inside your own network? Ask the administrator of this"
               " service whether private addresses can be allowed."),
        ),
    ),
    CodeInfo(
        code="net.connection_refused",
        severity="warning",
        retryable=True,
        title=N_("The mail server could not be reached"),
        steps=(
            N_("Check the server name and the port number in the connection settings."),
            N_("The server may be down for maintenance; try again in a few minutes."),
            N_("A firewall may block this port; ask your IT administrator."),
        ),
    ),
    CodeInfo(
        code="net.timeout",
        severity="warning",
        retryable=True,
        title=N_("The mail server did not answer in time"),
        steps=(
            N_("A firewall may be blocking the port, or the server is very busy."),
            N_("Check the port number: usually 465 or 587 for sending and 993 for"
               " receiving."),
            _WAIT_AND_RETRY,
        ),
    ),
    CodeInfo(
        # The client says only that the connection failed, not why (PHPMailer's "Could not connect
        # to SMTP host", Nextcloud's "Error connecting to SMTP server"): the three usual causes
        # and their fixes, most likely first, instead of a guess at one.
        code="net.connection_failed",
        severity="warning",
        retryable=True,
        title=N_("The connection to the mail server failed, without saying why"),
        steps=(
            N_("The program could not connect to the mail server, and the message does not"
               " say why. The usual causes, most likely first:"),
            N_("The server name is wrong: compare it letter by letter with the one on your"
               " provider's help pages."),
            N_("The port and the encryption do not fit together: ports 465 and 993 use"
               " SSL/TLS, ports 587 and 143 use STARTTLS."),
            N_("A firewall or the network blocks the port, or the server is down for a"
               " moment: try again in a few minutes, and ask your IT administrator if it"
               " keeps happening."),
        ),
    ),
    CodeInfo(
        code="net.wrong_service",
        severity="error",
        retryable=False,
        title=N_("This port belongs to a different kind of mail server"),
        steps=(
            N_("The server at this port is not the kind that was expected, for example a"
               " POP3 server where an IMAP server should be."),
            N_("Check the port: receiving uses IMAP on 993 (or 143), sending uses 465 or"
               " 587. POP3 (ports 110 and 995) is not supported."),
            N_("Correct the server name or port and try again."),
        ),
    ),
    CodeInfo(
        code="server.temporary_failure",
        severity="warning",
        retryable=True,
        title=N_("The mail server has a temporary problem"),
        steps=(
            N_("The server reported a temporary problem on its side; nothing needs to"
               " change on yours."),
            _WAIT_AND_RETRY,
            N_("If it keeps happening for hours, contact your email provider."),
        ),
    ),
    CodeInfo(
        # Too many connections or messages in a short time: a limit, not a breakdown.
        code="server.rate_limited",
        severity="warning",
        retryable=True,
        title=N_("The mail server is limiting how much it accepts right now"),
        steps=(
            N_("The server accepts only a limited number of connections or messages in a"
               " short time. This is not a fault, and your settings are fine."),
            N_("Sending is tried again automatically in a few minutes."),
            N_("If it keeps happening, send fewer documents at once or ask your email"
               " provider about its limits."),
        ),
    ),
    CodeInfo(
        # "Relay access denied" and its kin, and "please authenticate first" (session 7's labels):
        # the server refused to pass the message on. Three causes give these words (README of the
        # diagnostics corpus): no sign-in, the wrong outgoing server, or a server that does not
        # take mail for the recipient's domain.
        code="send.relay_denied",
        severity="error",
        retryable=False,
        title=N_("The server refused to pass the message on"),
        steps=(
            N_("The mail server refused to pass this message on to the recipient. The usual"
               " causes, most likely first:"),
            N_("The program did not sign in: check that sending (SMTP) signs in with your"
               " email address and password."),
            N_("The outgoing server is not your provider's: use the outgoing server and port"
               " (usually 587 or 465) from your provider's help pages, not port 25."),
            N_("If you see this in a returned message, the recipient's server does not take"
               " mail for that address: check the recipient's address for typing"
               " mistakes."),
        ),
    ),
    CodeInfo(
        # "Server busy": some servers say it when they are overloaded, others when they limit a
        # sender (the corpus has both, from documented sources); the fix is the same first step.
        code="server.busy",
        severity="warning",
        retryable=True,
        title=N_("The mail server is busy right now"),
        steps=(
            N_("The server says it is busy. That is either a passing overload on its side or"
               " a limit on how much it accepts from you in a short time; the reply does not"
               " say which. Your settings are fine."),
            N_("Sending is tried again automatically in a few minutes."),
            N_("If it keeps happening, send fewer documents at once or ask your email"
               " provider about its limits."),
        ),
    ),
    CodeInfo(
        code="unknown",
        severity="error",
        retryable=False,
        title=N_("Something went wrong that we could not identify"),
        steps=(
            N_("Read the server's message below; it often names the problem."),
            N_("Check the connection settings: server, port, encryption, user name and"
               " password."),
            N_("If it keeps happening, contact your email provider and show them the"
               " server's message."),
        ),
    ),
)

CODES: Final[Mapping[str, CodeInfo]] = MappingProxyType({info.code: info for info in _TABLE})
