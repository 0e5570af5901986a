"""The web app: customers, invoices and their delivery status; the webhook receiver."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from invoicing.config import Config
from invoicing.integration import Mailport, NoMailbox
from invoicing.pdf import render_invoice
from invoicing.store import Store
from mailport.client.webhooks import parse_event
from mailport.errors import AuthError, MailportError, ValidationError

log = logging.getLogger("invoicing")
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(config: Config) -> FastAPI:
    store = Store(config.db_path)
    state: dict[str, str | None] = {"notice": None}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        mailport = Mailport(config, store)
        app.state.mailport = mailport
        state["notice"] = mailport.ensure_webhook()
        try:
            mailport.push_contacts(store.customers())
        except MailportError as exc:
            log.warning("contacts not pushed: %s", exc)
        try:
            yield
        finally:
            mailport.close()

    app = FastAPI(title="Example invoicing", lifespan=lifespan)

    def mp(request: Request) -> Mailport:
        mailport: Mailport = request.app.state.mailport
        return mailport

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, error: str | None = None) -> Response:
        customers = {c.id: c for c in store.customers()}
        return TEMPLATES.TemplateResponse(request, "index.html", {
            "company": config.company, "customers": list(customers.values()), "by_id": customers,
            "invoices": store.invoices(), "notice": state["notice"], "error": error,
        })

    @app.post("/customers")
    def add_customer(request: Request, name: Annotated[str, Form(min_length=1, max_length=200)],
                     email: Annotated[str, Form(min_length=3, max_length=320)]) -> Response:
        customer = store.add_customer(name=name.strip(), email=email.strip())
        mp(request).push_contacts([customer])  # mailport now links this customer's mail to them
        return RedirectResponse("/", status_code=303)

    @app.post("/invoices")
    def add_invoice(customer_id: Annotated[int, Form()],
                    description: Annotated[str, Form(min_length=1, max_length=200)],
                    amount: Annotated[str, Form(pattern=r"^\d{1,9}([.,]\d{1,2})?$")]) -> Response:
        whole, _, cents = amount.replace(",", ".").partition(".")
        store.add_invoice(customer_id=customer_id, description=description.strip(),
                          amount_cents=int(whole) * 100 + int((cents + "00")[:2]))
        return RedirectResponse("/", status_code=303)

    @app.get("/invoices/{invoice_id}/pdf")
    def invoice_pdf(invoice_id: int) -> Response:
        invoice = store.invoice(invoice_id)
        pdf = render_invoice(invoice, store.customer(invoice.customer_id), seller=config.company)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="invoice-{invoice.number}.pdf"'})

    @app.post("/invoices/{invoice_id}/send")
    def send_invoice(request: Request, invoice_id: int) -> Response:
        try:
            mp(request).send_invoice(store.invoice(invoice_id))
        except NoMailbox:
            return RedirectResponse("/?error=no-mailbox", status_code=303)
        return RedirectResponse("/", status_code=303)

    @app.post("/refresh")
    def refresh(request: Request) -> Response:
        mp(request).refresh(poll=state["notice"] is not None)
        return RedirectResponse("/", status_code=303)

    @app.post("/settings/email")
    def email_settings(request: Request) -> Response:
        """The “E-mail settings” button: mailport's own page, signed in as our user."""
        return RedirectResponse(mp(request).settings_link(), status_code=303)

    @app.post("/webhooks/mailport")
    async def webhook(request: Request) -> Response:
        body = await request.body()  # verify the exact bytes first, parse after
        try:
            event = parse_event(body=body, headers=request.headers, secrets=mp(request).webhook_secrets())
        except AuthError as exc:
            log.warning("refused a webhook delivery: %s", exc.code)
            return Response(status_code=401)
        except ValidationError as exc:
            log.warning("a signed webhook body we cannot read: %s", exc)
            return Response(status_code=400)
        mp(request).apply_event(event)
        return Response(status_code=204)

    return app
