"""Mail from an own domain and from the platform, through the platform transport into a real SMTP
server on loopback (aiosmtpd with STARTTLS + AUTH, as the operator's smarthost), verified with
dkimpy against the lab DNS zone — and failing once tampered with."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dkim
import pytest
from domain_fixtures import (
    BOUNCE_HOST,
    DOMAIN,
    PLATFORM,
    dkim_dnsfunc,
    domain_runtime,
    quoted,
    zone,
)

from lab import DnsLab, LabCA, SmtpSink
from mailport.clock import FrozenClock
from mailport.core.returnpath import parse_verp
from mailport.errors import ValidationError
from mailport.runtime import Runtime
from mailport.services.domains import DomainNotSendable


@pytest.fixture
def smarthost(smtp_sink_factory: Callable[..., SmtpSink]) -> SmtpSink:
    return smtp_sink_factory(tls="starttls", auth_required=True, auth_require_tls=True)


@pytest.fixture
def rt(tmp_path: Path, dns_lab: DnsLab, smarthost: SmtpSink, lab_ca: LabCA) -> Iterator[Runtime]:
    url = f"smtp://user%40example.test:password@127.0.0.1:{smarthost.port}"
    runtime = domain_runtime(tmp_path, dns_lab, platform_smtp_url=url, ca_file=str(lab_ca.ca_pem_path))
    yield runtime
    runtime.close()


async def _active_domain(rt: Runtime, dns_lab: DnsLab) -> tuple[str, str]:
    tenant = rt.tenants.create(name="Shop B.V.", display_name="Shop Jansen").tenant.id
    view = await rt.domains.add(tenant, DOMAIN)
    dns_lab.load_zone(zone(view.to_dict()["records"]))
    assert (await rt.domains.check(tenant, view.id)).domain.state == "active"
    return tenant, view.id


async def test_domain_mail_is_signed_by_the_domain_and_verifies(rt: Runtime, dns_lab: DnsLab,
                                                                smarthost: SmtpSink) -> None:
    tenant, _ = await _active_domain(rt, dns_lab)
    sent = await rt.platform.send(tenant, method="domain", from_email="facturen@shop.test",
                                  to=["klant@example.org"], subject="Factuur 2026-001",
                                  text="Beste klant,\n\nIn de bijlage de factuur.\n")
    received = smarthost.wait_for(1)[0]
    assert received.tls and received.auth_user == "user@example.test"
    assert received.mail_from == sent.mail_from == f"bounces+{sent.id}@mp-bounces.{DOMAIN}"
    assert parse_verp(received.mail_from) == sent.id
    assert received.rcpt_tos == ["klant@example.org"]

    msg = received.message()
    assert msg["From"] == "Shop Jansen <facturen@shop.test>"
    signature = msg["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in re.sub(r"\s+", "", str(signature)).split(";") if part)
    assert (tags["d"], tags["a"], tags["c"]) == (DOMAIN, "rsa-sha256", "relaxed/relaxed")
    assert tags["s"].startswith("mp-") and "from:from" in tags["h"].lower()

    dnsfunc = dkim_dnsfunc(dns_lab)
    assert dkim.verify(received.data, dnsfunc=dnsfunc) is True
    tampered = received.data.replace(b"In de bijlage de factuur.", b"Betaal naar NL00 FAKE 0000.")
    assert tampered != received.data and dkim.verify(tampered, dnsfunc=dnsfunc) is False
    forged_from = received.data.replace(b"From: Shop Jansen <facturen@shop.test>",
                                        b"From: Shop Jansen <facturen@shop.test>\r\nFrom: ceo@evil.example")
    assert dkim.verify(forged_from, dnsfunc=dnsfunc) is False  # From is oversigned


async def test_platform_mail_has_display_name_and_confirmed_reply_to(rt: Runtime, dns_lab: DnsLab,
                                                                     smarthost: SmtpSink) -> None:
    tenant = rt.tenants.create(name="Bakkerij Jansen", display_name="Bakkerij Jansen").tenant.id
    record = rt.platform.platform_dkim_record()
    dns_lab.load_zone(f"$ORIGIN {PLATFORM}.\n{record.name}. TXT {quoted(record.strings)}\n")
    rt.platform.configure(tenant, alias="bakkerij-jansen", display_name="Bakkerij Jansen")

    # The reply address is used only once confirmed through the link mailed to it.
    view = await rt.platform.request_reply_to(tenant, "info@bakkerij-jansen.example", lang="nl")
    assert (view.reply_to, view.reply_to_pending) == (None, "info@bakkerij-jansen.example")
    link_mail = smarthost.wait_for(1)[0]
    assert link_mail.rcpt_tos == ["info@bakkerij-jansen.example"]
    body = link_mail.message().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Bevestig" in str(link_mail.message()["Subject"]) and "24 uur" in body
    link = re.search(r"https?://\S+", body).group(0)  # type: ignore[union-attr]
    token = parse_qs(urlsplit(link).query)["token"][0]

    sent = await rt.platform.send(tenant, method="platform", to=["klant@example.org"], subject="Factuur",
                                  text="Zie bijlage.")
    first = smarthost.wait_for(2)[1].message()
    assert first["Reply-To"] is None  # not confirmed yet: no Reply-To at all
    assert rt.platform.confirm_reply_to(token).reply_to == "info@bakkerij-jansen.example"
    with pytest.raises(Exception, match="not valid"):
        rt.platform.confirm_reply_to(token)  # single use

    sent = await rt.platform.send(tenant, method="platform", to=["klant@example.org"], subject="Factuur",
                                  text="Zie bijlage.")
    received = smarthost.wait_for(3)[2]
    msg = message_from_bytes(received.data, policy=default_policy)
    assert msg["From"] == f"Bakkerij Jansen <bakkerij-jansen@{PLATFORM}>"
    assert msg["Reply-To"] == "info@bakkerij-jansen.example"
    assert received.mail_from == f"bounces+{sent.id}@{BOUNCE_HOST}"
    assert dkim.verify(received.data, dnsfunc=dkim_dnsfunc(dns_lab)) is True
    assert "d=platform.test" in re.sub(r"\s+", "", str(msg["DKIM-Signature"]))


async def test_expired_reply_to_link_is_refused(rt: Runtime, dns_lab: DnsLab, smarthost: SmtpSink) -> None:
    tenant = rt.tenants.create(name="X").tenant.id
    await rt.platform.request_reply_to(tenant, "a@x.example")
    body = smarthost.wait_for(1)[0].message().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    token = parse_qs(urlsplit(re.search(r"https?://\S+", body).group(0)).query)["token"][0]  # type: ignore[union-attr]
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(hours=25))
    with pytest.raises(Exception, match="expired"):
        rt.platform.confirm_reply_to(token)
    assert rt.platform.sender(tenant).reply_to is None


async def test_suspended_domain_mail_stops_or_falls_back(rt: Runtime, dns_lab: DnsLab,
                                                         smarthost: SmtpSink) -> None:
    tenant, domain_id = await _active_domain(rt, dns_lab)
    records = rt.domains.get(tenant, domain_id).records
    dns_lab.remove(records[0].name, "TXT")
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=1))
    assert (await rt.domains.check(tenant, domain_id, manual=False)).domain.state == "degraded"
    rt.clock.advance(timedelta(hours=72))
    assert (await rt.domains.check(tenant, domain_id, manual=False)).domain.state == "suspended"

    with pytest.raises(DomainNotSendable) as stopped:
        await rt.platform.send(tenant, method="domain", from_email="facturen@shop.test",
                               to=["klant@example.org"], subject="Factuur", text="x")
    assert stopped.value.code == "domain.not_active" and "suspended" in stopped.value.message
    assert smarthost.messages == []

    rt.domains.set_fallback(tenant, domain_id, "platform")
    record = rt.platform.platform_dkim_record()
    dns_lab.load_zone(f"$ORIGIN {PLATFORM}.\n{record.name}. TXT {quoted(record.strings)}\n")
    sent = await rt.platform.send(tenant, method="domain", from_email="facturen@shop.test",
                                  to=["klant@example.org"], subject="Factuur", text="x")
    assert sent.fell_back and sent.method == "platform"
    received = smarthost.wait_for(1)[0]
    msg = received.message()
    assert str(msg["From"]).endswith(f"@{PLATFORM}>") and msg["Reply-To"] == "Shop Jansen <facturen@shop.test>"
    assert b"d=shop.test" not in received.data  # never signed with the domain whose key is gone
    assert dkim.verify(received.data, dnsfunc=dkim_dnsfunc(dns_lab)) is True


async def test_outbox_seam_accept_then_transmit_stored(rt: Runtime, dns_lab: DnsLab, smarthost: SmtpSink) -> None:
    """How the outbox sends platform/domain mail: plan + build at accept (VERP token = the outbox
    message id), ``transmit_stored`` at send time — which re-checks the domain's state."""
    from mailport.core.message import MessageDraft, build_message

    tenant, domain_id = await _active_domain(rt, dns_lab)
    plan = rt.platform.plan(tenant, method="domain", from_email="facturen@shop.test")
    assert plan.sender_key == domain_id
    assert rt.platform.plan(tenant, method="platform").sender_key == "platform"
    with pytest.raises(ValidationError) as unknown:
        rt.platform.plan(tenant, method="domain", from_email="facturen@elsewhere.test")
    assert (unknown.value.code, unknown.value.field) == ("domain.unknown", "from")
    draft = MessageDraft.create(from_=plan.from_, to=["klant@example.org"], subject="Factuur", text="x")
    built = build_message(draft, message_id_domain=plan.signer.domain, now=rt.clock.now(), make_id=lambda: "m1")
    envelope_from = plan.envelope_from("msg_outbox1")
    await rt.platform.transmit_stored(tenant, sender_key=plan.sender_key, mail_from=envelope_from,
                                      rcpt_to=built.envelope.rcpt_to, raw=built.raw)
    received = smarthost.wait_for(1)[0]
    assert parse_verp(received.mail_from) == "msg_outbox1"
    assert dkim.verify(received.data, dnsfunc=dkim_dnsfunc(dns_lab)) is True

    # Accepted while active, suspended before the worker got to it: refused at send time.
    rt.domains.set_fallback(tenant, domain_id, "platform")
    dns_lab.remove(plan.signer.selector + "._domainkey." + DOMAIN, "TXT")
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=1))
    await rt.domains.check(tenant, domain_id, manual=False)
    rt.clock.advance(timedelta(hours=72))
    assert (await rt.domains.check(tenant, domain_id, manual=False)).domain.state == "suspended"
    with pytest.raises(DomainNotSendable):
        await rt.platform.transmit_stored(tenant, sender_key=plan.sender_key, mail_from=envelope_from,
                                          rcpt_to=built.envelope.rcpt_to, raw=built.raw)
    assert len(smarthost.messages) == 1


async def test_outbox_sends_by_domain_and_platform_methods(rt: Runtime, dns_lab: DnsLab, smarthost: SmtpSink) -> None:
    """``SendRequest(method=…)`` through the real outbox and worker: accepted, sent through the
    platform transport, signed for the domain, VERP naming the outbox message; refused once the
    domain is suspended, or re-addressed from the platform if the tenant chose that."""
    from outbox_helpers import run_worker_until

    from mailport.services.send import SendRequest

    tenant, domain_id = await _active_domain(rt, dns_lab)
    record = rt.platform.platform_dkim_record()
    dns_lab.load_zone(f"$ORIGIN {PLATFORM}.\n{record.name}. TXT {quoted(record.strings)}\n")

    def settled(message_id: str) -> bool:
        return rt.outbox.get(tenant, message_id).state in ("sent", "failed")

    request = SendRequest(method="domain", from_email="facturen@shop.test", to=["klant@example.org"],
                          subject="Factuur 2026-002", text="Zie bijlage.", metadata={"invoice": "2026-002"})
    message = rt.outbox.submit(tenant, request).message
    assert message.account_id == domain_id
    await run_worker_until(rt, lambda: settled(message.id))
    assert rt.outbox.get(tenant, message.id).state == "sent"
    received = smarthost.wait_for(1)[0]
    assert parse_verp(received.mail_from) == message.id and received.mail_from.endswith(f"@mp-bounces.{DOMAIN}")
    assert dkim.verify(received.data, dnsfunc=dkim_dnsfunc(dns_lab)) is True

    rt.platform.configure(tenant, alias="shop", display_name="Shop Jansen")
    platform = rt.outbox.submit(tenant, SendRequest(method="platform", to=["klant@example.org"],
                                                    subject="Herinnering", text="x")).message
    await run_worker_until(rt, lambda: settled(platform.id))
    sent = smarthost.wait_for(2)[1]
    assert sent.message()["From"] == f"Shop Jansen <shop@{PLATFORM}>" and parse_verp(sent.mail_from) == platform.id
    assert dkim.verify(sent.data, dnsfunc=dkim_dnsfunc(dns_lab)) is True
    with pytest.raises(ValidationError, match="confirmed reply address"):
        rt.outbox.submit(tenant, SendRequest(method="platform", to=["k@example.org"], reply_to=["x@evil.example"],
                                             subject="s", text="x"))

    # Suspended: refused at accept ("domain.not_active"), or from the platform if so chosen.
    dns_lab.remove(rt.domains.get(tenant, domain_id).records[0].name, "TXT")
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=1))
    await rt.domains.check(tenant, domain_id, manual=False)
    rt.clock.advance(timedelta(hours=72))
    assert (await rt.domains.check(tenant, domain_id, manual=False)).domain.state == "suspended"
    with pytest.raises(DomainNotSendable):
        rt.outbox.submit(tenant, request)
    rt.domains.set_fallback(tenant, domain_id, "platform")
    fallback = rt.outbox.submit(tenant, request).message
    assert fallback.account_id == "platform"
    await run_worker_until(rt, lambda: settled(fallback.id))
    third = smarthost.wait_for(3)[2].message()
    assert third["From"] == f"Shop Jansen <shop@{PLATFORM}>" and third["Reply-To"] == "Shop Jansen <facturen@shop.test>"
