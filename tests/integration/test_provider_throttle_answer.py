"""A provider's throttling reaches the API caller with its wait: Gmail answers ``429`` with
``Retry-After`` while mailport fetches a synced message's bytes on demand, and the problem+json
answer carries ``retry_after`` (seconds, rounded up) and the ``Retry-After`` header."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_inbox_helpers import message, seed
from fastapi.testclient import TestClient
from test_gmail_send import connect_gmail, gmail_settings

from dbfixtures import make_runtime
from mailport.api.app import create_app
from mailport.runtime import Runtime

pytestmark = [pytest.mark.lab]


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, gmail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox"))
    yield rt
    rt.close()


async def test_gmail_429_on_a_body_fetch_answers_502_with_its_retry_after(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    now = datetime.now(UTC)
    seed(oauth_lab, gmail_lab.user, [message(1, when=now, to=gmail_lab.user)], when=now)
    tenant, account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    assert (await runtime.inbox.sync_account(tenant, account)).added == 1
    [synced] = runtime.inbox.list_messages(tenant, account_id=account)
    key = runtime.tenants.create_key(tenant_id=tenant)

    gmail_lab.fail_next(429, "rateLimitExceeded", "Too many concurrent requests for user", retry_after="7",
                        methods={"gmail.users.messages.get"})
    with TestClient(create_app(runtime)) as http:
        auth = {"Authorization": f"Bearer {key}"}
        throttled = http.get(f"/v1/inbox/messages/{synced.id}/raw", headers=auth)
        assert throttled.status_code == 502, throttled.text
        assert throttled.headers["content-type"] == "application/problem+json"
        problem = throttled.json()
        assert problem["code"] == "api.rate_limited" and problem["retry_after"] == 7, problem
        assert throttled.headers["Retry-After"] == "7"

        # Once Google lets us, the same request answers with the message.
        fetched = http.get(f"/v1/inbox/messages/{synced.id}/raw", headers=auth)
        assert fetched.status_code == 200 and b"Vraag 0001" in fetched.content
        assert "Retry-After" not in fetched.headers
