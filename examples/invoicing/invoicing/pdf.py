"""The invoice as a PDF (fpdf2, a maintained pure-Python PDF library)."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from invoicing.store import Customer, Invoice


def _latin1(text: str) -> str:
    # The PDF core fonts speak Latin-1; anything else is shown as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def render_invoice(invoice: Invoice, customer: Customer, *, seller: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(_latin1(seller))
    # The invoice's own date, not "now": the same invoice renders to the same bytes.
    pdf.set_creation_date(datetime.fromisoformat(invoice.created_at))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 12, _latin1(seller), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 8, f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"Date: {invoice.created_at[:10]}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 8, _latin1(f"To: {customer.name} <{customer.email}>"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(140, 8, "Description", border="B")
    pdf.cell(0, 8, "Amount (EUR)", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(140, 8, _latin1(invoice.description))
    pdf.cell(0, 8, invoice.amount, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(140, 8, "Total")
    pdf.cell(0, 8, invoice.amount, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
