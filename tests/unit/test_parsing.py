"""Reading invoices: number and date formats, e-invoices, and accuracy on the evaluation set."""
import json
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal

import facturx
import pytest
from fpdf import FPDF

from tests.invoice_corpus import corpus, make_invoice
from tests.unit.einvoice_samples import INVOICE
from vrm_dashboard.parsing import parse_document
from vrm_dashboard.parsing.amounts import parse_amount
from vrm_dashboard.parsing.dates import find_date
from vrm_dashboard.parsing.extraction import Extraction
from vrm_dashboard.parsing.layout import fold
from vrm_dashboard.parsing.text_fields import read_fields


@pytest.mark.parametrize("text, amount", [
    ("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("1 234,56", "1234.56"), ("1\u202f234,56", "1234.56"),
    ("1'234.50", "1234.50"), ("1.234.567,89", "1234567.89"), ("1,234", "1234"), ("1.234", "1234"),
    ("0.015", "0.015"), ("12,5", "12.5"), ("-12.00", "-12.00"), ("(12.00)", "-12.00"), ("EUR", None),
])
def test_amounts_in_every_number_format(text, amount):
    assert parse_amount(text) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize("text, expected", [
    ("31.12.2026", date(2026, 12, 31)), ("2026-12-31", date(2026, 12, 31)), ("12/31/2026", date(2026, 12, 31)),
    ("05/06/2026", date(2026, 6, 5)), ("3 March 2026", date(2026, 3, 3)), ("3. März 2026", date(2026, 3, 3)),
    ("12 févr. 2026", date(2026, 2, 12)), ("3 de marzo de 2026", date(2026, 3, 3)), ("14 mei 2026", date(2026, 5, 14)),
    ("Jan 5, 2026", date(2026, 1, 5)), ("no date here", None),
])
def test_dates_in_five_languages(text, expected):
    assert find_date(text) == expected


def test_us_documents_read_numeric_dates_month_first():
    assert find_date("05/06/2026", month_first=True) == date(2026, 5, 6)


def _pdf_with(xml: bytes) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(40, 10, "Invoice FX-2026-0042")
    return facturx.generate_from_binary(bytes(pdf.output()), xml, check_xsd=False)


@pytest.mark.parametrize("build", [
    lambda: _pdf_with(facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False)),
    lambda: facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False),
], ids=["factur-x-pdf", "ubl-xml"])
def test_an_e_invoice_is_read_and_trusted(build):
    result = parse_document(build()).as_json()
    assert result["method"] == "einvoice"
    assert (result["invoice_number"], result["issue_date"], result["due_date"]) == ("FX-2026-0042", "2026-10-15", "2026-11-14")
    assert (result["subtotal"], result["tax_total"], result["total"], result["currency"]) == ("200.00", "38.00", "238.00", "EUR")
    assert result["vendor_name"] == "Kestrel Media GmbH" and result["vendor_tax_id"] == "DE136695976"
    assert result["iban"] == "DE89370400440532013000"
    assert result["lines"] == [{"description": "Sponsored post", "quantity": "2", "unit_price": "100.00", "amount": "200.00"}]
    assert min(result["confidence"].values()) >= 0.99


def test_field_accuracy_on_the_generated_evaluation_set():
    """Every language and layout, seeds apart from those the parser was developed on."""
    fields = ("invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban", "currency",
              "subtotal", "tax_total", "total")
    right, total = Counter(), 0
    for sample in corpus(40, first_seed=5000):
        result = parse_document(sample.pdf).as_json()
        total += 1
        for field in fields:
            right[field] += result[field] == sample.truth[field]
    for field in fields:
        assert right[field] / total >= 0.95, (field, right[field], total)


def test_vrm_parse_json_prints_one_object_with_the_promised_keys(tmp_path):
    path = tmp_path / "facture.pdf"
    sample = make_invoice(77, "fr", "classic")
    path.write_bytes(sample.pdf)
    out = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    for key in ("invoice_number", "issue_date", "due_date", "total", "tax_total", "currency", "vendor_name", "lines"):
        assert key in data
    assert data["total"] == sample.truth["total"] and data["currency"] == "EUR"


# ---- the text reader: labels in six languages, the letterhead, the totals block (issue 20)

def _read_text(text: str) -> dict:
    extraction = Extraction(method="text")
    read_fields([text], extraction)
    return {name: str(field.value) for name, field in extraction.fields.items()}


GERMAN = """
   Muster Software GmbH · Hauptstraße 5 · 10115 Berlin

   Kunden AG                                        RECHNUNG
   Frau Erika Beispiel                              Rechnungsnummer:   RE-2024-0815
   Kundenweg 7                                      Rechnungsdatum:    12.03.2024
   50667 Köln                                       Leistungsdatum:    01.03.2024
                                                    Kundennummer:      K-4711

   Pos   Beschreibung              Menge    Einzelpreis    Gesamtpreis
   1     Beratung                     10        95,00 €       950,00 €
   2     Lizenz                        1       250,00 €       250,00 €

                                    Nettobetrag                1.200,00 €
                                    zzgl. 19 % MwSt.             228,00 €
                                    Gesamtbetrag               1.428,00 €

   Zahlbar innerhalb von 14 Tagen ohne Abzug bis zum 26.03.2024.

   Muster Software GmbH · USt-IdNr. DE136695976 · IBAN DE89 3704 0044 0532 0130 00        Seite 1 von 1
"""

FRENCH = """
   ACME Conseil SARL
   12 rue de la Paix
   75002 Paris                                      FACTURE N° FA-2024-118
                                                    Date : 5 mars 2024
   Client :
   Dupont SAS
   8 avenue Foch
   69006 Lyon

   Désignation                  Qté     Prix unitaire HT     Montant HT
   Audit                          2             1 000,00       2 000,00

                                          Total HT             2 000,00 €
                                          TVA 20 %               400,00 €
                                          Total TTC            2 400,00 €
                                          Net à payer          2 400,00 €

   Date d'échéance : 04/04/2024
   N° TVA intracommunautaire : FR40303265045                                     Page 1 / 1
"""

DUTCH = """
   Bakkerij De Molen B.V.
   Dorpsstraat 12, 1234 AB Amsterdam

   FACTUUR
   Factuurnummer: 2024-0042                  Factuurdatum: 14-02-2024
   Klant: Café Centraal                      Vervaldatum: 15-03-2024

   Omschrijving            Aantal      Prijs       Bedrag
   Brood                       10       2,50        25,00

   Subtotaal                                        25,00
   BTW 9%                                            2,25
   Totaal te betalen                                27,25

   BTW-nummer: NL853746333B01   KvK: 12345678
"""

ITALIAN = """
   Rossi S.r.l.
   Via Roma 10, 20121 Milano
   P.IVA IT00743110157

                                        Spett.le Bianchi S.p.A.
                                        Corso Italia 5
                                        00100 Roma

   Fattura n. 123/2024 del 15/03/2024

   Descrizione            Quantità     Prezzo unitario      Importo
   Consulenza                    5              100,00       500,00

                              Imponibile                     500,00
                              IVA 22%                        110,00
                              Totale fattura                 610,00

   Scadenza: 14/04/2024
"""

SPANISH = """
   Distribuciones García S.L.
   Calle Mayor 1, 28013 Madrid
   NIF: ESB58378431
                                             FACTURA
                                             Nº de factura: 2024/015
                                             Fecha de emisión: 3 de marzo de 2024
   Cliente: Comercial López S.A.

   Concepto              Cantidad      Precio      Importe
   Material                     3      100,00       300,00

   Base imponible                                   300,00
   IVA 21%                                           63,00
   Total factura                                    363,00

   Vencimiento: 2 de abril de 2024
"""


@pytest.mark.parametrize("text, expected", [
    (GERMAN, dict(invoice_number="RE-2024-0815", issue_date="2024-03-12", due_date="2024-03-26",
                  subtotal="1200.00", tax_total="228.00", total="1428.00", currency="EUR",
                  vendor_name="Muster Software GmbH", vendor_tax_id="DE136695976", iban="DE89370400440532013000")),
    (FRENCH, dict(invoice_number="FA-2024-118", issue_date="2024-03-05", due_date="2024-04-04",
                  subtotal="2000.00", tax_total="400.00", total="2400.00", vendor_name="ACME Conseil SARL",
                  vendor_tax_id="FR40303265045")),
    (DUTCH, dict(invoice_number="2024-0042", issue_date="2024-02-14", due_date="2024-03-15", subtotal="25.00",
                 tax_total="2.25", total="27.25", vendor_name="Bakkerij De Molen B.V.",
                 vendor_tax_id="NL853746333B01")),
    (ITALIAN, dict(invoice_number="123/2024", issue_date="2024-03-15", due_date="2024-04-14", subtotal="500.00",
                   tax_total="110.00", total="610.00", vendor_name="Rossi S.r.l.", vendor_tax_id="IT00743110157")),
    (SPANISH, dict(invoice_number="2024/015", issue_date="2024-03-03", due_date="2024-04-02", subtotal="300.00",
                   tax_total="63.00", total="363.00", vendor_name="Distribuciones García S.L.",
                   vendor_tax_id="ESB58378431")),
], ids=["de", "fr", "nl", "it", "es"])
def test_the_text_reader_knows_each_languages_labels(text, expected):
    read = _read_text(text)
    assert {name: read.get(name) for name in expected} == expected


def test_a_german_invoice_title_gives_its_number_and_date():
    read = _read_text("""
   Lieferant GmbH
   Lieferantenstraße 20, 80333 München

   Handelsrechnung (380) Nr. 471102 vom 05.06.2025
   Liefer- und Leistungsdatum:      03.06.2025
   Bestellung Nr. Kunde:            2025-471331

   Rechnungssumme ohne USt.                177,43
   Steuerbetrag in EUR                      20,15
   Bruttosumme                             197,58
   Erhaltene Anzahlungen                    50,00
   Zahlbetrag                              147,58
""")
    assert (read["invoice_number"], read["issue_date"]) == ("471102", "2025-06-05")
    # The gross, not what is left to pay after the advance payment; the tax, never the gross.
    assert (read["subtotal"], read["tax_total"], read["total"]) == ("177.43", "20.15", "197.58")


def test_the_tax_total_is_never_the_gross():
    # No tax printed on its own line: it is what the gross adds to the net, never the gross itself.
    read = _read_text("""
   Café Sonne UG (haftungsbeschränkt)
   Rechnung 2024-55 vom 02.04.2024

   Bewirtung 4 Personen                                  119,00 €
   Gesamtbetrag inkl. MwSt.                               119,00 €
   Nettobetrag                                            100,00 €
""")
    assert (read["invoice_number"], read["total"], read["tax_total"]) == ("2024-55", "119.00", "19.00")
    # Tax-exempt: the tax is zero though a tax label stands beside the gross on the same page.
    read = _read_text("""
   Physiotherapie Tinder
   Umsatzsteuer (E) Steuerfreie Leistungen        380,00          0        0,00
   Rechnungssumme ohne USt.                       380,00
   Steuerbetrag in EUR                              0,00
   Bruttosumme                                    380,00
""")
    assert (read["total"], read["tax_total"]) == ("380.00", "0.00")


def test_a_tax_line_with_its_rate_and_base_gives_the_tax():
    read = _read_text("""
   Alpha Tools GmbH
   Summe netto                                    100,00
   MwSt 19 %          von        100,00            19,00
   Gesamtsumme                                    119,00
""")
    assert (read["subtotal"], read["tax_total"], read["total"]) == ("100.00", "19.00", "119.00")


def test_the_seller_is_never_a_table_header_or_a_page_footer():
    read = _read_text("""
   Page 1 / 1
   Menge  VKE/Geb  Nettopreis        MwSt-%   Nettowert
   10     1        12,00             19,0     120,00

   Nettobetrag      120,00
   MwSt-Betrag       22,80
   Endbetrag        142,80
""")
    assert "vendor_name" not in read
    assert (read["subtotal"], read["tax_total"], read["total"]) == ("120.00", "22.80", "142.80")


def _pdf(*texts: tuple[float, float, str, int, str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    for x, y, text, size, style in texts:
        pdf.set_font("Helvetica", style, size)
        pdf.set_xy(x, y)
        pdf.cell(pdf.get_string_width(text) + 2, 6, text)
    return bytes(pdf.output())


def test_a_pdf_seller_comes_from_beside_its_vat_id_not_from_the_table_header():
    result = parse_document(_pdf(
        (150, 10, "Seite 1 von 1", 8, ""),
        (15, 30, "KOSTENRECHNUNG", 14, "B"),
        (120, 30, "Beleg-Nr : KR-2024-17", 9, ""),
        (120, 36, "Beleg-Datum : 06.10.2024", 9, ""),
        (15, 60, "Menge", 9, "B"), (40, 60, "VKE/Geb", 9, "B"), (70, 60, "Nettopreis", 9, "B"),
        (110, 60, "MwSt-%", 9, "B"), (150, 60, "Nettowert", 9, "B"),
        (15, 67, "10", 9, ""), (40, 67, "1", 9, ""), (70, 67, "12,00", 9, ""), (110, 67, "19,0", 9, ""),
        (150, 67, "120,00", 9, ""),
        (15, 230, "Nettobetrag", 9, "B"), (60, 230, "MwSt-Betrag", 9, "B"), (105, 230, "MwSt-%", 9, "B"),
        (150, 230, "Endbetrag", 9, "B"),
        (17, 236, "120,00", 9, ""), (62, 236, "22,80", 9, ""), (107, 236, "19,0", 9, ""), (152, 236, "142,80", 9, ""),
        (15, 270, "Muster Handel GmbH", 7, ""), (60, 270, "Geschäftsführung: A. Muster", 7, ""),
        (110, 270, "USt-IdNr: DE136695976", 7, ""),
    )).as_json()
    assert result["method"] == "text"
    assert (result["invoice_number"], result["issue_date"]) == ("KR-2024-17", "2024-10-06")
    assert (result["subtotal"], result["tax_total"], result["total"]) == ("120.00", "22.80", "142.80")
    assert result["vendor_name"] == "Muster Handel GmbH" and result["vendor_tax_id"] == "DE136695976"


def test_a_pdf_totals_row_is_read_by_column():
    """French layout: the totals' labels in one row, their values in the row under them, a
    deposit and what is left to pay after it."""
    result = parse_document(_pdf(
        (15, 12, "LE FOURNISSEUR SARL", 14, "B"), (120, 12, "FACTURE N° : F20260027", 10, ""),
        (120, 18, "Date : 15/01/2026", 10, ""),
        (15, 20, "35 rue d'ici, 75018 PARIS", 9, ""), (120, 30, "CLIENT :", 9, "B"), (120, 36, "LE CLIENT SAS", 9, ""),
        (15, 30, "N° TVA : FR40303265045", 9, ""),
        (100, 200, "TOTAL HT", 9, "B"), (130, 200, "TOTAL TVA", 9, "B"), (160, 200, "TOTAL TTC", 9, "B"),
        (15, 206, "Les règlements reçus avant la date d'échéance ne donneront pas lieu à escompte.", 8, ""),
        (102, 212, "100,00", 9, ""), (132, 212, "10,00", 9, ""), (162, 212, "110,00", 9, ""),
        (130, 220, "Acompte : 10,00", 9, ""),
        (15, 228, "Date d'échéance : 15/02/2026", 9, ""), (120, 228, "NET A PAYER   100,00 EUR", 9, "B"),
    )).as_json()
    assert (result["invoice_number"], result["issue_date"], result["due_date"]) == ("F20260027", "2026-01-15",
                                                                                     "2026-02-15")
    assert (result["subtotal"], result["tax_total"], result["total"]) == ("100.00", "10.00", "110.00")
    assert result["vendor_name"] == "LE FOURNISSEUR SARL" and result["currency"] == "EUR"


def test_labels_are_data_in_every_language():
    from vrm_dashboard.parsing import labels

    for field in ("invoice_number", "issue_date", "due_date", "total", "subtotal", "tax_total", "seller", "bill_to"):
        assert set(labels.data()["strong"][field]) >= set(labels.LANGUAGES), field
    assert labels.find_labels(fold("USt.-Id.-Nr.: DE123"))[0].field == "vendor_tax_id"
    assert [m.field for m in labels.find_labels(fold("Date de facture associée"))] == ["other_date"]


@pytest.mark.parametrize("terms, due", [
    ("Zahlbar innerhalb 30 Tagen netto bis 04.07.2025, 3% Skonto innerhalb 10 Tagen bis 15.06.2025", "2025-07-04"),
    ("Bis zum 14.06.2025 erhalten Sie 2 % Skonto. Bis zum 04.07.2025 ohne Abzug.", "2025-07-04"),
    ("Payment terms: payable within 30 days.", "2025-07-05"),
    ("Conditions de paiement : à régler avant le 4 juillet 2025.", "2025-07-04"),
])
def test_the_due_date_comes_from_the_payment_terms_never_a_discount_date(terms, due):
    read = _read_text(f"""
   Lieferant GmbH
   Rechnungsnummer: 4711
   Rechnungsdatum: 05.06.2025
   {terms}
""")
    assert read["due_date"] == due
