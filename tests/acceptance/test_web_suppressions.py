"""The Outbox page shows the suppression list in the user's language and removes an address
("remove from list", CSRF-protected), through HTTP."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app


def test_outbox_page_lists_suppressed_addresses_and_removes_one(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime), raise_server_exceptions=False, base_url="http://127.0.0.1:8400") as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        assert c.post("/v1/suppressions", json={"address": "oud@klant.example"}).status_code == 201
        assert c.post("/v1/suppressions", json={"address": "ook@klant.example"}).status_code == 201
        link = c.post("/v1/ui-sessions", json={"user_name": "Anna", "language": "nl"}).json()["url"]
        assert c.get(link.removeprefix("http://127.0.0.1:8400"), follow_redirects=False).status_code == 303

        page = c.get("/ui/outbox").text
        assert "Adressen die geen documenten meer ontvangen" in page
        assert "oud@klant.example" in page and "Met de hand op de lijst gezet" in page
        assert page.count("Van de lijst halen") == 2
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None

        refused = c.post("/ui/outbox/suppressions/remove", data={"address": "oud@klant.example", "csrf": "x"},
                         follow_redirects=False)
        assert refused.status_code in (401, 403)
        removed = c.post("/ui/outbox/suppressions/remove",
                         data={"address": "oud@klant.example", "csrf": html.unescape(token.group(1))},
                         follow_redirects=False)
        assert removed.status_code == 303
        after = c.get(removed.headers["location"]).text
        assert "Het adres is van de lijst gehaald" in after
        assert "oud@klant.example" not in after and "ook@klant.example" in after
        assert [e["address"] for e in c.get("/v1/suppressions").json()] == ["ook@klant.example"]
    runtime.close()
