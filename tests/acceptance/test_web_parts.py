"""The web pages' small parts on their own: mail bodies shown as text, the mailbox form's checks,
test runs kept per session, the security-header configuration."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest
from starlette.datastructures import FormData

from mailport.core.verification import Stage, StageResult, StageStatus
from mailport.web.mailbox_form import read_form
from mailport.web.routes_inbox import body_text
from mailport.web.runs import RunRegistry
from mailport.web.security import SecurityHeaders, content_security_policy


def _raw(*, text: str | None = None, html: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", "x"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_plain_text_is_preferred_and_html_is_reduced_to_its_visible_text() -> None:
    assert body_text(_raw(text="Beste klant,\n\nzie bijlage.", html="<p>ignored</p>")) == "Beste klant,\n\nzie bijlage."
    html = ("<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
            "<body><p>Goedemiddag,</p><p>Klopt het bedrag &amp; de btw?</p><img src=https://track.test/p.gif></body></html>")
    shown = body_text(_raw(html=html))
    assert shown == "Goedemiddag,\n\nKlopt het bedrag & de btw?"
    assert "alert" not in shown and "color" not in shown and "<" not in shown


def test_mailbox_form_collects_every_problem_by_field() -> None:
    form = read_form(FormData({"email": "nope", "smtp_host": "", "smtp_port": "0", "smtp_security": "ssl",
                               "use_imap": "on", "imap_host": "bad host", "imap_port": "993",
                               "imap_security": "tls", "password": "a\nb"}))
    assert set(form.errors) == {"email", "smtp_host", "smtp_port", "smtp_security", "imap_host", "password"}
    ok = read_form(FormData({"email": "Info@Bakkerij.TEST", "smtp_host": "SMTP.Bakkerij.test.", "smtp_port": "587",
                             "smtp_security": "starttls", "password": "pw"}))
    assert not ok.errors
    config = ok.config()
    assert config.email == "info@bakkerij.test" and config.smtp.host == "smtp.bakkerij.test"
    assert config.smtp.username == "info@bakkerij.test" and config.imap is None
    # The fingerprint changes with the password and the servers, so a stale test is never recorded.
    key = b"k" * 32
    assert ok.fingerprint(key, "pw") != ok.fingerprint(key, "other")


async def test_runs_are_visible_only_to_their_session() -> None:
    registry = RunRegistry()

    async def work(progress: Any) -> dict[str, Any]:
        progress(StageResult(stage=Stage.SMTP_DNS, status=StageStatus.OK, duration_ms=3))
        await asyncio.sleep(0)
        return {"ok": True, "stages": [{"stage": "smtp.dns", "status": "ok", "duration_ms": 3, "code": None}]}

    run = registry.start(session_id="s1", stages=["smtp.dns", "smtp.tcp"], fingerprint="f", account_id=None,
                         work=work)
    assert registry.get(run.id, session_id="s2") is None
    assert registry.get(run.id, session_id="s1") is run
    assert run.task is not None
    await run.task
    assert run.done and [r["status"] for r in run.stage_rows()] == ["ok", "skipped"]


async def test_a_crashing_run_ends_as_not_completed_not_as_a_hang() -> None:
    registry = RunRegistry()

    async def work(progress: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    run = registry.start(session_id="s", stages=["smtp.dns"], fingerprint="", account_id=None, work=work)
    assert run.task is not None
    await run.task
    assert run.done and run.crashed and run.report is None


def test_frame_ancestors_setting_cannot_inject_directives() -> None:
    with pytest.raises(ValueError):
        SecurityHeaders(app=None, frame_ancestors="https://a.test; script-src *")  # type: ignore[arg-type]
    csp = content_security_policy("https://app.test", ("https://accounts.google.com",))
    assert "frame-ancestors https://app.test" in csp
    assert "form-action 'self' https://accounts.google.com" in csp


@pytest.mark.parametrize("use_imap", [True, False])
def test_the_imap_server_and_port_are_marked_required_when_imap_is_connected_too(use_imap: bool) -> None:
    from mailport.web import labels
    from mailport.web.render import Texts, _env

    form = read_form(FormData({"email": "info@bakkerij.test", "smtp_host": "smtp.bakkerij.test", "smtp_port": "587",
                               "smtp_security": "starttls", "password": "pw",
                               **({"use_imap": "on"} if use_imap else {})}))
    texts = Texts("nl")
    page = _env.get_template("_server_fields.html").render(
        form=form, oob=False, show_advanced=True, labels=labels, sections={"insecure_auth": False},
        _=texts.gettext)
    for name in ("imap_host", "imap_port"):
        tag = page[page.index(f'id="f-{name}" name="{name}"'):]
        tag = tag[:tag.index(">")]
        assert ('aria-required="true"' in tag) is use_imap, tag
    assert 'id="f-smtp_host" name="smtp_host"' in page and page.count('aria-required="true"') == 2 + 2 * use_imap
