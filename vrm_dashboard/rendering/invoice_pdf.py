"""The invoice PDF (fpdf2). Text is placed with fpdf's low-level `text` rather than cells:
ten thousand invoices a run makes layout cost count, and these pages need no line breaking.
Labels are the ones our own parser reads, so a sent invoice parses back to the same fields."""
from __future__ import annotations

import io
from decimal import Decimal

from babel.numbers import format_decimal
from fpdf import FPDF
from text_unidecode import unidecode

from vrm_dashboard.domain.money import exponent
from vrm_dashboard.rendering.invoice_document import InvoiceDocument, Party

LEFT, RIGHT = 15.0, 195.0
META_LABEL_X, META_VALUE_X = 112.0, 152.0
COLUMNS = ((LEFT, "Description", "L"), (128.0, "Qty", "R"), (160.0, "Unit Price", "R"), (RIGHT, "Amount", "R"))
LINES_PER_FIRST_PAGE = 22
LINES_PER_PAGE = 38


def _latin(value: str | None) -> str:
    # The core fonts are Latin-1: other scripts are transliterated rather than dropped.
    value = value or ""
    if value.isascii():
        return value
    value = value.replace("\u202f", " ").replace("\u00a0", " ")
    return "".join(c if ord(c) < 256 else unidecode(c) for c in value)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    try:
        return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)
    except (ValueError, IndexError):
        return 31, 78, 121


def amount_text(minor: int, currency: str) -> str:
    """"EUR 1,234.56": grouped, the currency's own decimals, the code in front."""
    places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return f"{currency} {format_decimal(value, format=pattern, locale='en_US')}"


def quantity_text(quantity: Decimal) -> str:
    normal = quantity.normalize()
    return format(normal if normal == normal.to_integral() else quantity, "f").rstrip("0").rstrip(".") or "0"


BLACK = (0, 0, 0)


class _Page:
    def __init__(self, pdf: FPDF, accent: tuple[int, int, int]):
        self.pdf, self.accent = pdf, accent
        self.font: tuple[str, float] | None = None
        self.colour: tuple[int, int, int] | None = None

    def text(self, x: float, y: float, value: str, size: float = 10, bold: bool = False,
             align: str = "L", colour: tuple[int, int, int] | None = None) -> None:
        pdf = self.pdf
        # Font and colour change only when they differ: most lines share both.
        font, colour = ("B" if bold else "", size), colour or BLACK
        if font != self.font:
            pdf.set_font("Helvetica", *font)
            self.font = font
        if colour != self.colour:
            pdf.set_text_color(*colour)
            self.colour = colour
        value = _latin(value)
        if align == "R":
            x -= pdf.get_string_width(value)
        pdf.text(x, y, value)


def _header(page: _Page, doc: InvoiceDocument) -> float:
    pdf, brand = page.pdf, doc.branding
    x = LEFT
    if brand.logo:
        try:
            pdf.image(io.BytesIO(brand.logo), x=LEFT, y=10, h=14)
            x = LEFT + 40
        except Exception:  # noqa: BLE001 - a broken logo must not stop an invoice
            x = LEFT
    page.text(x, 17, brand.company_name, 15, bold=True, colour=page.accent)
    for i, line in enumerate(brand.address_lines[:2]):
        page.text(x, 22 + i * 4, line, 8)
    page.text(RIGHT, 17, doc.title, 16, bold=True, align="R", colour=page.accent)
    return 36.0


def _party(page: _Page, x: float, y: float, label: str, party: Party, with_email: bool) -> float:
    page.text(x, y, label, 9, bold=True, colour=page.accent)
    y += 5
    page.text(x, y, party.name, 10)
    for line in party.address_lines[:4]:
        y += 4.5
        page.text(x, y, line, 9)
    if party.tax_id:
        y += 4.5
        page.text(x, y, f"VAT No.: {party.tax_id}", 9)
    if with_email and party.email:
        y += 4.5
        page.text(x, y, party.email, 9)
    return y + 7


def _facts(doc: InvoiceDocument) -> list[tuple[str, str]]:
    facts = [("Invoice No.:", doc.number), ("Invoice Date:", doc.issue_date.isoformat())]
    if doc.due_date:
        facts.append(("Due Date:", doc.due_date.isoformat()))
    if doc.corrects_number:
        facts.append(("Credit for:" if doc.is_credit_note else "Replaces:", doc.corrects_number))
    if doc.audience == "vendor":
        if doc.billing_period:
            facts.append(("Period:", doc.billing_period))
        if doc.order_numbers:
            facts.append(("Your order No.:", ", ".join(doc.order_numbers)[:40]))
        if doc.payment_terms_days is not None:
            facts.append(("Agreed terms:", f"{doc.payment_terms_days} days"))
    elif doc.payment_terms_days is not None:
        facts.append(("Payment terms:", f"{doc.payment_terms_days} days net"))
    facts.append(("Status:", doc.payment_status))
    facts.append(("Payment method:", doc.payment_method))
    if doc.transaction_reference:
        facts.append(("Payment ref.:", doc.transaction_reference))
    return facts


def _table_header(page: _Page, y: float) -> float:
    page.pdf.set_fill_color(*page.accent)
    page.pdf.rect(LEFT - 2, y - 4.5, RIGHT - LEFT + 4, 6.5, style="F")
    for x, title, align in COLUMNS:
        page.text(x, y, title, 9, bold=True, align=align, colour=(255, 255, 255))
    return y + 7


def render_invoice(doc: InvoiceDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{doc.title.title()} {doc.number}")
    pdf.set_author(_latin(doc.seller.name))
    pdf.set_creator("VRM Dashboard")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    page = _Page(pdf, _rgb(doc.branding.colour))
    top = _header(page, doc)
    seller_label, buyer_label = ("From", "Bill To")
    left_end = _party(page, LEFT, top, seller_label, doc.seller, with_email=False)
    y = top
    for label, value in _facts(doc):
        page.text(META_LABEL_X, y, label, 9, bold=True)
        page.text(META_VALUE_X, y, value, 9)
        y += 5
    y = max(_party(page, LEFT, left_end, buyer_label, doc.buyer, with_email=True), y + 4)
    y = _table_header(page, y)
    capacity = LINES_PER_FIRST_PAGE
    for n, line in enumerate(doc.lines):
        if n == capacity:
            pdf.add_page()
            y = _table_header(page, 20)
            capacity += LINES_PER_PAGE
        values = (line.description[:60], quantity_text(line.quantity),
                  amount_text(line.unit_price_minor, doc.currency), amount_text(line.amount_minor, doc.currency))
        for (x, _title, align), value in zip(COLUMNS, values):
            page.text(x, y, value, 9, align=align)
        y += 6
    if y > 230:
        pdf.add_page()
        y = 20
    y += 4
    pdf.set_draw_color(*page.accent)
    pdf.line(110, y - 4, RIGHT, y - 4)
    rate = doc.tax_rate_percent
    totals = [("Subtotal", doc.subtotal_minor), (f"VAT {quantity_text(rate)}%", doc.tax_minor),
              ("Total Due" if not doc.is_credit_note else "Total Credit", doc.total_minor)]
    for label, minor in totals:
        bold = label.startswith("Total")
        page.text(112, y, label, 10, bold=bold)
        page.text(RIGHT, y, amount_text(minor, doc.currency), 10, bold=bold, align="R")
        y += 6
    if doc.audience == "vendor" and not doc.is_credit_note:
        page.text(112, y, "We owe you the total above." if doc.payment_status != "Paid"
                  else "Paid: nothing is owed.", 8)
        y += 6
    y += 4
    for note in doc.notes:
        page.text(LEFT, y, note, 9)
        y += 5
    _footer(pdf, page, doc)
    return bytes(pdf.output())


# The terms are the same on every invoice: wrapped once, then placed line by line.
_WRAPPED: dict[tuple[str, float], tuple[str, ...]] = {}


def _wrapped(pdf: FPDF, text: str, width: float) -> tuple[str, ...]:
    key = (text, width)
    if key not in _WRAPPED:
        lines, line = [], ""
        for word in text.split():
            candidate = f"{line} {word}".strip()
            if line and pdf.get_string_width(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
        if len(_WRAPPED) > 32:
            _WRAPPED.clear()
        _WRAPPED[key] = tuple(lines[:8])
    return _WRAPPED[key]


def _footer(pdf: FPDF, page: _Page, doc: InvoiceDocument) -> None:
    brand = doc.branding
    if brand.terms:
        pdf.set_font("Helvetica", "", 7)
        page.font = ("", 7)
        for i, line in enumerate(_wrapped(pdf, _latin(f"Terms and conditions: {brand.terms}"), RIGHT - LEFT)):
            page.text(LEFT, 258 + i * 3.2, line, 7, colour=(80, 80, 80))
    contact = f"Questions about this invoice? {brand.contact_email}" if brand.contact_email else ""
    page.text(LEFT, 287, contact, 7, colour=(80, 80, 80))
