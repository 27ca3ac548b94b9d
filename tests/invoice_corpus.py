"""A generated evaluation set of vendor invoices: many layouts, five languages, their number
and date formats, with the true values beside each PDF. Used by the parser's tests and by
`python -m bench parse`. Nothing here is tuned to one file: every invoice is drawn at random
from the same pools, and the layouts differ in where each field sits and how it is labelled."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import FPDF
from schwifty import IBAN
from stdnum.eu import vat as eu_vat

LANGUAGES = {
    # language: labels, locale, country, currency, legal forms
    "en": dict(locale="en_GB", country="GB", currency="GBP", forms=("Ltd", "Limited", "LLP"),
               title="INVOICE", number="Invoice No.", issue="Invoice Date", due="Due Date", bill="Bill To",
               desc="Description", qty="Qty", price="Unit Price", amount="Amount", subtotal="Subtotal",
               tax="VAT 20%", total="Total Due", vat="VAT No.", iban="IBAN", rate=Decimal("0.20")),
    "us": dict(locale="en_US", country="US", currency="USD", forms=("Inc.", "LLC", "Corp."),
               title="INVOICE", number="Invoice #", issue="Date", due="Payment Due", bill="Bill To",
               desc="Item", qty="Quantity", price="Rate", amount="Amount", subtotal="Subtotal",
               tax="Sales Tax (8%)", total="Balance Due", vat="EIN", iban=None, rate=Decimal("0.08")),
    "de": dict(locale="de_DE", country="DE", currency="EUR", forms=("GmbH", "AG", "UG", "KG"),
               title="RECHNUNG", number="Rechnungsnummer", issue="Rechnungsdatum", due="Fällig am",
               bill="Rechnungsempfänger", desc="Beschreibung", qty="Menge", price="Einzelpreis", amount="Betrag",
               subtotal="Nettobetrag", tax="MwSt. 19%", total="Gesamtbetrag", vat="USt-IdNr.", iban="IBAN",
               rate=Decimal("0.19")),
    "fr": dict(locale="fr_FR", country="FR", currency="EUR", forms=("SARL", "SAS", "SA"),
               title="FACTURE", number="Facture N°", issue="Date de facture", due="Date d'échéance",
               bill="Facturer à", desc="Désignation", qty="Quantité", price="Prix unitaire", amount="Montant",
               subtotal="Total HT", tax="TVA 20%", total="Total TTC", vat="N° TVA", iban="IBAN",
               rate=Decimal("0.20")),
    "nl": dict(locale="nl_NL", country="NL", currency="EUR", forms=("B.V.", "N.V."),
               title="FACTUUR", number="Factuurnummer", issue="Factuurdatum", due="Vervaldatum", bill="Klant",
               desc="Omschrijving", qty="Aantal", price="Prijs", amount="Bedrag", subtotal="Subtotaal",
               tax="BTW 21%", total="Totaal", vat="BTW-nummer", iban="IBAN", rate=Decimal("0.21")),
    "es": dict(locale="es_ES", country="ES", currency="EUR", forms=("S.L.", "S.A."),
               title="FACTURA", number="Número de factura", issue="Fecha de factura", due="Fecha de vencimiento",
               bill="Cliente", desc="Descripción", qty="Cantidad", price="Precio unitario", amount="Importe",
               subtotal="Base imponible", tax="IVA 21%", total="Total a pagar", vat="NIF", iban="IBAN",
               rate=Decimal("0.21")),
}
_NAMES = ("Northwind", "Bluefield", "Kestrel", "Alder", "Harbor", "Lumen", "Vireo", "Sable", "Quarry", "Marigold",
          "Copperline", "Fjord", "Tidewater", "Orchard", "Granite", "Juniper", "Meridian", "Pioneer", "Saffron")
_TRADES = ("Media", "Analytics", "Consulting", "Logistics", "Studios", "Digital", "Partners", "Supplies", "Labs")
_ITEMS = ("Sponsored post", "Consulting hours", "Banner campaign", "Affiliate commission", "Video production",
          "Translation services", "Hosting (monthly)", "Photography", "Newsletter placement", "Design work",
          "Licence fee", "Support retainer")
_CUSTOMERS = ("VRM Example Corp", "Acme Retail Group", "Globex Trading")
LAYOUTS = ("classic", "header_row", "letter", "compact")


@dataclass
class SampleInvoice:
    name: str
    truth: dict
    pdf: bytes
    language: str
    layout: str
    lines: list[dict] = field(default_factory=list)


def _vat_id(rng: random.Random, country: str) -> str | None:
    if country == "US":
        return f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"
    prefix = {"GB": "GB"}.get(country, country)
    digits = {"DE": 9, "FR": 11, "NL": 0, "ES": 0, "GB": 9}[country]
    while True:
        if country == "NL":
            body = f"{rng.randint(10**8, 10**9 - 1)}B{rng.randint(1, 99):02d}"
        elif country == "ES":
            body = f"B{rng.randint(10**7, 10**8 - 1)}"
        else:
            body = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
        if eu_vat.is_valid(prefix + body) or (country == "GB" and False):
            return prefix + body


def _money(value: Decimal, language: str) -> str:
    return format_decimal(value, format="#,##0.00", locale=LANGUAGES[language]["locale"])


def _date(value: date, language: str, rng: random.Random) -> str:
    locale = LANGUAGES[language]["locale"]
    style = rng.choice(("numeric", "long", "iso" if language != "us" else "numeric"))
    if style == "long":
        return format_date(value, "long", locale=locale)
    if style == "iso":
        return value.isoformat()
    if language == "us":
        return value.strftime("%m/%d/%Y")
    return value.strftime({"de": "%d.%m.%Y", "nl": "%d-%m-%Y"}.get(language, "%d/%m/%Y"))


def _latin(text: str) -> str:
    # The PDF core fonts are Latin-1: print CLDR's narrow no-break space as a space.
    return text.replace("\u202f", " ").replace("\u00a0", " ").encode("latin-1", "replace").decode("latin-1")


def make_invoice(seed: int, language: str | None = None, layout: str | None = None) -> SampleInvoice:
    rng = random.Random(seed)
    language = language or rng.choice(list(LANGUAGES))
    layout = layout or rng.choice(LAYOUTS)
    spec = LANGUAGES[language]
    vendor = f"{rng.choice(_NAMES)} {rng.choice(_TRADES)} {rng.choice(spec['forms'])}"
    country = spec["country"]
    vat = _vat_id(rng, country) if country != "GB" else None
    iban = str(IBAN.generate(country, bank_code=str(rng.randint(10**7, 10**8 - 1)),
                             account_code=str(rng.randint(10**9, 10**10 - 1))).compact) if country in ("DE",) else None
    number = rng.choice(("INV-{y}-{n:04d}", "{y}{n:05d}", "F{y}/{n:03d}", "R-{n:06d}", "{n}")).format(
        y=2026, n=rng.randint(1, 9999))
    issued = date(2026, 1, 1) + timedelta(days=rng.randint(0, 320))
    due = issued + timedelta(days=rng.choice((14, 30, 45, 60)))
    lines = []
    for _ in range(rng.randint(1, 6)):
        qty = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 12, 40)))
        price = Decimal(rng.randint(500, 250000)) / 100
        lines.append(dict(description=rng.choice(_ITEMS), quantity=qty, unit_price=price, amount=qty * price))
    subtotal = sum((line["amount"] for line in lines), Decimal(0))
    tax = (subtotal * spec["rate"]).quantize(Decimal("0.01"))
    total = subtotal + tax
    currency = spec["currency"]
    pdf = FPDF()
    pdf.add_page()
    pdf.set_auto_page_break(True, 15)
    money = lambda v: _money(v, language)  # noqa: E731
    cur = "USD " if language == "us" and rng.random() < 0.5 else ("$" if language == "us" else f"{currency} ")

    def text(x: float, y: float, value: str, size: int = 10, bold: bool = False, align: str = "L", w: float = 0) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.set_xy(x, y)
        pdf.cell(w or pdf.get_string_width(_latin(value)) + 2, 6, _latin(value), align=align)

    address = f"{rng.randint(1, 200)} {rng.choice(('High Street', 'Hauptstraße', 'Rue de la Paix', 'Keizersgracht', 'Calle Mayor'))}"
    customer = rng.choice(_CUSTOMERS)
    meta = [(spec["number"], number), (spec["issue"], _date(issued, language, rng)), (spec["due"], _date(due, language, rng))]
    if layout == "letter":
        text(15, 12, f"{vendor} · {address}", 7)
        text(15, 30, customer, 11)
        text(15, 36, "1 Market Square, London", 10)
        for i, (label, value) in enumerate(meta):
            text(120, 30 + i * 6, f"{label}: {value}", 10)
        text(15, 60, spec["title"], 16, bold=True)
        y = 72
    else:
        text(15, 12, vendor, 15, bold=True)
        text(15, 19, address, 9)
        text(150, 12, spec["title"], 18, bold=True)
        text(15, 34, spec["bill"], 9, bold=True)
        text(15, 40, customer, 10)
        if layout == "header_row":
            for i, (label, value) in enumerate(meta):
                text(15 + i * 60, 58, label, 9, bold=True)
                text(15 + i * 60, 64, value, 10)
        else:
            for i, (label, value) in enumerate(meta):
                if layout == "compact":
                    text(115, 34 + i * 6, f"{label} {value}", 9)
                else:
                    text(115, 34 + i * 6, f"{label}:", 9, bold=True)
                    text(160, 34 + i * 6, value, 10)
        y = 78
    columns = ((15, 85, spec["desc"], "L"), (100, 20, spec["qty"], "R"), (122, 33, spec["price"], "R"),
               (157, 38, spec["amount"], "R"))
    for x, w, title, align in columns:
        text(x, y, title, 9, bold=True, align=align, w=w)
    y += 8
    for line in lines:
        values = (line["description"], format_decimal(line["quantity"], locale=spec["locale"]),
                  money(line["unit_price"]), money(line["amount"]))
        for (x, w, _title, align), value in zip(columns, values):
            text(x, y, value, 10, align=align, w=w)
        y += 7
    y += 6
    for label, value, bold in ((spec["subtotal"], subtotal, False), (spec["tax"], tax, False), (spec["total"], total, True)):
        text(110, y, label, 10, bold=bold, w=45)
        text(157, y, f"{cur}{money(value)}", 10, bold=bold, align="R", w=38)
        y += 7
    footer = []
    if vat:
        footer.append(f"{spec['vat']}: {vat}")
    if iban:
        footer.append(f"{spec['iban']}: {' '.join(iban[i:i + 4] for i in range(0, len(iban), 4))}")
    text(15, 270, "   ".join(footer) or vendor, 8)
    truth = dict(invoice_number=number, issue_date=issued.isoformat(), due_date=due.isoformat(),
                 vendor_name=vendor, vendor_tax_id=vat.replace("-", "") if vat and country == "US" else vat,
                 iban=iban, currency=currency, subtotal=f"{subtotal:.2f}", tax_total=f"{tax:.2f}",
                 total=f"{total:.2f}")
    if country == "US" and vat:
        truth["vendor_tax_id"] = vat
    return SampleInvoice(f"{seed:04d}-{language}-{layout}", truth, bytes(pdf.output()), language, layout,
                         [{k: str(v) for k, v in line.items()} for line in lines])


def corpus(count: int = 60, first_seed: int = 1) -> list[SampleInvoice]:
    """`count` invoices covering every language and layout in turn."""
    combos = [(lang, lay) for lang in LANGUAGES for lay in LAYOUTS]
    return [make_invoice(first_seed + i, *combos[i % len(combos)]) for i in range(count)]


def scanned(pdf: bytes, dpi: int = 200, pages: int | None = None) -> bytes:
    """`pdf` as a scan would arrive: each page (or the first page `pages` times) rendered to a
    grey image at `dpi` and put in a PDF of images alone, with no text layer."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = [document[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(document))]
    finally:
        document.close()
    if pages is not None:
        images = [images[0]] * pages
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()
