"""The payment reminder letter (fpdf2): which invoice, how much, when it was due, how to pay."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from vrm_dashboard.rendering.invoice_document import Branding
from vrm_dashboard.rendering.invoice_pdf import _latin, _rgb, amount_text


@dataclass(frozen=True)
class Reminder:
    branding: Branding
    customer: str
    customer_address: tuple[str, ...]
    invoice_number: str
    issue_date: date
    due_date: date
    total_minor: int
    currency: str
    today: date

    @property
    def days_overdue(self) -> int:
        return (self.today - self.due_date).days

    @property
    def title(self) -> str:
        return "Payment reminder" if self.days_overdue > 0 else "Upcoming payment"


def render_reminder(reminder: Reminder) -> bytes:
    brand = reminder.branding
    pdf = FPDF(format="A4")
    pdf.set_title(f"{reminder.title} {reminder.invoice_number}")
    pdf.set_author(_latin(brand.company_name))
    pdf.add_page()
    pdf.set_text_color(*_rgb(brand.colour))
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin(brand.company_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", size=9)
    for line in (*brand.address_lines, brand.contact_email):
        pdf.cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", size=10)
    for line in (reminder.customer, *reminder.customer_address):
        pdf.cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, reminder.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, f"Date: {reminder.today.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if reminder.days_overdue > 0:
        opening = (f"Our records show that invoice {reminder.invoice_number} is {reminder.days_overdue} "
                   f"day{'s' if reminder.days_overdue != 1 else ''} past its due date. If you have already paid, "
                   "please accept our thanks and disregard this letter.")
    else:
        opening = (f"This is a friendly note that invoice {reminder.invoice_number} falls due on "
                   f"{reminder.due_date.isoformat()}.")
    pdf.multi_cell(0, 5, _latin(opening), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in (("Invoice Number", reminder.invoice_number), ("Invoice Date", reminder.issue_date.isoformat()),
                         ("Due Date", reminder.due_date.isoformat()),
                         ("Amount Due", amount_text(reminder.total_minor, reminder.currency))):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 7, label)
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 7, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(0, 5, _latin(f"Please quote {reminder.invoice_number} with your payment. "
                                f"{brand.terms}".strip()), new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()
