"""The words invoices use for each field, in English, German, French, Dutch, Spanish and
Italian. Matched against accent-folded, lower-case text; longer labels are tried first so
"total net" is not read as "total"."""
from __future__ import annotations

import re
from functools import lru_cache

LABELS: dict[str, tuple[str, ...]] = {
    "invoice_number": (
        "invoice number", "invoice no", "invoice #", "invoice nr", "invoice id", "inv no", "inv #",
        "bill number", "invoice:", "rechnungsnummer", "rechnungs-nr", "rechnung nr", "rechnung nummer",
        "belegnummer", "numero de facture", "n° de facture", "no de facture", "facture n°",
        "facture no", "facture numero", "facture n", "factuurnummer", "factuur nr", "factuurnr",
        "factuur nummer", "numero de factura", "n° de factura", "nº de factura", "no de factura",
        "factura n°", "factura nº", "factura no", "factura num", "numero fattura", "fattura n",
        "number", "no.",
    ),
    "issue_date": (
        "invoice date", "date of issue", "issue date", "date issued", "billing date",
        "rechnungsdatum", "ausstellungsdatum", "belegdatum", "date de facture", "date de facturation",
        "date d'emission", "date de la facture", "factuurdatum", "datum factuur", "fecha de factura",
        "fecha de emision", "fecha factura", "data fattura", "data di emissione", "date", "datum",
        "fecha", "data",
    ),
    "due_date": (
        "due date", "payment due", "due by", "pay by", "date due", "payable by",
        "falligkeitsdatum", "fallig am", "faellig am", "zahlbar bis", "zahlungsziel", "falligkeit",
        "date d'echeance", "echeance", "a payer avant", "payable avant", "vervaldatum", "vervaldag",
        "te betalen voor", "uiterste betaaldatum", "fecha de vencimiento", "vencimiento",
        "fecha limite de pago", "data di scadenza", "scadenza",
    ),
    "total": (
        "total amount due", "amount due", "balance due", "total due", "grand total", "invoice total",
        "total amount", "total to pay", "amount payable", "total incl. vat", "total incl vat",
        "total including vat", "total (incl", "gesamtbetrag", "rechnungsbetrag", "endbetrag",
        "zu zahlender betrag", "zahlbetrag", "summe brutto", "bruttobetrag", "gesamtsumme", "gesamt",
        "total ttc", "montant ttc", "net a payer", "montant total", "montant du", "totaal incl. btw",
        "totaal incl btw", "te betalen", "totaalbedrag", "totaal", "importe total", "total a pagar",
        "total factura", "total con iva", "totale fattura", "totale da pagare", "totale", "total",
    ),
    "subtotal": (
        "subtotal", "sub-total", "sub total", "net amount", "total net", "net total", "total excl. vat",
        "total excl vat", "total excluding vat", "total before tax", "amount before tax", "zwischensumme",
        "nettobetrag", "summe netto", "gesamt netto", "netto", "total ht", "montant ht", "sous-total",
        "sous total", "totaal excl. btw", "totaal excl btw", "subtotaal", "base imponible",
        "importe neto", "imponibile", "totale imponibile",
    ),
    "tax_total": (
        "total vat", "vat amount", "total tax", "tax amount", "sales tax", "vat", "tax", "gst",
        "umsatzsteuer", "mehrwertsteuer", "mwst", "ust", "montant tva", "total tva", "tva",
        "btw bedrag", "btw", "importe iva", "cuota iva", "total iva", "iva",
    ),
    "vendor_tax_id": (
        "vat id", "vat no", "vat number", "vat reg", "tax id", "tax number", "ein", "ust-idnr",
        "ust-id", "ust.-id", "steuernummer", "steuer-nr", "numero de tva", "n° tva", "tva intracommunautaire",
        "siret", "btw-nummer", "btw nummer", "btw-nr", "btw nr", "kvk", "nif", "cif", "partita iva",
    ),
    "bill_to": (
        "bill to", "billed to", "invoice to", "sold to", "customer", "client", "rechnungsempfanger",
        "rechnung an", "kunde", "factura a", "facture a", "facturer a", "factureren aan", "klant",
        "destinatario", "cliente",
    ),
    "from": ("from", "seller", "supplier", "vendor", "lieferant", "fournisseur", "leverancier", "proveedor"),
}

# Words that head an invoice and are never the vendor's name.
TITLE_WORDS = ("invoice", "tax invoice", "rechnung", "facture", "factuur", "factura", "fattura", "bill")

# Line-item table headers.
HEADER_WORDS = {
    "description": ("description", "item", "items", "service", "product", "beschreibung", "bezeichnung",
                    "leistung", "artikel", "designation", "libelle", "omschrijving", "descripcion",
                    "concepto", "descrizione"),
    "quantity": ("qty", "quantity", "units", "hours", "menge", "anzahl", "stk", "quantite", "qte",
                 "aantal", "cantidad", "cant", "quantita"),
    "unit_price": ("unit price", "price", "rate", "unit cost", "einzelpreis", "preis", "e-preis",
                   "prix unitaire", "prix", "pu ht", "stukprijs", "prijs", "tarief", "precio unitario",
                   "precio", "prezzo"),
    "amount": ("amount", "total", "line total", "betrag", "gesamt", "summe", "montant", "total ht",
               "bedrag", "totaal", "importe", "importo"),
}


@lru_cache(maxsize=None)
def label_pattern(field: str) -> re.Pattern[str]:
    """A regex that finds any of the field's labels as whole words, longest first."""
    words = sorted(LABELS[field], key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in words)
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")
