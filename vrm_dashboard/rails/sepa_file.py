"""SEPA credit transfers as an ISO 20022 pain.001.001.03 file (sepaxml), checked against the
schema that ships with sepaxml before it is stored."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from vrm_dashboard.rails.base import PaymentFileContent, RailError, Transfer

if TYPE_CHECKING:
    from lxml import etree

SCHEMA = "pain.001.001.03"


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    # lxml validates ten thousand transfers in well under a second; sepaxml's own check
    # (xmlschema, pure Python) takes much longer on files that size.
    import sepaxml
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd")))


def schema_errors(content: bytes) -> list[str]:
    """Every XSD violation in a pain.001.001.03 document ([] when it is valid)."""
    from lxml import etree

    from vrm_dashboard.parsing.xml_safety import safe_parser

    schema = _schema()
    try:
        document = etree.fromstring(content, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def build(transfers: list[Transfer], payer_name: str, payer_iban: str, payer_bic: str, currency: str) -> PaymentFileContent:
    """One pain.001 file paying every transfer from the payer's account."""
    from sepaxml import SepaTransfer

    if not transfers:
        raise RailError("A SEPA file needs at least one transfer")
    sepa = SepaTransfer({"name": payer_name, "IBAN": payer_iban, "BIC": payer_bic, "batch": True,
                         "currency": currency}, schema=SCHEMA, clean=True)
    for t in transfers:
        if not t.iban:
            raise RailError(f"{t.vendor_code} has no IBAN for a SEPA transfer")
        payment = {"name": t.beneficiary, "IBAN": t.iban.replace(" ", ""), "amount": t.amount_minor,
                   "currency": currency, "execution_date": t.execution_date,
                   "description": t.description, "endtoend_id": t.reference}
        if t.bic:
            payment["BIC"] = t.bic
        sepa.add_payment(payment)
    content = sepa.export(validate=False)
    problems = schema_errors(content)
    if problems:
        raise RailError("The SEPA file does not pass the pain.001 schema: " + "; ".join(problems[:5]))
    return PaymentFileContent(reference=sepa.msg_id[:35], filename=f"{sepa.msg_id[:35]}.xml",
                              content_type="application/xml", content=content)
