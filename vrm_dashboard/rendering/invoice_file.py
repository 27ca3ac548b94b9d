"""The file a recipient receives: the PDF, with Factur-X XML inside when asked for. A plain
function of plain values, so worker processes can render many at once."""
from __future__ import annotations

from vrm_dashboard.rendering.einvoice_xml import with_einvoice
from vrm_dashboard.rendering.invoice_document import InvoiceDocument
from vrm_dashboard.rendering.invoice_pdf import render_invoice


def render_file(doc: InvoiceDocument, einvoice: bool = False) -> bytes:
    pdf = render_invoice(doc)
    return with_einvoice(pdf, doc) if einvoice else pdf
