"""The file a recipient receives: the PDF, with Factur-X XML inside when asked for. A plain
function of plain values, so worker processes can render many at once."""
from __future__ import annotations

from vrm_dashboard.rendering.einvoice_xml import with_einvoice
from vrm_dashboard.rendering.invoice_document import InvoiceDocument
from vrm_dashboard.rendering.invoice_pdf import render_invoice


def render_file(doc: InvoiceDocument, einvoice: bool = False) -> bytes:
    pdf = render_invoice(doc)
    return with_einvoice(pdf, doc) if einvoice else pdf


def render_files(jobs: list[tuple[InvoiceDocument, bool]]) -> list[bytes | str]:
    """Each file, or why it could not be rendered: one bad document does not stop the rest."""
    out: list[bytes | str] = []
    for doc, einvoice in jobs:
        try:
            out.append(render_file(doc, einvoice))
        except Exception as exc:  # noqa: BLE001 - reported per document
            out.append(f"The invoice could not be rendered: {exc}")
    return out
