"""API contract: schemathesis generates requests from the app's own OpenAPI document for every
operation; no request may make the app answer 5xx or answer something its document does not
describe (``response_schema_conformance``).

Runs in-process over ASGI, with DNS pointed at a closed local port (no lookups leave the machine)
and a small number of examples per operation to stay well under two minutes (more with CI=true).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from dbfixtures import make_runtime
from mailport.api.app import create_app
from mailport.runtime import Runtime

pytestmark = pytest.mark.slow

# More in CI (where the machine is not shared with a developer's edit loop): about 3 minutes there.
EXAMPLES_PER_OPERATION = 40 if os.environ.get("CI") == "true" else 12


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runtime(tmp_path: Path, *, features: bool = True) -> Runtime:
    """Every outside endpoint points at a closed local port. With ``features``, OAuth sign-in and
    platform mail are set up; without, the API answers 501 for them (and only for them)."""
    oauth = {f"oauth_{provider}_{key}": value for provider in ("google", "microsoft") for key, value in {
        "client_id": "contract-client", "client_secret": "contract-secret",
        "authorization_url": "http://127.0.0.1:9/authorize", "token_url": "http://127.0.0.1:9/token",
        "jwks_url": "http://127.0.0.1:9/jwks", "issuer": "http://127.0.0.1:9"}.items()}
    optional = {"platform_domain": "platform.test", "platform_bounce_host": "bounces.platform.test",
                "platform_smtp_url": "capture", **oauth} if features else {}
    return make_runtime(
        tmp_path, dns_nameservers=[f"127.0.0.1:{_closed_udp_port()}"], dns_timeout=0.2,
        discovery_probe=False, discovery_deadline=1.0, ispdb_url="http://127.0.0.1:9/",
        connect_timeout=0.5, verify_roundtrip_timeout=1.0,
        # Generated requests call operator routes with a tenant key: failures the throttle would
        # count, turning every later answer into 429 and hiding what the routes do.
        auth_failures_per_address=100_000, auth_failures_per_key=100_000, **optional,
    )


# schemathesis collects one test per operation from a schema it has at import time (its lazy,
# fixture-based loader does not work with this pytest), so the app is built here: a migrated
# SQLite file in a temp dir, about a second.
RUNTIME = _runtime(Path(tempfile.mkdtemp(prefix="mailport-contract-")))
TENANT_KEY = RUNTIME.tenants.create(name="Contract BV").api_key
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(RUNTIME))

BARE = _runtime(Path(tempfile.mkdtemp(prefix="mailport-contract-bare-")), features=False)
BARE_KEY = BARE.tenants.create(name="Bare BV").api_key
bare_schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(BARE))
NOT_SET_UP = {"oauth.not_configured", "config.platform_missing"}


@pytest.fixture(scope="module", autouse=True)
def _close_runtimes() -> Iterator[None]:
    yield
    for runtime in (RUNTIME, BARE):
        runtime.close()
        shutil.rmtree(runtime.settings.data_dir.parent, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail_or_break_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TENANT_KEY}"},
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])


@bare_schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION // 2, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_an_installation_without_optional_features_answers_501_only_for_them(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {BARE_KEY}"})
    if response.status_code >= 500:
        assert response.status_code == 501, response.text
        assert response.json()["code"] in NOT_SET_UP, response.text
    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
