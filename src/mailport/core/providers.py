"""A hand-written catalog of major mail providers and hosting companies.

Written from the providers' public help pages (not copied from Thunderbird's ISPDB). The catalog
is the first and fastest discovery source: a domain or an MX host it knows answers without any
network lookup, and it carries what no autoconfig file can: which authentication a provider
really accepts today and the hints a user needs (app passwords, "enable IMAP in webmail", …).

Hint texts are English gettext msgids, marked with :func:`N_` so the extractor finds them; they
are translated where they are shown, keyed by the stable ``code``.

Pure: module-level data and lookups, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AUTH_KINDS",
    "N_",
    "Hint",
    "Provider",
    "Security",
    "ServerSettings",
    "all",
    "find_by_domain",
    "find_by_mx",
    "get",
    "suggest_domain",
]

Security = Literal["tls", "starttls", "none"]

# "password": the mailbox password; "app_password": a separate password generated in the
# provider's account settings; "oauth2:<issuer>": OAuth 2.0 via that issuer's authorization server.
AUTH_KINDS = frozenset({"password", "app_password", "oauth2:google", "oauth2:microsoft"})

EMAIL_ADDRESS = "%EMAILADDRESS%"
EMAIL_LOCALPART = "%EMAILLOCALPART%"


def N_(message: str) -> str:
    """Mark ``message`` as a msgid for extraction without translating it here."""
    return message


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """One server: where to connect and how to log in.

    ``username`` may be a template with ``%EMAILADDRESS%``, ``%EMAILLOCALPART%`` or
    ``%EMAILDOMAIN%`` (the placeholders of Thunderbird's config-v1.1.xml); discovery fills them in.
    """

    host: str
    port: int
    security: Security
    username: str = EMAIL_ADDRESS

    def __post_init__(self) -> None:
        if not self.host or any(ch.isspace() for ch in self.host):
            raise ValueError(f"invalid host name {self.host!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"invalid port {self.port}")
        if self.security not in ("tls", "starttls", "none"):
            raise ValueError(f"invalid security {self.security!r}")

    def to_dict(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port, "security": self.security, "username": self.username}


@dataclass(frozen=True, slots=True)
class Hint:
    """Something the user must know or do; ``code`` is stable, ``text`` an English msgid — or, for
    a hint that names something (a domain), the English text, its msgid in ``template`` and the
    names in ``values``, so a caller can say it in the user's language."""

    code: str
    text: str
    template: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The text through ``gettext`` (a catalog's lookup), the names filled in."""
        if self.template:
            return gettext(self.template) % dict(self.values)
        return gettext(self.text)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True, slots=True)
class Provider:
    """A mail provider or hosting company.

    ``mx_patterns`` are host names (``aspmx.l.google.com``) or ``*.``-suffix patterns
    (``*.mail.protection.outlook.com`` matches any host below that name, never the name itself).
    ``imap``/``smtp`` are ``None`` where the provider offers no such access (its hints explain).
    """

    id: str
    name: str
    domains: tuple[str, ...]
    imap: ServerSettings | None
    smtp: ServerSettings | None
    auth: tuple[str, ...] = ("password",)
    hints: tuple[Hint, ...] = ()
    mx_patterns: tuple[str, ...] = ()
    countries: tuple[str, ...] = field(default=())
    # True when the provider offers no IMAP/SMTP access at all (Proton without Bridge, Tuta):
    # discovery stops there and explains instead of guessing servers.
    closed: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.auth) - AUTH_KINDS
        if unknown:
            raise ValueError(f"{self.id}: unknown auth kinds {sorted(unknown)}")

    def matches_mx(self, host: str) -> bool:
        host = _norm(host)
        for pattern in self.mx_patterns:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]):
                    return True
            elif host == pattern:
                return True
        return False


# --- hints ------------------------------------------------------------------------------------

APP_PASSWORD_2FA = Hint(
    "provider.app_password_required",
    N_("Use an app password: create one in your account's security settings (two-step verification must be on)."),
)
APP_PASSWORD = Hint(
    "provider.app_password_required",
    N_("Use an app password created in your account's security settings, not your normal password."),
)
APP_PASSWORD_WITH_2FA = Hint(
    "provider.app_password_if_2fa",
    N_("If two-step verification is on for this account, use an app password instead of your normal password."),
)
ENABLE_IMAP = Hint(
    "provider.enable_imap_in_webmail",
    N_("Access by other mail programs is off until you enable IMAP/POP3/SMTP in the webmail settings."),
)
SEPARATE_PASSWORD_TONLINE = Hint(
    "provider.separate_mail_password",
    N_("Use your separate e-mail password (\"E-Mail-Passwort\") from the Telekom customer center, not your login "
       "password."),
)
SEPARATE_PASSWORD = Hint(
    "provider.separate_mail_password",
    N_("This provider uses a separate password for mail programs; set it in your account settings."),
)
GOOGLE_OAUTH = Hint(
    "provider.google_oauth_preferred",
    N_("Sign in with Google (OAuth); passwords only work as app passwords with two-step verification on."),
)
WORKSPACE_RELAY = Hint(
    "provider.workspace_password_off",
    N_("Google Workspace turned off password access for mail programs; sign in with Google or use an app password. "
       "Your admin can also allow the SMTP relay service."),
)
OUTLOOK_OAUTH_ONLY = Hint(
    "provider.oauth_only",
    N_("Outlook.com no longer accepts passwords or app passwords from mail programs; sign in with Microsoft."),
)
M365_SMTP_AUTH = Hint(
    "provider.smtp_auth_disabled_tenant",
    N_("Microsoft 365 can switch off SMTP sending for the organization or the mailbox (\"SMTP AUTH\"); ask your admin "
       "to enable it for this mailbox. This also blocks sign-in with Microsoft for sending."),
)
M365_BASIC_RETIRED = Hint(
    "provider.basic_auth_retired",
    N_("Microsoft is retiring password (basic) authentication for sending; sign in with Microsoft."),
)
PROTON_BRIDGE = Hint(
    "provider.bridge_required",
    N_("Proton Mail encrypts your mailbox and offers no IMAP/SMTP server on the internet. It works only through Proton "
       "Mail Bridge running on your own computer (paid plans) or a Proton SMTP token for sending (business plans)."),
)
TUTA_NO_IMAP = Hint(
    "provider.no_imap",
    N_("Tuta (Tutanota) does not offer IMAP or SMTP at all, so this mailbox cannot be connected. Use another mailbox "
       "for sending from this program."),
)
FREE_ENABLE = Hint(
    "provider.enable_imap_in_webmail",
    N_("Check in your Free account that the mail service is active and access by mail programs is allowed."),
)
YAHOO_APP = Hint(
    "provider.app_password_required",
    N_("Yahoo only accepts app passwords from mail programs: generate one under Account security."),
)
ICLOUD_APP = Hint(
    "provider.app_password_required",
    N_("iCloud Mail requires an app-specific password (create it at account.apple.com); two-factor authentication must "
       "be on."),
)
HOSTING_MAILBOX_PASSWORD = Hint(
    "provider.mailbox_password",
    N_("Use the password of this mailbox as set in your hosting control panel, not the control-panel login."),
)
SUBSCRIPTION_REQUIRED = Hint(
    "provider.paid_plan_required",
    N_("Access by mail programs is only included in some plans of this provider."),
)


# --- helpers ----------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _imap(host: str, port: int = 993, security: Security = "tls", username: str = EMAIL_ADDRESS) -> ServerSettings:
    return ServerSettings(host, port, security, username)


def _smtp(host: str, port: int = 465, security: Security = "tls", username: str = EMAIL_ADDRESS) -> ServerSettings:
    return ServerSettings(host, port, security, username)


def _p(
    id: str,
    name: str,
    domains: Iterable[str],
    imap: ServerSettings | None,
    smtp: ServerSettings | None,
    *,
    auth: Iterable[str] = ("password",),
    hints: Iterable[Hint] = (),
    mx: Iterable[str] = (),
    countries: Iterable[str] = (),
    closed: bool = False,
) -> Provider:
    return Provider(
        id=id,
        name=name,
        domains=tuple(_norm(d) for d in domains),
        imap=imap,
        smtp=smtp,
        auth=tuple(auth),
        hints=tuple(hints),
        mx_patterns=tuple(_norm(m) for m in mx),
        countries=tuple(countries),
        closed=closed,
    )


# --- the catalog ------------------------------------------------------------------------------

_CATALOG: tuple[Provider, ...] = (
    # International
    _p("gmail", "Gmail", ["gmail.com", "googlemail.com"],
       _imap("imap.gmail.com"), _smtp("smtp.gmail.com"),
       auth=["oauth2:google", "app_password"], hints=[GOOGLE_OAUTH],
       mx=["gmail-smtp-in.l.google.com", "*.gmail-smtp-in.l.google.com"]),
    _p("google_workspace", "Google Workspace", [],
       _imap("imap.gmail.com"), _smtp("smtp.gmail.com"),
       auth=["oauth2:google", "app_password"], hints=[WORKSPACE_RELAY],
       mx=["aspmx.l.google.com", "*.aspmx.l.google.com", "aspmx2.googlemail.com",
           "aspmx3.googlemail.com", "aspmx4.googlemail.com", "aspmx5.googlemail.com",
           "smtp.google.com"]),
    _p("outlook", "Outlook.com", ["outlook.com", "hotmail.com", "live.com", "msn.com",
                                   "outlook.de", "outlook.fr", "outlook.it", "outlook.be",
                                   "hotmail.de", "hotmail.fr", "hotmail.it", "hotmail.co.uk",
                                   "hotmail.nl", "hotmail.be", "live.nl", "live.de", "live.fr",
                                   "live.it", "live.be", "live.co.uk", "live.at", "live.ch"],
       _imap("outlook.office365.com"), _smtp("smtp-mail.outlook.com", 587, "starttls"),
       auth=["oauth2:microsoft"], hints=[OUTLOOK_OAUTH_ONLY],
       mx=["*.olc.protection.outlook.com"]),
    _p("microsoft365", "Microsoft 365", [],
       _imap("outlook.office365.com"), _smtp("smtp.office365.com", 587, "starttls"),
       auth=["oauth2:microsoft", "password"], hints=[M365_SMTP_AUTH, M365_BASIC_RETIRED],
       mx=["*.mail.protection.outlook.com", "*.mx.microsoft"]),
    _p("yahoo", "Yahoo Mail", ["yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "yahoo.it",
                               "yahoo.es", "yahoo.nl", "yahoo.be", "yahoo.at", "yahoo.ch",
                               "yahoo.se", "yahoo.dk", "yahoo.no", "ymail.com", "rocketmail.com"],
       _imap("imap.mail.yahoo.com"), _smtp("smtp.mail.yahoo.com"),
       auth=["app_password"], hints=[YAHOO_APP], mx=["*.yahoodns.net"]),
    _p("aol", "AOL Mail", ["aol.com", "aol.de", "aol.fr", "aol.it", "aol.co.uk", "aim.com"],
       _imap("imap.aol.com"), _smtp("smtp.aol.com"),
       auth=["app_password"], hints=[APP_PASSWORD], mx=["mx-aol.mail.gm0.yahoodns.net"]),
    _p("icloud", "iCloud Mail", ["icloud.com", "me.com", "mac.com"],
       _imap("imap.mail.me.com"), _smtp("smtp.mail.me.com", 587, "starttls"),
       auth=["app_password"], hints=[ICLOUD_APP], mx=["*.mail.icloud.com"]),
    _p("fastmail", "Fastmail", ["fastmail.com", "fastmail.fm", "fastmail.net", "fastmail.org",
                                "messagingengine.com"],
       _imap("imap.fastmail.com"), _smtp("smtp.fastmail.com"),
       auth=["app_password"], hints=[APP_PASSWORD], mx=["*.messagingengine.com"]),
    # Zoho's data centres have their own hosts: accounts at zoho.com sign in at imap.zoho.com.
    _p("zoho", "Zoho Mail", ["zoho.com", "zohomail.com"],
       _imap("imap.zoho.com"), _smtp("smtp.zoho.com"),
       auth=["password", "app_password"], hints=[APP_PASSWORD_WITH_2FA, ENABLE_IMAP],
       mx=["mx.zoho.com", "mx2.zoho.com", "mx3.zoho.com"]),
    _p("zoho_eu", "Zoho Mail (EU)", ["zoho.eu", "zohomail.eu"],
       _imap("imap.zoho.eu"), _smtp("smtp.zoho.eu"),
       auth=["password", "app_password"], hints=[APP_PASSWORD_WITH_2FA, ENABLE_IMAP],
       mx=["mx.zoho.eu", "mx2.zoho.eu", "mx3.zoho.eu"]),
    _p("proton", "Proton Mail", ["proton.me", "protonmail.com", "protonmail.ch", "pm.me"],
       None, None, auth=["password"], hints=[PROTON_BRIDGE], mx=["*.protonmail.ch"], closed=True),
    _p("tuta", "Tuta (Tutanota)", ["tuta.com", "tutanota.com", "tutanota.de", "tutamail.com",
                                   "tuta.io", "keemail.me"],
       None, None, hints=[TUTA_NO_IMAP], mx=["mail.tutanota.de"], closed=True),
    _p("yandex", "Yandex Mail", ["yandex.com", "yandex.ru", "ya.ru", "yandex.by", "yandex.kz"],
       _imap("imap.yandex.com"), _smtp("smtp.yandex.com"),
       auth=["app_password"], hints=[APP_PASSWORD, ENABLE_IMAP], mx=["mx.yandex.net", "mx.yandex.ru"]),
    _p("mailru", "Mail.ru", ["mail.ru", "inbox.ru", "list.ru", "bk.ru"],
       _imap("imap.mail.ru"), _smtp("smtp.mail.ru"),
       auth=["app_password"], hints=[APP_PASSWORD], mx=["mxs.mail.ru", "emx.mail.ru"]),
    _p("godaddy", "GoDaddy Workspace Email", [],
       _imap("imap.secureserver.net"), _smtp("smtpout.secureserver.net"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.secureserver.net"]),
    _p("namecheap", "Namecheap Private Email", ["privateemail.com"],
       _imap("mail.privateemail.com"), _smtp("mail.privateemail.com"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["mx1.privateemail.com", "mx2.privateemail.com"]),
    # Netherlands
    _p("kpn", "KPN", ["kpnmail.nl", "kpnplanet.nl", "planet.nl", "hetnet.nl", "kpnbusiness.nl"],
       _imap("imap.kpnmail.nl"), _smtp("smtp.kpnmail.nl"),
       mx=["*.kpnmail.nl"], countries=["NL"]),
    # XS4ALL mailboxes moved to KPN's mail platform.
    _p("xs4all", "XS4ALL", ["xs4all.nl"],
       _imap("imap.kpnmail.nl"), _smtp("smtp.kpnmail.nl"),
       mx=["*.xs4all.net", "*.xs4all.nl"], countries=["NL"]),
    _p("ziggo", "Ziggo", ["ziggo.nl", "home.nl", "casema.nl", "chello.nl", "quicknet.nl",
                          "hahah.nl", "multiweb.nl"],
       _imap("imap.ziggo.nl"), _smtp("smtp.ziggo.nl", 587, "starttls"),
       mx=["*.ziggo.nl"], countries=["NL"]),
    _p("transip", "TransIP", [],
       _imap("imap.transip.email"), _smtp("smtp.transip.email"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.transip.email", "*.transip.nl"], countries=["NL"]),
    _p("hostnet", "Hostnet", [],
       _imap("imap.hostnet.nl"), _smtp("smtp.hostnet.nl"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.hostnet.nl"], countries=["NL"]),
    _p("vimexx", "Vimexx", [],
       _imap("imap.vimexx.nl"), _smtp("smtp.vimexx.nl"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.vimexx.nl"], countries=["NL"]),
    # Belgium
    _p("telenet", "Telenet", ["telenet.be"],
       _imap("imap.telenet.be"), _smtp("smtp.telenet.be", 587, "starttls"),
       mx=["*.telenet.be"], countries=["BE"]),
    _p("proximus", "Proximus (Skynet)", ["proximus.be", "skynet.be", "belgacom.net"],
       _imap("imap.proximus.be"), _smtp("relay.proximus.be", 587, "starttls"),
       hints=[SEPARATE_PASSWORD], mx=["*.proximus.be", "*.skynet.be"], countries=["BE"]),
    _p("combell", "Combell", [],
       _imap("imap.mailprotect.be"), _smtp("smtp-auth.mailprotect.be"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.mailprotect.be"], countries=["BE"]),
    _p("one_com", "one.com", [],
       _imap("imap.one.com"), _smtp("send.one.com"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.one.com"], countries=["DK", "BE", "NL"]),
    # Germany
    _p("gmx", "GMX", ["gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.eu", "gmx.info", "gmx.org"],
       _imap("imap.gmx.net"), _smtp("mail.gmx.net"),
       hints=[ENABLE_IMAP, APP_PASSWORD_WITH_2FA], auth=["password", "app_password"],
       mx=["*.gmx.net"], countries=["DE", "AT", "CH"]),
    # GMX's international service (gmx.com) has its own hosts.
    _p("gmx_com", "GMX", ["gmx.com", "gmx.fr", "gmx.co.uk", "gmx.us", "gmx.es"],
       _imap("imap.gmx.com"), _smtp("mail.gmx.com"),
       hints=[ENABLE_IMAP, APP_PASSWORD_WITH_2FA], auth=["password", "app_password"],
       mx=["*.gmx.com"], countries=["FR", "UK", "ES"]),
    _p("webde", "WEB.DE", ["web.de"],
       _imap("imap.web.de"), _smtp("smtp.web.de", 587, "starttls"),
       hints=[ENABLE_IMAP, APP_PASSWORD_WITH_2FA], auth=["password", "app_password"],
       mx=["*.web.de"], countries=["DE"]),
    _p("tonline", "Telekom (T-Online)", ["t-online.de", "magenta.de"],
       _imap("secureimap.t-online.de"), _smtp("securesmtp.t-online.de"),
       hints=[SEPARATE_PASSWORD_TONLINE], mx=["*.t-online.de"], countries=["DE"]),
    _p("freenet", "freenet Mail", ["freenet.de"],
       _imap("mx.freenet.de"), _smtp("mx.freenet.de", 587, "starttls"),
       hints=[ENABLE_IMAP], mx=["mx.freenet.de", "*.mx.freenet.de"], countries=["DE"]),
    _p("posteo", "Posteo", ["posteo.de", "posteo.net", "posteo.at", "posteo.ch", "posteo.eu",
                            "posteo.org", "posteo.be", "posteo.nl", "posteo.uk", "posteo.it",
                            "posteo.fr", "posteo.dk", "posteo.se", "posteo.no", "posteo.fi"],
       _imap("posteo.de"), _smtp("posteo.de"), mx=["*.posteo.de"], countries=["DE"]),
    _p("mailbox_org", "mailbox.org", ["mailbox.org"],
       _imap("imap.mailbox.org"), _smtp("smtp.mailbox.org"),
       mx=["*.mailbox.org"], countries=["DE"]),
    _p("strato", "STRATO", [],
       _imap("imap.strato.de"), _smtp("smtp.strato.de"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["smtpin.rzone.de", "*.rzone.de"], countries=["DE"]),
    _p("ionos", "IONOS (1&1)", ["email.de", "1und1.de"],
       _imap("imap.ionos.de"), _smtp("smtp.ionos.de"),
       hints=[HOSTING_MAILBOX_PASSWORD],
       mx=["*.kundenserver.de", "*.ionos.de", "*.ionos.com", "*.ionos.co.uk", "*.ionos.fr",
           "*.ionos.it", "*.ionos.es", "*.1and1.com", "*.1and1.co.uk", "*.1and1.fr",
           "*.1and1.es", "*.ionos.at"],
       countries=["DE", "AT", "UK", "FR", "IT"]),
    _p("hetzner", "Hetzner", [],
       _imap("mail.your-server.de"), _smtp("mail.your-server.de"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.your-server.de"], countries=["DE"]),
    _p("allinkl", "ALL-INKL.COM", [],
       None, None, hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.kasserver.com"], countries=["DE"]),
    # Austria
    _p("a1", "A1 Telekom Austria", ["a1.net", "aon.at"],
       _imap("securemail.a1.net"), _smtp("securemail.a1.net", 587, "starttls"),
       mx=["*.a1.net", "*.aon.at"], countries=["AT"]),
    _p("world4you", "World4You", [],
       _imap("imap.world4you.com"), _smtp("smtp.world4you.com", 587, "starttls"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.world4you.com"], countries=["AT"]),
    # Switzerland
    _p("bluewin", "Swisscom (bluewin)", ["bluewin.ch", "bluemail.ch", "swissonline.ch"],
       _imap("imaps.bluewin.ch"), _smtp("smtpauths.bluewin.ch"),
       mx=["*.bluewin.ch"], countries=["CH"]),
    _p("infomaniak", "Infomaniak", ["ik.me", "etik.com", "ikmail.com"],
       _imap("mail.infomaniak.com"), _smtp("mail.infomaniak.com"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.infomaniak.ch", "*.infomaniak.com"],
       countries=["CH"]),
    _p("hostpoint", "Hostpoint", [],
       _imap("imap.mail.hostpoint.ch"), _smtp("asmtp.mail.hostpoint.ch"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.mail.hostpoint.ch"], countries=["CH"]),
    _p("sunrise", "Sunrise", ["sunrise.ch"],
       _imap("imap.sunrise.ch"), _smtp("smtp.sunrise.ch", 587, "starttls"),
       mx=["*.sunrise.ch"], countries=["CH"]),
    # Italy
    _p("libero", "Libero Mail", ["libero.it", "iol.it", "inwind.it", "blu.it", "giallo.it"],
       _imap("imapmail.libero.it"), _smtp("smtp.libero.it"),
       auth=["password", "app_password"], hints=[APP_PASSWORD_WITH_2FA],
       mx=["*.libero.it"], countries=["IT"]),
    _p("virgilio", "Virgilio / TIM Mail", ["virgilio.it", "tin.it"],
       _imap("in.virgilio.it"), _smtp("out.virgilio.it"),
       mx=["*.virgilio.it", "*.tim.it", "*.alice.it"], countries=["IT"]),
    _p("aruba", "Aruba", [],
       _imap("imaps.aruba.it"), _smtp("smtps.aruba.it"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.aruba.it"], countries=["IT"]),
    _p("register_it", "Register.it", [],
       _imap("imap.register.it"), _smtp("authsmtp.register.it"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.register.it"], countries=["IT"]),
    _p("fastweb", "Fastweb", ["fastwebnet.it"],
       _imap("imap.fastwebnet.it"), _smtp("smtp.fastwebnet.it", 587, "starttls"),
       mx=["*.fastwebnet.it"], countries=["IT"]),
    # France
    _p("orange", "Orange", ["orange.fr", "wanadoo.fr"],
       _imap("imap.orange.fr"), _smtp("smtp.orange.fr"),
       mx=["*.orange.fr"], countries=["FR"]),
    _p("free", "Free", ["free.fr"],
       _imap("imap.free.fr", username=EMAIL_LOCALPART),
       _smtp("smtp.free.fr", username=EMAIL_LOCALPART),
       hints=[FREE_ENABLE], mx=["*.free.fr"], countries=["FR"]),
    _p("sfr", "SFR", ["sfr.fr", "neuf.fr", "cegetel.net", "club-internet.fr"],
       _imap("imap.sfr.fr"), _smtp("smtp.sfr.fr"),
       mx=["*.sfr.fr"], countries=["FR"]),
    _p("laposte", "La Poste Mail", ["laposte.net"],
       _imap("imap.laposte.net"), _smtp("smtp.laposte.net"),
       hints=[SUBSCRIPTION_REQUIRED], mx=["*.laposte.net"], countries=["FR"]),
    _p("ovh", "OVHcloud", [],
       _imap("ssl0.ovh.net"), _smtp("ssl0.ovh.net"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.mail.ovh.net", "*.ovh.net"], countries=["FR"]),
    _p("gandi", "Gandi", [],
       _imap("mail.gandi.net"), _smtp("mail.gandi.net"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.mail.gandi.net"], countries=["FR"]),
    _p("bouygues", "Bouygues Telecom", ["bbox.fr"],
       _imap("imap4.bbox.fr"), _smtp("smtp.bbox.fr", 587, "starttls"),
       mx=["*.bbox.fr"], countries=["FR"]),
    # United Kingdom
    _p("bt", "BT Mail", ["btinternet.com", "btopenworld.com", "talk21.com"],
       _imap("mail.btinternet.com"), _smtp("mail.btinternet.com"),
       mx=["*.btinternet.com"], countries=["UK"]),
    _p("sky", "Sky Yahoo Mail", ["sky.com"],
       _imap("imap.tools.sky.com"), _smtp("smtp.tools.sky.com"),
       auth=["app_password"], hints=[APP_PASSWORD], countries=["UK"]),
    _p("virginmedia", "Virgin Media Mail", ["virginmedia.com"],
       _imap("imap.virginmedia.com"), _smtp("smtp.virginmedia.com"),
       mx=["*.virginmedia.com"], countries=["UK"]),
    _p("talktalk", "TalkTalk", ["talktalk.net", "tiscali.co.uk"],
       _imap("mail.talktalk.net"), _smtp("smtp.talktalk.net"),
       mx=["*.talktalk.net"], countries=["UK"]),
    _p("fasthosts", "Fasthosts", [],
       _imap("imap.livemail.co.uk"), _smtp("smtp.livemail.co.uk"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.livemail.co.uk"], countries=["UK"]),
    # Nordics
    _p("telia", "Telia", ["telia.com", "telia.se", "passagen.se"],
       _imap("mailin.telia.com"), _smtp("mailout.telia.com"),
       mx=["*.telia.com"], countries=["SE", "FI"]),
    _p("telenor", "Telenor", ["online.no", "frisurf.no", "telenor.no"],
       _imap("imap.online.no"), _smtp("smtp.online.no"),
       mx=["*.online.no"], countries=["NO"]),
    _p("loopia", "Loopia", [],
       _imap("mailcluster.loopia.se"), _smtp("mailcluster.loopia.se", 587, "starttls"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.loopia.se"], countries=["SE", "NO"]),
    _p("simply", "Simply.com", [],
       _imap("imap.simply.com"), _smtp("smtp.simply.com", 587, "starttls"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.simply.com"], countries=["DK"]),
    _p("domeneshop", "Domeneshop", [],
       _imap("imap.domeneshop.no"), _smtp("smtp.domeneshop.no", 587, "starttls"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.domeneshop.no"], countries=["NO"]),
    _p("elisa", "Elisa", ["elisanet.fi", "kolumbus.fi"],
       _imap("imap.elisa.fi"), _smtp("smtp.elisa.fi", 587, "starttls"),
       mx=["*.elisa.fi"], countries=["FI"]),
    # Other European hosting with many SME customers
    _p("active24", "Active24", [],
       _imap("imap.active24.com"), _smtp("smtp.active24.com"),
       hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.active24.com"], countries=["CZ", "NL"]),
    _p("netcup", "netcup", [],
       None, None, hints=[HOSTING_MAILBOX_PASSWORD], mx=["*.netcup.net"], countries=["DE"]),
)

_BY_ID: dict[str, Provider] = {p.id: p for p in _CATALOG}
_BY_DOMAIN: dict[str, Provider] = {d: p for p in _CATALOG for d in p.domains}
_EXACT_MX: dict[str, Provider] = {
    m: p for p in _CATALOG for m in p.mx_patterns if not m.startswith("*.")
}
# Longest suffix first, so "*.mail.gandi.net" wins over a shorter pattern of another provider.
_SUFFIX_MX: tuple[tuple[str, Provider], ...] = tuple(
    sorted(
        ((m[1:], p) for p in _CATALOG for m in p.mx_patterns if m.startswith("*.")),
        key=lambda item: -len(item[0]),
    )
)

if len(_BY_ID) != len(_CATALOG):  # pragma: no cover - guards hand edits
    raise RuntimeError("duplicate provider id in the catalog")


def all() -> tuple[Provider, ...]:
    """Every provider in the catalog."""
    return _CATALOG


def get(provider_id: str) -> Provider:
    """The provider with that id; :class:`KeyError` if unknown."""
    return _BY_ID[provider_id]


def find_by_domain(domain: str) -> Provider | None:
    """The provider whose own address domain this is (``gmail.com`` → Gmail), or ``None``.

    Accepts Unicode or punycode, any case, with or without a trailing dot.
    """
    return _BY_DOMAIN.get(_ascii(domain))


def suggest_domain(domain: str) -> str | None:
    """The catalogued address domain ``domain`` is probably a typo of (``gmial.com``,
    ``hotmial.com``, ``gmail.con`` → ``gmail.com``), or ``None``: one edit away (a letter
    added, dropped, changed or two swapped), two for long names. A catalogued domain is no typo."""
    typed = _ascii(domain)
    if not typed or typed in _BY_DOMAIN:
        return None
    allowed = 1 if len(typed) < 12 else 2
    best: tuple[int, str] | None = None
    for known in _BY_DOMAIN:  # catalog order: the big providers first, so they win a tie
        if abs(len(known) - len(typed)) > allowed:
            continue
        distance = _edit_distance(typed, known, cap=allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, known)
    return best[1] if best else None


def _edit_distance(a: str, b: str, *, cap: int) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps), stopping above ``cap``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > cap:
            return cap + 1
        previous2, previous = previous, current
    return previous[-1]


def find_by_mx(mx_host: str) -> Provider | None:
    """The provider (or hosting company) whose mail exchanger this is, or ``None``."""
    host = _ascii(mx_host)
    exact = _EXACT_MX.get(host)
    if exact is not None:
        return exact
    for suffix, provider in _SUFFIX_MX:
        if host.endswith(suffix):
            return provider
    return None


def _ascii(name: str) -> str:
    name = _norm(name)
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name
