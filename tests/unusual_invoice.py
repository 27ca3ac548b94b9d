"""A one-page German invoice whose number stands by a label no reader knows ("Vorgangskennung"):
the reader does not find it until a person's correction teaches it where this vendor prints it.
Two vendors can send the same layout, and a later invoice can sit a little lower on its page."""
from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF


@dataclass(frozen=True)
class Sender:
    name: str
    vat_id: str
    iban: str


KIESEL = Sender("Kiesel Baustoffe GmbH", "DE136695976", "DE02120300000000202051")
MOERTEL = Sender("Moertel Handel GmbH", "DE811907980", "DE75512108001245126199")


def unusual_invoice(number: str, sender: Sender = KIESEL, shift: float = 0.0, label: str = "Vorgangskennung",
                    issued: str = "05.06.2025") -> bytes:
    pdf = FPDF()
    pdf.add_page()

    def text(x: float, y: float, value: str, size: int = 10, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.text(x, y + shift, value)

    text(20, 20, sender.name, 14, True)
    text(20, 26, "Kiesweg 3 - 80331 Muenchen")
    text(20, 45, "Bauhof Mueller KG")
    text(20, 50, "Hauptstr. 1")
    text(20, 55, "10115 Berlin")
    text(120, 45, "Rechnung", 14, True)
    text(120, 55, label + ":")
    text(160, 55, number)
    text(120, 61, "Auftrag:")
    text(160, 61, "A-99812")
    text(120, 67, "Datum:")
    text(160, 67, issued)
    text(20, 90, "Kies 0/16, 10 t")
    text(170, 90, "1.000,00 EUR")
    text(120, 110, "Netto")
    text(170, 110, "1.000,00 EUR")
    text(120, 116, "USt 19 %")
    text(170, 116, "190,00 EUR")
    text(120, 122, "Gesamt")
    text(170, 122, "1.190,00 EUR")
    text(20, 270, f"{sender.name} - USt-IdNr. {sender.vat_id} - IBAN {sender.iban}")
    return bytes(pdf.output())
