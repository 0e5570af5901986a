from pathlib import Path

import pytest

from mailport.errors import ConfigurationError
from mailport.settings import Settings, load_settings


def test_production_refuses_missing_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(env="production", data_dir=tmp_path)
    assert "MAILPORT_SECRET_KEY" in str(info.value) and "MAILPORT_ADMIN_KEY" in str(info.value)
    assert not (tmp_path / "secret.key").exists()


def test_production_accepts_given_keys(tmp_path: Path) -> None:
    s = load_settings(env="production", data_dir=tmp_path, secret_key="k1:" + "B" * 43,
                      admin_key="mpa_Q3v9xK2pL7mN4rT8wY1zA6bC5dE0fGhJ", public_url="https://mail.example.com")
    assert s.is_production and s.secret_key.startswith("k1:")


def test_development_generates_keys_once(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    assert first.secret_key == second.secret_key and first.admin_key == second.admin_key
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_env_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILPORT_DNS_NAMESERVERS", "127.0.0.1:5353, 10.0.0.1")
    monkeypatch.setenv("MAILPORT_PORT", "9000")
    s = load_settings(data_dir=tmp_path)
    assert s.dns_nameservers == ["127.0.0.1:5353", "10.0.0.1"]
    assert s.port == 9000
    assert s.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/mailport.db"


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, admin_key="supersecretadminkey")
    assert "supersecretadminkey" not in repr(s)


def test_every_setting_is_documented() -> None:
    undocumented = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []


def test_the_operators_private_networks_are_read_and_a_typo_stops_the_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mailport.core.netpolicy import PrivateNetworks

    assert load_settings(data_dir=tmp_path).private_hosts is False
    monkeypatch.setenv("MAILPORT_ALLOW_PRIVATE_NETWORKS", "10.1.2.0/24, 192.168.5.20")
    s = load_settings(data_dir=tmp_path)
    assert s.private_hosts == PrivateNetworks.parse(["10.1.2.0/24", "192.168.5.20/32"])
    # every private host (a lab) wins over the list, also in a copy made with it
    assert s.model_copy(update={"allow_private_hosts": True}).private_hosts is True
    monkeypatch.setenv("MAILPORT_ALLOW_PRIVATE_NETWORKS", "10.1.2.3/24")  # host bits: not a network
    typo = r"MAILPORT_ALLOW_PRIVATE_NETWORKS: '10\.1\.2\.3/24' is not an IP network"
    with pytest.raises(ConfigurationError, match=typo):
        load_settings(data_dir=tmp_path)


def test_a_value_that_does_not_parse_names_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An operator reads one line at start-up (``mailport`` prints ConfigurationError as such), not
    pydantic's traceback."""
    monkeypatch.setenv("MAILPORT_CONNECT_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match=r"^invalid setting — MAILPORT_CONNECT_TIMEOUT: .*valid number"):
        load_settings(data_dir=tmp_path)
