"""The mailbox form: what the page posts, checked into settings, with errors per field.

The page posts flat fields (``smtp_host``, ``smtp_port`` …). :func:`read_form` turns them into
endpoint dicts for :class:`~mailport.services.accounts.AccountService` and an
:class:`~mailport.core.verification.AccountConfig` for a test, collecting every problem under the
field it belongs to so the page can show it beside that field (and not as a stack trace).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from mailport.core import netpolicy
from mailport.core.addresses import parse_address
from mailport.core.verification import AccountConfig, Endpoint
from mailport.errors import HostNotAllowed, ValidationError
from mailport.web.labels import N_

__all__ = ["MailboxForm", "read_form"]

SECURITIES = ("tls", "starttls", "none")
_TEXT_FIELDS = ("email", "display_name", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
                "imap_host", "imap_port", "imap_security", "imap_username", "provider_id", "run_id",
                "discovered")
_PAGE_ORDER = ("email", "display_name", "password", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
               "imap_host", "imap_port", "imap_security", "imap_username")
# What a lookup may fill, and the value each field returns to when a later lookup takes it back.
SERVER_DEFAULTS = {"smtp_host": "", "smtp_port": "", "smtp_security": "tls", "smtp_username": "",
                   "imap_host": "", "imap_port": "", "imap_security": "tls", "imap_username": ""}


@dataclass(slots=True)
class MailboxForm:
    """The posted values (password apart: it is never echoed back into the page)."""

    values: dict[str, str]
    password: str
    use_imap: bool
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def email(self) -> str:
        return self.values.get("email", "")

    def errors_in_page_order(self) -> list[tuple[str, str]]:
        """The errors as the error summary lists them: in the order of their fields on the page
        (checks run in another order — the "connected already" check comes last)."""
        order = {name: n for n, name in enumerate(_PAGE_ORDER)}
        return sorted(self.errors.items(), key=lambda item: order.get(item[0], len(order)))

    def endpoint(self, kind: str) -> dict[str, Any]:
        port = self.values.get(f"{kind}_port", "")
        return {
            "host": self.values.get(f"{kind}_host", "").strip().lower().rstrip("."),
            "port": int(port) if port.isdigit() else 0,
            "security": self.values.get(f"{kind}_security", ""),
            "username": self.values.get(f"{kind}_username", "").strip() or None,
        }

    def config(self) -> AccountConfig:
        email = parse_address(self.email).email
        smtp = Endpoint(**{**self.endpoint("smtp"), "username": self.endpoint("smtp")["username"] or email})
        imap = None
        if self.use_imap:
            imap = Endpoint(**{**self.endpoint("imap"), "username": self.endpoint("imap")["username"] or email})
        return AccountConfig(email=email, smtp=smtp, imap=imap,
                             display_name=self.values.get("display_name", "").strip())

    def discovered(self) -> dict[str, str]:
        """The fields the last lookup filled, with the values it filled them with."""
        try:
            raw = json.loads(self.values.get("discovered") or "{}")
        except ValueError:
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: str(v) for k, v in raw.items() if k in SERVER_DEFAULTS}

    def forget_lookup(self) -> None:
        """Take back what the previous lookup filled in (a field the user changed since stays):
        a new address must never inherit another provider's servers."""
        for name, value in self.discovered().items():
            if self.values.get(name, "") == value:
                self.values[name] = SERVER_DEFAULTS[name]
        self.values["provider_id"] = ""
        self.values["discovered"] = ""

    def remember_lookup(self, names: list[str]) -> None:
        self.values["discovered"] = json.dumps({n: self.values.get(n, "") for n in names}, sort_keys=True)

    def fingerprint(self, key: bytes, password: str) -> str:
        """Identifies exactly these settings and this password: an HMAC under the test runs' key
        (derived from the secret key), so it reveals neither and any process can check it."""
        data = json.dumps([self.email.lower(), self.endpoint("smtp"),
                           self.endpoint("imap") if self.use_imap else None], sort_keys=True)
        return hmac.new(key, data.encode() + b"\0" + password.encode(), hashlib.sha256).hexdigest()


HOST_NOT_ALLOWED = N_("This server is in a local or private network, and this service does not connect there."
                      " Enter the public server name from your provider's help pages.")


def read_form(form: Any, *, need_servers: bool = True, allow_private: netpolicy.AllowPrivate = False) -> MailboxForm:
    """Read and check the posted form; problems are in ``.errors`` (msgids, by field name).

    ``allow_private`` is ``Settings.private_hosts``: unless the operator allows it a server name
    like ``localhost`` or ``10.0.0.5`` is refused here, beside its field, before a test or a save."""
    values = {name: str(form.get(name) or "").strip() for name in _TEXT_FIELDS}
    password = str(form.get("password") or "")
    mailbox = MailboxForm(values=values, password=password, use_imap=form.get("use_imap") == "on")
    errors = mailbox.errors
    try:
        values["email"] = parse_address(values["email"]).email
    except ValidationError:
        errors["email"] = N_("Enter a valid e-mail address, like name@example.com.")
    if len(values["display_name"]) > 200:
        errors["display_name"] = N_("The name is too long.")
    if len(password) > 1024 or any(ch in password for ch in "\r\n\x00"):
        errors["password"] = N_("The password contains characters a mail server cannot accept.")
    if not need_servers:
        return mailbox
    kinds = ["smtp"] + (["imap"] if mailbox.use_imap else [])
    for kind in kinds:
        endpoint = mailbox.endpoint(kind)
        if not endpoint["host"]:
            errors[f"{kind}_host"] = N_("Enter the server name.")
        if not 1 <= endpoint["port"] <= 65535:
            errors[f"{kind}_port"] = N_("Enter a port number between 1 and 65535.")
        if endpoint["security"] not in SECURITIES:
            errors[f"{kind}_security"] = N_("Choose how the connection is secured.")
        if f"{kind}_host" not in errors:
            try:
                netpolicy.check_host(endpoint["host"], allow_private=allow_private)
            except HostNotAllowed:
                errors[f"{kind}_host"] = HOST_NOT_ALLOWED
        if f"{kind}_host" not in errors and f"{kind}_port" not in errors and f"{kind}_security" not in errors:
            try:
                Endpoint(**{**endpoint, "username": endpoint["username"]})
            except ValidationError as exc:
                errors[f"{kind}_host" if exc.code == "request.invalid_host" else f"{kind}_username"] = (
                    N_("This server name is not valid.") if exc.code == "request.invalid_host"
                    else N_("The user name contains a character that is not allowed.")
                )
    return mailbox
