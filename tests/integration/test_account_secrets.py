"""Secrets at rest, read from the raw SQLite file: never in clear, gone after removal, rotatable."""

from pathlib import Path

import pytest
from sqlalchemy import select

from dbfixtures import make_runtime
from mailport.adapters.secrets import generate_key
from mailport.adapters.storage.tables import Secret
from mailport.errors import SecretError, ValidationError
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput

PASSWORD = "Unmistakable-Pa55word-7f3a91"


def _spec(email: str = "owner@shop.example.com") -> AccountInput:
    return AccountInput(
        email=email, password=PASSWORD,
        smtp={"host": "smtp.example.com", "port": 465, "security": "tls"},
        imap={"host": "imap.example.com", "port": 993, "security": "tls"},
    )


def _raw(runtime: Runtime) -> bytes:
    runtime.db.dispose()  # flush the WAL into the main file before reading it raw
    path = Path(runtime.settings.effective_database_url.removeprefix("sqlite:///"))
    data = path.read_bytes()
    for extra in (path.with_name(path.name + "-wal"),):
        if extra.exists():
            data += extra.read_bytes()
    return data


def _tenant(rt: Runtime) -> str:
    return rt.tenants.create(name="t").tenant.id


def test_password_is_encrypted_at_rest_and_decrypts_for_sending(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    tenant = _tenant(rt)
    account = rt.accounts.create(tenant, _spec())
    assert PASSWORD.encode() not in _raw(rt)
    config, password = rt.accounts.connection(tenant, account.id)
    assert password is not None and password.reveal() == PASSWORD
    assert PASSWORD not in repr(password) and PASSWORD not in f"{password}"
    assert config.smtp.host == "smtp.example.com"


def test_removal_wipes_the_ciphertext_from_the_file(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    tenant = _tenant(rt)
    account = rt.accounts.create(tenant, _spec())
    with rt.db.session() as s:
        token = s.scalar(select(Secret.ciphertext))
    assert token and token.encode() in _raw(rt)
    rt.accounts.remove(tenant, account.id)
    raw = _raw(rt)
    assert token.encode() not in raw and token.split(".")[-1][:40].encode() not in raw
    with rt.db.session() as s:
        assert s.scalar(select(Secret.id)) is None


def test_new_password_replaces_old(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    tenant = _tenant(rt)
    account = rt.accounts.create(tenant, _spec())
    rt.accounts.update(tenant, account.id, {"password": "Second-Secret-Value-99"})
    _, password = rt.accounts.connection(tenant, account.id)
    assert password is not None and password.reveal() == "Second-Secret-Value-99"
    assert rt.accounts.get(tenant, account.id).status == "unverified"


def test_rotation_reencrypts_everything_without_losing_access(tmp_path: Path) -> None:
    old = generate_key("old")
    rt = make_runtime(tmp_path, secret_key=old)
    tenant = _tenant(rt)
    ids = [rt.accounts.create(tenant, _spec(f"user{n}@shop.example.com")).id for n in range(5)]
    rt.close()
    new = generate_key("new")
    rotated = make_runtime(tmp_path, secret_key=f"{new},{old}")
    report = rotated.secrets.rotate(batch=2)
    assert report.rotated == 5 and report.by_key_before == {"old": 5} and report.by_key_after == {"new": 5}
    rotated.close()
    only_new = make_runtime(tmp_path, secret_key=new)
    for account_id in ids:
        _, password = only_new.accounts.connection(tenant, account_id)
        assert password is not None and password.reveal() == PASSWORD
    only_new.close()
    only_old = make_runtime(tmp_path, secret_key=old)
    with pytest.raises(SecretError) as info:
        only_old.accounts.connection(tenant, ids[0])
    assert PASSWORD not in str(info.value)


def test_sender_identity_rule_and_aliases(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    tenant = _tenant(rt)
    account = rt.accounts.create(tenant, _spec())
    assert rt.accounts.check_sender(tenant, account.id, "Owner@Shop.example.com") == "owner@shop.example.com"
    with pytest.raises(ValidationError) as info:
        rt.accounts.check_sender(tenant, account.id, "billing@shop.example.com")
    assert info.value.code == "send.sender_not_allowed"
    code = rt.accounts.request_alias(tenant, account.id, "billing@shop.example.com")
    with pytest.raises(ValidationError):  # added but not confirmed yet
        rt.accounts.check_sender(tenant, account.id, "billing@shop.example.com")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationError) as info:
        rt.accounts.confirm_alias(tenant, account.id, "billing@shop.example.com", wrong)
    assert info.value.code == "alias.code_wrong"
    view = rt.accounts.confirm_alias(tenant, account.id, "billing@shop.example.com", code)
    assert view.to_dict()["aliases"] == [{"email": "billing@shop.example.com", "verified": True}]
    assert rt.accounts.check_sender(tenant, account.id, "billing@shop.example.com") == "billing@shop.example.com"
