"""The example's settings, from the environment (see README.md beside this package)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    mailport_url: str = "http://127.0.0.1:8400"
    # The tenant's API key; without it the app creates a tenant once with the operator key.
    mailport_api_key: str | None = None
    mailport_admin_key_file: Path = Path("var/admin.key")
    public_url: str = "http://127.0.0.1:8500"  # where mailport reaches this app's webhook
    db_path: Path = Path("var/invoicing.db")
    company: str = "Bakkerij Jansen BV"
    user_name: str = "Anna de Vries"
    language: str = "en"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        return cls(
            mailport_url=env.get("MAILPORT_URL", defaults.mailport_url).rstrip("/"),
            mailport_api_key=env.get("MAILPORT_API_KEY") or None,
            mailport_admin_key_file=Path(env.get("MAILPORT_ADMIN_KEY_FILE", str(defaults.mailport_admin_key_file))),
            public_url=env.get("INVOICING_PUBLIC_URL", defaults.public_url).rstrip("/"),
            db_path=Path(env.get("INVOICING_DB", str(defaults.db_path))),
            company=env.get("INVOICING_COMPANY", defaults.company),
            user_name=env.get("INVOICING_USER", defaults.user_name),
            language=env.get("INVOICING_LANGUAGE", defaults.language),
        )
