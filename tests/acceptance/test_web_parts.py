"""The web pages' small parts on their own: mail bodies shown as text, the mailbox form's checks,
the security-header configuration (test runs: ``test_web_test_runs.py``)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from starlette.datastructures import FormData

from mailport.web.mailbox_form import read_form
from mailport.web.routes_inbox import body_text
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
