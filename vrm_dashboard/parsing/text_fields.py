"""Fields read from an invoice's words and their places on the page, in any of the supported
languages and number and date formats.

Every label found (labels.json) offers candidates for its field: the value after it in its
cell, to its right on its line, or under it in its column. Each candidate is scored by how
sure its label is (a field's own words or a generic "Date"), where its value sat, where on
the page it is (the title block for the number and date, the totals block for the amounts)
and whether it has the right type. The amounts are then chosen together: the net, the tax
and the gross that add up win over any single better-labelled number, and the tax is never
the gross. The seller comes from the letterhead, a seller label's block, the company named
beside its VAT ID or the holder of its account, never from a table header or a page footer."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate, product
from typing import Callable, Sequence

from schwifty import IBAN
from stdnum.eu import vat as eu_vat

from vrm_dashboard.parsing import extraction as conf
from vrm_dashboard.parsing.amounts import AMOUNT_PATTERN, parse_amount
from vrm_dashboard.parsing.dates import find_dates
from vrm_dashboard.parsing.extraction import Evidence, Extraction, Layout
from vrm_dashboard.parsing.labels import (
    LANGUAGES,
    LabelMatch,
    bare_title_pattern,
    find_labels,
    header_pattern,
    language_votes,
    legal_form_pattern,
    page_mark_pattern,
    pattern_of,
    terms_days_pattern,
    title_pattern,
)
from vrm_dashboard.parsing.layout import Cell, Document, Line, document_from_text, fold
from vrm_dashboard.parsing.line_items import read_line_items

AMOUNT_FIELDS = ("total", "amount_due", "subtotal", "tax_total", "prepaid")
# Labels that head a block (an address, a name) count only where a cell begins with them.
_BLOCK_FIELDS = ("bill_to", "seller", "payee", "name")
_PERCENT = re.compile(r"[-+]?\d+(?:[.,]\d+)?\s*%|%\s*\d+(?:[.,]\d+)?")
_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/._]*")
_MARKER_PREFIX = re.compile(r"^(?:no\.?|nr\.?|n°|nº|#|number|nummer|numero|número|:|\.)\s*", re.I)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_VAT = re.compile(r"\b(?:ATU|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
                  r"[ .-]?[0-9A-Z](?:[ .-]?[0-9A-Z]){5,13}\b")
_EIN = re.compile(r"\b\d{2}-\d{7}\b")
# Parts of a sender line: "Vendor GmbH · Street 1 · City", with | or a dash between the parts.
_SENDER_SEPARATOR = re.compile(r"\s+[·•|–—]\s+|\s+-\s+|\s*[·•|]\s*")
_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₹": "INR"}
_CODES = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD", "JPY", "INR",
          "RON", "BGN", "NZD", "SGD", "ZAR", "MXN", "BRL")
_CURRENCY_WORDS = re.compile(r"\b(?:" + "|".join(_CODES) + r"|euro?s?)\b|[€£$¥₹]", re.I)
_STREET_WORDS = (r"(?:str\.?|straße|strasse|weg|platz|allee|gasse|ring|damm|rue|avenue|av\.|boulevard|bd|chemin|"
                 r"impasse|street|st\.|road|rd\.?|lane|ave\.?|drive|straat|laan|plein|gracht|calle|avenida|plaza|"
                 r"via|viale|piazza|corso)")
_STREET = re.compile(
    rf"(?:\b\d{{4,5}}\s+[^\W\d_]{{2,}}|\b{_STREET_WORDS}\b\.?\s*\d|[a-zäöü](?:straße|strasse|str\.)\s*\d|"
    rf"^\s*\d{{1,4}}[a-z]?,?\s+(?:(?:de|du|des|la|le|di|del)\s+)?{_STREET_WORDS}\b)", re.I)
_MAX_CANDIDATES = 40
_EURO_COUNTRIES = {"AT", "BE", "HR", "CY", "EE", "FI", "FR", "DE", "EL", "GR", "IE", "IT", "LV", "LT", "LU", "MT",
                   "NL", "PT", "SK", "SI", "ES"}
_SENTENCE_END = re.compile(r"[.!?]\s*$")
# Cells kept of a document's layout: a long invoice's first pages, where its header fields are.
_MAX_LAYOUT_CELLS = 4000


# ---------------------------------------------------------------- labels and their values


@dataclass(eq=False)
class _Label:
    field: str
    strong: bool
    languages: frozenset[str]
    cell: Cell  # the cell the label is in
    own: Cell  # the label's own words
    rest: str  # what follows the label in its cell, up to the next label

    @property
    def line(self) -> int:
        return self.cell.line


@dataclass(frozen=True)
class _Place:
    text: str
    weight: float
    cell: Cell
    span: tuple[float, float] | None = None  # the column a value under a label must be in


@dataclass
class _Candidate:
    value: object
    score: float
    line: int = 0
    source: str = ""
    cell: Cell | None = None
    label: str = ""  # the label it was read by


@dataclass
class _Amount:
    kind: str
    strong: bool
    value: Decimal
    score: float
    line: int
    cell: Cell | None  # None for a sum the reader made (the lines' amounts)
    label: str = ""


def _strip_rest(text: str) -> str:
    return text.lstrip(" :#.-–|*").strip()


def _labels_in(cell: Cell) -> list[_Label]:
    folded = cell.folded
    matches: list[LabelMatch] = []
    for match in find_labels(folded):
        at_start = not folded[:match.start].strip(" :#*-–•|([")
        if (not match.strong or match.field in _BLOCK_FIELDS) and not at_start:
            continue
        if match.field in _BLOCK_FIELDS and legal_form_pattern().match(folded[match.end:].lstrip(" ")):
            continue  # "Lieferant GmbH" is a name, not a label
        matches.append(match)
    # "SELLER TAX REP": a block word run into another label heads no block ("SELLER TRADE NAME" does).
    matches = [m for i, m in enumerate(matches)
               if m.field not in _BLOCK_FIELDS or i + 1 == len(matches) or matches[i + 1].field == "name"
               or folded[m.end:matches[i + 1].start].strip(" :.-")]
    # "inkl. MwSt." names a gross amount, "exkl. MwSt." a net one.
    for i, m in enumerate(matches):
        if m.field == "tax_total":
            before = re.sub(r"\d+(?:[.,]\d+)?\s*%\s*$", "", folded[:m.start].rstrip()).rstrip(" .")
            inclusive = [x for x in pattern_of("tax_inclusive").finditer(before) if x.end() == len(before)]
            if inclusive and before[:inclusive[-1].start()].strip(" :.-"):
                # "Gesamt inkl. MwSt." is a gross amount; "inkl. 19 % MwSt." alone is the tax it includes.
                matches[i] = LabelMatch("total", m.strong, m.languages, m.start, m.end)
            elif any(x.end() == len(before) for x in pattern_of("tax_exclusive").finditer(before)):
                matches[i] = LabelMatch("subtotal", m.strong, m.languages, m.start, m.end)
    labels: list[_Label] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start if i + 1 < len(matches) else len(cell.text)
        labels.append(_Label(match.field, match.strong, match.languages, cell, cell.part(match.start, match.end),
                             _strip_rest(cell.text[match.end:end])))
    return labels


class _Reader:
    def __init__(self, document: Document, extraction: Extraction) -> None:
        self.doc = document
        self.lines = document.lines
        self.extraction = extraction
        self.labels: list[_Label] = []
        self.labels_by_cell: dict[int, list[_Label]] = {}
        for line in self.lines:
            for cell in line.cells:
                found = _labels_in(cell)
                self.labels_by_cell[id(cell)] = found
                self.labels.extend(found)
        votes = language_votes(
            LabelMatch(label.field, label.strong, label.languages, 0, 0) for label in self.labels)
        ranked = sorted(LANGUAGES, key=lambda lang: -votes[lang])
        self.languages: tuple[str, ...] = tuple(ranked)
        self.claimed: set[int] = set()  # cells that are the value of some label
        self.month_first = False  # numeric dates read month first (US documents)
        self._customer: list[tuple[Cell, int]] | None = None

    # ---- values beside and under a label

    def _starts_with_label(self, cell: Cell) -> bool:
        labels = self.labels_by_cell.get(id(cell), [])
        return bool(labels) and labels[0].own.x0 <= cell.x0 + 1

    def _is_label_only(self, cell: Cell) -> bool:
        labels = self.labels_by_cell.get(id(cell), [])
        return bool(labels) and labels[0].own.x0 <= cell.x0 + 1 and not labels[-1].rest

    def _places(self, label: _Label) -> list[_Place]:
        """Where a label's value may be, surest first: after it in its cell, in the cells to its
        right on its line (up to the next label), or under it in its column."""
        places: list[_Place] = []
        if label.rest:
            places.append(_Place(label.rest, 1.0, label.cell))
        line = self.lines[label.line]
        right = [c for c in line.cells if c.x0 >= label.cell.x1 - 0.5]
        values: list[Cell] = []
        for cell in right:
            if self._starts_with_label(cell):
                break
            values.append(cell)
        if values and label.field in AMOUNT_FIELDS:
            # An amount's line reads "label  [rate]  [base]  amount": the amount is the last.
            places.append(_Place("  ".join(c.text for c in values), 0.95, values[-1]))
        else:
            places.extend(_Place(cell.text, 0.95 - 0.03 * i, cell) for i, cell in enumerate(values))
        if not right:
            places.extend(self._beside(label))
        places.extend(self._below(label))
        return places

    def _beside(self, label: _Label) -> list[_Place]:
        """A value set a little higher or lower than its label (a label centred on a value of
        two lines): the first cell to its right on a neighbouring line."""
        own = label.own
        middle = (own.top + own.bottom) / 2
        for line in self.lines[max(label.line - 2, 0): label.line + 3]:
            if line.index == label.line or line.page != own.page:
                continue
            if abs((line.top + line.bottom) / 2 - middle) > 0.7 * own.size:
                continue
            right = [c for c in line.cells if c.x0 >= label.cell.x1 - 0.5]
            if right and not self._starts_with_label(right[0]):
                return [_Place(right[0].text, 0.9, right[0])]
        return []

    def _below(self, label: _Label) -> list[_Place]:
        """Cells under the label, in its column, on the next few lines: a header over its values.
        A line of prose running under the column is passed over; another label ends the column."""
        own = label.own
        span = (own.x0, own.x1)
        reach = own.bottom + 3.4 * max(own.size, 6.0)
        out: list[_Place] = []
        for index in range(label.line + 1, len(self.lines)):
            line = self.lines[index]
            if line.page != own.page or line.top > reach:
                break
            under = [c for c in line.cells if c.overlaps(span, own.size * 0.6)]
            if not under:
                continue
            cell = under[0]
            if self._starts_with_label(cell):
                break
            text = cell.text
            if cell.x1 - cell.x0 > 3 * (own.x1 - own.x0) + 10 * own.size:
                text = _words_within(cell, own.x0 - 2 * own.size, own.x1 + 2 * own.size)
            out.append(_Place(text, 0.85 if not out else 0.8, cell, span))
        return out

    def _first(self, label: _Label, parse: Callable[[_Place], object | None]) -> tuple[object, _Place] | None:
        for place in self._places(label):
            value = parse(place)
            if value is not None:
                self.claimed.add(id(place.cell))
                return value, place
        return None

    # ---- parsers of a place's text

    def _amount(self, place: _Place) -> Decimal | None:
        text = place.text
        if place.span is not None:
            # Under a column header: the amount in that column, even inside a line of prose.
            for match, value in reversed(_amounts_with_spans(text)):
                x0, x1 = place.cell.x_of(*match)
                if x0 <= place.span[1] + place.cell.size and place.span[0] - 2 * place.cell.size <= x1:
                    return value
            return None
        if _prose(text):
            return None
        values = [v for _, v in _amounts_with_spans(text)]
        return values[-1] if values else None

    def _date(self, place: _Place) -> date | None:
        found = find_dates(place.text, self.month_first, self.languages, compact=True)
        if not found:
            return None
        first = found[0]
        lead = place.text[:first.start]
        if len(re.findall(r"[^\W\d_]{2,}", lead)) > 3:
            return None  # a date far into a sentence is not this label's value
        return first.value

    def _number(self, place: _Place) -> str | None:
        return _number_in(place.text)

    # ---- the fields

    def run(self) -> None:
        full = "\n".join(line.text for line in self.lines)
        _read_currency(full, self.extraction)
        self.month_first = self.extraction.value("currency") == "USD"
        self._claim_other_values()
        self._read_number_and_issue_date()
        self._read_due_date()
        read_line_items(self.lines, self.extraction)
        self._read_amounts()
        self._read_identifiers()
        self._read_vendor_name()
        self._infer_currency()

    def _put_best(self, name: str, candidates: list[_Candidate]) -> None:
        if not candidates:
            return
        best = max(candidates, key=lambda c: (c.score, -c.line))
        cell = best.cell
        if cell is None and best.line < len(self.lines) and self.lines[best.line].cells:
            cell = _spanning(self.lines[best.line].cells)  # the line it was read from (a title line)
        evidence = _evidence_of(cell, best.label or _SOURCES.get(best.source, best.source))
        self.extraction.put(name, best.value, round(min(best.score, 1.0) * conf.LABELLED, 3), evidence)

    def _infer_currency(self) -> None:
        """No currency printed: the euro where the seller's VAT ID or IBAN is of a euro country."""
        if "currency" in self.extraction.fields:
            return
        for name in ("vendor_tax_id", "iban"):
            value = self.extraction.value(name)
            if isinstance(value, str) and value[:2].upper() in _EURO_COUNTRIES:
                self.extraction.put("currency", "EUR", conf.INFERRED,
                                    Evidence(label=f"no currency printed; the {name} is of a euro country"))
                return

    def _claim_other_values(self) -> None:
        """Values of labels that are not fields (a delivery date, an order number) are taken,
        so they are not read as the invoice's own."""
        for label in self.labels:
            if label.field == "other_date":
                self._first(label, self._date)
            elif label.field == "other_reference":
                self._first(label, self._number)

    def _position(self, line_index: int, top_weight: bool) -> float:
        line = self.lines[line_index]
        factor = 1.0 if line.page == 0 else 0.85
        if top_weight and self.doc.relative_top(line) > 0.5:
            factor *= 0.92
        return factor

    def _read_number_and_issue_date(self) -> None:
        numbers: list[_Candidate] = []
        issued: list[_Candidate] = []
        for label in self.labels:
            if label.field not in ("invoice_number", "issue_date"):
                continue
            strength = 1.0 if label.strong else 0.6
            if label.own.x0 > label.cell.x0 + 1:
                strength *= 0.9  # inside another phrase ("Zahlungsreferenz: ... Rechnungsnummer: 4711")
            parse = self._number if label.field == "invoice_number" else self._date
            found = self._first(label, parse)
            if found is None:
                continue
            value, place = found
            score = strength * place.weight * self._position(label.line, True)
            (numbers if label.field == "invoice_number" else issued).append(
                _Candidate(value, score, label.line, "label", _value_cell(label, place), label.own.text))
        for line in self.lines:
            self._read_title(line, numbers, issued)
        self._letter_dates(issued)
        self._put_best("invoice_number", numbers)
        self._put_best("issue_date", issued)

    def _read_title(self, line: Line, numbers: list[_Candidate], issued: list[_Candidate]) -> None:
        """"Rechnung Nr. 4711 vom 05.06.2025", "Facture n° F-12 du 3 mars 2026", "Rechnung
        2024-55 vom 02.04.2024": the title, its number and its date in one phrase."""
        text = " ".join(cell.text for cell in line.cells)
        folded = fold(text)
        position = self._position(line.index, True)
        for match in title_pattern().finditer(folded):
            if any(m.field != "invoice_number" for m in find_labels(match.group("bridge"))):
                continue
            found = self._title_number(text, match.end())
            if found is not None:
                number, date_found, dated_by_connector = found
                numbers.append(_Candidate(number, 0.97 * position, line.index, "title", None, match.group(0)))
                if date_found is not None:
                    weight = 0.97 if dated_by_connector else 0.8
                    issued.append(_Candidate(date_found, weight * position, line.index, "title", None, match.group(0)))
                return
        bare = bare_title_pattern().match(folded)
        if bare:
            found = self._title_number(text, bare.end())
            if found is not None:
                number, date_found, dated_by_connector = found
                rest = text[bare.end():].strip()
                if dated_by_connector or rest == number:
                    numbers.append(_Candidate(number, 0.9 * position, line.index, "title", None, bare.group(0)))
                    if date_found is not None and dated_by_connector:
                        issued.append(_Candidate(date_found, 0.9 * position, line.index, "title", None, bare.group(0)))

    def _title_number(self, text: str, at: int) -> tuple[str, date | None, bool] | None:
        """The number at `at` of a title line, and the date after it ("vom 05.06.2025") with
        whether a connecting word introduced it."""
        token = _ID_TOKEN.match(text, at)
        if not token:
            return None
        number = _number_in(token.group(0))
        if number is None:
            return None
        after = text[token.end():]
        lead = len(after) - len(after.lstrip())
        connector = re.match(rf"(?:\S+\s+){{0,2}}?(?:{pattern_of('date_connectors').pattern})", fold(after.lstrip()))
        found = find_dates(after, self.month_first, self.languages)
        if found:
            start = found[0].start
            if connector and start <= lead + connector.end() + 2:
                return number, found[0].value, True
            if start <= lead + 2:
                return number, found[0].value, False
        return number, None, False

    def _letter_dates(self, issued: list[_Candidate]) -> None:
        """A date standing alone at the head of a letter ("München, 24. Januar 2014"), not the
        value of any label: the date the invoice was written."""
        for line in self.lines:
            if line.page != 0 or self.doc.relative_top(line) > 0.45:
                continue
            titled = bool(title_pattern().search(fold(line.text))) or any(
                pattern_of("title_words").match(c.folded) for c in line.cells)
            for cell in line.cells:
                if id(cell) in self.claimed or self.labels_by_cell.get(id(cell)):
                    continue
                found = find_dates(cell.text, self.month_first, self.languages)
                if len(found) != 1:
                    continue
                lead = cell.text[:found[0].start]
                if len(re.findall(r"[^\W\d_]{2,}", lead)) > 2 or len(cell.text) - found[0].end > 3:
                    continue
                issued.append(_Candidate(found[0].value, 0.62 if titled else 0.5, line.index, "letter", cell))

    def _read_due_date(self) -> None:
        due: list[_Candidate] = []
        for label in self.labels:
            if label.field != "due_date":
                continue
            found = self._first(label, self._date)
            if found is not None:
                value, place = found
                due.append(_Candidate(value, place.weight * self._position(label.line, False), label.line, "label",
                                      _value_cell(label, place), label.own.text))
        due.extend(self._due_from_terms())
        issued = self.extraction.value("issue_date")
        if issued is not None:
            for candidate in due:
                if isinstance(candidate.value, date) and candidate.value < issued:
                    candidate.score *= 0.85  # due before it was issued: possible (a premium), unusual
        self._put_best("due_date", due)

    def _due_from_terms(self) -> list[_Candidate]:
        """Payment terms in words: "zahlbar bis 04.07.2025", "Bis zum 29.11.2026 ohne Abzug",
        "payable within 30 days"; never a date that earns a discount (Skonto)."""
        out: list[_Candidate] = []
        before = pattern_of("due_before")
        before_weak = pattern_of("due_before_weak")
        after = pattern_of("due_after")
        payment = pattern_of("payment_words")
        discount = pattern_of("discount_words")
        for page in range(self.doc.pages):
            page_lines = [line for line in self.lines if line.page == page]
            text = " \n ".join(line.text for line in page_lines)
            starts = list(accumulate((len(line.text) + 3 for line in page_lines[:-1]), initial=0))
            # The line a place in the page's text is on, as one cell: the terms' evidence.
            line_at = lambda at: _spanning(page_lines[max(bisect_right(starts, at) - 1, 0)].cells)  # noqa: E731
            folded = fold(text)
            found = find_dates(text, self.month_first, self.languages)
            for i, hit in enumerate(found):
                clause_start = max(folded.rfind(",", 0, hit.start), folded.rfind(". ", 0, hit.start),
                                   found[i - 1].end if i else 0, hit.start - 80)
                next_start = found[i + 1].start if i + 1 < len(found) else len(folded)
                clause_end = min([p for p in (folded.find(",", hit.end), folded.find(". ", hit.end)) if p >= 0]
                                 + [next_start, hit.end + 60])
                head, tail = folded[clause_start:hit.start], folded[hit.end:clause_end]
                if discount.search(head) or discount.search(tail):
                    continue
                head_end = head.rstrip()
                strong = any(m.end() == len(head_end) for m in before.finditer(head_end))
                weak = any(m.end() == len(head_end) for m in before_weak.finditer(head_end))
                terms = text[clause_start:clause_end].strip(" \n,.")
                if strong or (after.match(tail.lstrip()) and (weak or payment.search(head))):
                    out.append(_Candidate(hit.value, 0.72, 0, "terms", line_at(hit.start), terms))
                elif weak and payment.search(head):
                    out.append(_Candidate(hit.value, 0.6, 0, "terms", line_at(hit.start), terms))
            issued = self.extraction.value("issue_date")
            if issued is not None:
                for match in terms_days_pattern().finditer(folded):
                    days = next(int(g) for g in match.groups() if g)
                    window = folded[max(0, match.start() - 40): match.end() + 40]
                    if 0 < days <= 180 and not discount.search(window):
                        out.append(_Candidate(issued + timedelta(days=days), 0.45, 0, "terms", line_at(match.start()),
                                              text[match.start():match.end()]))
        return out

    # ---- amounts

    def _amount_candidates(self) -> list[_Amount]:
        out: list[_Amount] = []
        count = max(len(self.lines), 1)
        for label in self.labels:
            if label.field not in AMOUNT_FIELDS:
                continue
            found = self._first(label, self._amount)
            if found is None:
                continue
            value, place = found
            assert isinstance(value, Decimal)
            # Totals are printed at the end: the lower on the last pages, the likelier.
            position = 0.9 + 0.1 * label.line / count
            score = (1.0 if label.strong else 0.6) * place.weight * position
            out.append(_Amount(label.field, label.strong, value, score, label.line, _value_cell(label, place),
                               label.own.text))
        # Taxes printed rate by rate on neighbouring lines, and their sum.
        taxes = sorted((a for a in out if a.kind == "tax_total"), key=lambda a: a.line)
        groups: list[list[_Amount]] = []
        for amount in taxes:
            if groups and amount.line - groups[-1][-1].line <= 4:
                groups[-1].append(amount)
            else:
                groups.append([amount])
        for group in groups:
            if len({a.line for a in group}) >= 2:
                total = sum((a.value for a in group), Decimal(0))
                out.append(_Amount("tax_total", True, total, 0.7 * min(a.score for a in group), group[-1].line,
                                   group[-1].cell, "the sum of " + ", ".join(a.label for a in group)))
        return out

    def _amount_evidence(self, amount: _Amount) -> Evidence:
        return _evidence_of(amount.cell, amount.label)

    def _read_amounts(self) -> None:
        amounts = self._amount_candidates()
        lines_sum = (sum((line.amount for line in self.extraction.lines), Decimal(0))
                     if self.extraction.lines else None)
        nets = [(a, a.score if a.strong else a.score * 0.9) for a in amounts if a.kind == "subtotal"]
        nets += [(a, a.score * 0.5) for a in amounts if a.kind == "total" and not a.strong]
        if lines_sum is not None:
            nets.append((_Amount("subtotal", False, lines_sum, 0.5, len(self.lines), None, "the sum of the lines"),
                         0.5))
        grosses = [(a, a.score) for a in amounts if a.kind == "total"]
        grosses += [(a, a.score * 0.9) for a in amounts if a.kind == "amount_due"]
        taxes: dict[Decimal, list[_Amount]] = {}
        for amount in amounts:
            if amount.kind == "tax_total":
                taxes.setdefault(amount.value, []).append(amount)
        # The best-placed few of each: a page of numbers under "Summe" labels stays quick to check.
        nets = sorted(nets, key=lambda n: -n[1])[:_MAX_CANDIDATES]
        grosses = sorted(grosses, key=lambda g: -g[1])[:_MAX_CANDIDATES]
        best: tuple[float, _Amount, _Amount, _Amount] | None = None
        for (net, s_net), (gross, s_gross) in product(nets, grosses):
            if net is gross or (net.value == 0 and gross.value != 0):
                continue
            for tax in taxes.get(gross.value - net.value, []):
                if tax is gross or not _plausible_tax(tax.value, gross.value):
                    continue
                score = s_net + tax.score + s_gross
                if net.line <= gross.line and tax.line <= gross.line:
                    score += 0.3
                if tax.value == 0:
                    score -= 0.2  # "no tax" agrees with any equal pair of numbers: a weaker proof
                if best is None or score > best[0]:
                    best = (score, net, tax, gross)
        if best is not None:
            _, net, tax, gross = best
            for name, amount in (("total", gross), ("subtotal", net), ("tax_total", tax)):
                self.extraction.put(name, amount.value, conf.CROSS_CHECKED, self._amount_evidence(amount))
            return
        self._settle_without_proof(amounts, lines_sum)

    def _settle_without_proof(self, amounts: list[_Amount], lines_sum: Decimal | None) -> None:
        """No net, tax and gross that add up: the best-labelled of each, the tax never the gross."""
        def best(kinds: Sequence[str], keep: Callable[[_Amount], bool] = lambda a: True) -> _Amount | None:
            found = [a for a in amounts if a.kind in kinds and keep(a)]
            rank = {kind: i for i, kind in enumerate(kinds)}
            return max(found, key=lambda a: (a.strong, -rank[a.kind], a.score, a.line), default=None)

        gross = best(("total", "amount_due"))
        total = gross.value if gross else None
        if gross is not None:
            self.extraction.put("total", gross.value, conf.LABELLED * min(gross.score, 1.0) - 0.1,
                                self._amount_evidence(gross))
        net = best(("subtotal",), lambda a: total is None or a.value != total or a.strong)
        subtotal = net.value if net else lines_sum
        if subtotal is not None:
            self.extraction.put("subtotal", subtotal, conf.LABELLED - 0.1 if net else conf.INFERRED,
                                self._amount_evidence(net) if net else Evidence(label="the sum of the lines"))
        tax = best(("tax_total",), lambda a: total is None or _plausible_tax(a.value, total))
        if tax is not None:
            self.extraction.put("tax_total", tax.value, conf.LABELLED - 0.2, self._amount_evidence(tax))
        elif total is not None and subtotal is not None and _plausible_tax(total - subtotal, total):
            self.extraction.put("tax_total", total - subtotal, conf.INFERRED, Evidence(label="the total less the net"))
        if total is None and subtotal is not None and tax is not None:
            self.extraction.put("total", subtotal + tax.value, conf.INFERRED, Evidence(label="the net plus the tax"))

    # ---- identifiers and the seller

    def _blocks(self, fields: tuple[str, ...], depth: int = 6) -> list[tuple[Cell, int]]:
        return [(label.own, depth) for label in self.labels if label.field in fields]

    def _in_block(self, cell: Cell, blocks: list[tuple[Cell, int]]) -> bool:
        for head, depth in blocks:
            if head.page == cell.page and 0 <= cell.top - head.top <= depth * 1.35 * head.size:
                if head.x0 - 1.5 * head.size <= cell.x0 <= max(head.x1, head.x0 + 8 * head.size) + head.size:
                    return True
        return False

    def _customer_blocks(self) -> list[tuple[Cell, int]]:
        """Where the customer's address is: under a bill-to label or an addressee ("Herrn", "M.")."""
        if self._customer is not None:
            return self._customer
        blocks = self._blocks(("bill_to",))
        recipient = pattern_of("recipient_markers")
        for line in self.lines:
            for cell in line.cells:
                match = recipient.match(cell.folded)
                if match and len(cell.folded.strip(" .")) <= match.end() + 30 and line.page == 0:
                    blocks.append((cell, 5))
        self._customer = blocks
        return blocks

    def _read_identifiers(self) -> None:
        customer = self._customer_blocks()
        for line in self.lines:
            customer_line = self._customer_vat_line(line)
            for cell in line.cells:
                if self._in_block(cell, customer):
                    continue
                upper = cell.text.upper()
                for match in _IBAN.finditer(upper):
                    try:
                        self.extraction.put("iban", IBAN(match.group(0)).compact, conf.LABELLED,
                                            _evidence_in(cell, match.start(), match.end()))
                    except ValueError:
                        pass
                if customer_line:
                    continue
                for match in _VAT.finditer(upper):
                    candidate = _valid_vat(match.group(0))
                    if candidate and "vendor_tax_id" not in self.extraction.fields:
                        self.extraction.put("vendor_tax_id", candidate, conf.LABELLED,
                                            _evidence_in(cell, match.start(), match.end()))
                if "vendor_tax_id" not in self.extraction.fields and any(
                        label.field == "vendor_tax_id" for label in self.labels_by_cell.get(id(cell), [])):
                    ein = _EIN.search(cell.text)
                    if ein:
                        self.extraction.put("vendor_tax_id", ein.group(0), conf.LABELLED - 0.1,
                                            _evidence_in(cell, ein.start(), ein.end()))

    def _plausible_name(self, text: str) -> bool:
        return _plausible_name(text) and not _is_label_only_text(text)

    def _read_vendor_name(self) -> None:
        candidates: list[_Candidate] = []
        customer = self._customer_blocks()
        self._named_by_labels(candidates, customer)
        self._named_beside_vat(candidates, customer)
        self._named_in_letterhead(candidates, customer)
        self._named_in_footer(candidates, customer)
        # A name two different places agree on (letterhead and account holder, say) is surer.
        for candidate in candidates:
            key = fold(str(candidate.value))
            others = {c.source for c in candidates if c is not candidate and c.source != candidate.source
                      and _same_name(key, fold(str(c.value)))}
            candidate.score += 0.15 * len(others)
        named = [c for c in candidates if c.source != "payee" or c.score > 0.45]
        self._put_best("vendor_name", named)

    def _block_name(self, label: _Label, customer: list[tuple[Cell, int]]) -> tuple[str, float] | None:
        """The name a block label heads: on its own line, or under it ("Name: ..." first)."""
        if label.rest and self._plausible_name(label.rest):
            return label.rest, 1.0
        line = self.lines[label.line]
        right = [c for c in line.cells if c.x0 >= label.cell.x1 - 0.5]
        if right and not self.labels_by_cell.get(id(right[0])) and self._plausible_name(right[0].text):
            return right[0].text, 0.97
        head = label.own
        fallback: tuple[str, float] | None = None
        for below in self.lines[label.line + 1: label.line + 9]:
            if below.page != head.page or below.top > head.bottom + 9 * head.size:
                break
            cells = [c for c in below.cells if head.x0 - 1.5 * head.size <= c.x0 <= head.x1 + 3 * head.size]
            if not cells:
                continue
            first = cells[0]
            labels = self.labels_by_cell.get(id(first), [])
            if labels and labels[0].own.x0 <= first.x0 + 1:
                if labels[0].field == "name":
                    named = self._first(labels[0], lambda p: p.text if self._plausible_name(p.text) else None)
                    if named is not None:
                        return str(named[0]), 1.0
                if labels[0].field in ("bill_to", "seller"):
                    break
                continue
            if fallback is None and self._plausible_name(first.text) and not self._in_block(first, customer):
                fallback = (first.text, 0.97)
        return fallback

    def _named_by_labels(self, candidates: list[_Candidate], customer: list[tuple[Cell, int]]) -> None:
        for label in self.labels:
            if label.field not in ("seller", "payee"):
                continue
            found = self._block_name(label, customer)
            if found is None:
                continue
            name, weight = found
            name = _cut_at_legal_form(name)
            base = 0.9 if label.field == "seller" else 0.35
            candidates.append(_Candidate(name, base * weight, label.line, label.field, None, label.own.text))

    def _customer_vat_line(self, line: Line) -> bool:
        """A line that gives the customer's VAT ID ("Ihre USt-IdNr.", "N° TVA du client")."""
        return any(label.field == "other_reference" and re.search(r"ust|vat|tva|btw|iva", label.own.folded)
                   for cell in line.cells for label in self.labels_by_cell.get(id(cell), []))

    def _vat_line(self, line: Line) -> bool:
        """A line with a VAT ID: a valid one, or one shaped like it beside its label."""
        labelled = any(label.field == "vendor_tax_id" for cell in line.cells
                       for label in self.labels_by_cell.get(id(cell), []))
        for cell in line.cells:
            for match in _VAT.finditer(cell.text.upper()):
                if labelled or _valid_vat(match.group(0)):
                    return True
        return False

    def _named_beside_vat(self, candidates: list[_Candidate], customer: list[tuple[Cell, int]]) -> None:
        """The company an imprint line names beside its VAT ID: "Muster GmbH · USt-IdNr. DE123"."""
        for line in self.lines:
            if not line.cells or not self._vat_line(line) or self._customer_vat_line(line):
                continue
            first = line.cells[0]
            if self._in_block(first, customer):
                continue
            part = _SENDER_SEPARATOR.split(first.text)[0].strip()
            if _legal_forms(part) and self._plausible_name(part):
                candidates.append(_Candidate(_cut_at_legal_form(part), 1.1, line.index, "imprint", first))

    def _named_in_footer(self, candidates: list[_Candidate], customer: list[tuple[Cell, int]]) -> None:
        """The company a page's footer names ("Muster GmbH · Geschäftsführer ..."): weak alone, but
        it confirms the letterhead."""
        for line in self.lines:
            if self.doc.relative_top(line) < 0.85 or not line.cells or self._in_block(line.cells[0], customer):
                continue
            part = _SENDER_SEPARATOR.split(line.cells[0].text)[0].strip()
            if _legal_forms(part) and self._plausible_name(part):
                candidates.append(_Candidate(_cut_at_legal_form(part), 0.5, line.index, "footer", line.cells[0]))

    def _named_in_letterhead(self, candidates: list[_Candidate], customer: list[tuple[Cell, int]]) -> None:
        top = [line for line in self.lines if line.page == 0 and self.doc.relative_top(line) <= 0.4]
        sizes = [cell.size for line in top for cell in line.cells]
        largest = max(sizes, default=0.0)
        typical = sorted(sizes)[len(sizes) // 2] if sizes else 0.0
        order = 0
        for line in top:
            if _header_row(line) or any(page_mark_pattern().search(c.folded) for c in line.cells):
                continue
            for cell in line.cells:
                if self._in_block(cell, customer) or self.labels_by_cell.get(id(cell)) or id(cell) in self.claimed:
                    continue
                name = _SENDER_SEPARATOR.split(cell.text)[0].strip()
                if not self._plausible_name(name) or _STREET.search(name):
                    continue
                score = 0.45 - 0.02 * min(order, 5)
                if _legal_forms(name):
                    score += 0.25
                    name = _cut_at_legal_form(name)
                if cell.size >= largest and largest > typical:
                    score += 0.12
                if cell.bold:
                    score += 0.04
                candidates.append(_Candidate(name, score, line.index, "letterhead", cell))
                order += 1


# ---------------------------------------------------------------- helpers


def _amounts_with_spans(text: str) -> list[tuple[tuple[int, int], Decimal]]:
    """Amounts in `text` with where each is, percentages left out."""
    cleaned = _PERCENT.sub(lambda m: " " * len(m.group(0)), text)
    out: list[tuple[tuple[int, int], Decimal]] = []
    for match in AMOUNT_PATTERN.finditer(cleaned):
        value = parse_amount(match.group(0))
        if value is not None:
            out.append(((match.start(), match.end()), value))
    return out


def _number_in(text: str) -> str | None:
    """A document number at the start of `text` ("Nr. 4711", "RE-2024-0815"): a token with a
    digit in it among the first two, which is no date, rate or money amount."""
    text = _MARKER_PREFIX.sub("", text.strip())
    for token in _ID_TOKEN.findall(text)[:2]:
        token = token.rstrip("./-_")
        if not any(ch.isdigit() for ch in token):
            continue
        if find_dates(token) or _PERCENT.fullmatch(token) or re.fullmatch(r"\d{1,3}(?:[.,]\d{2})", token):
            return None
        return token
    return None


def _words_within(cell: Cell, x0: float, x1: float) -> str:
    """The words of a cell that stand between x0 and x1 (a column crossing a line of prose)."""
    kept = []
    for match in re.finditer(r"\S+", cell.text):
        left, right = cell.x_of(match.start(), match.end())
        if left <= x1 and x0 <= right:
            kept.append(match.group(0))
    return " ".join(kept)


def _prose(text: str) -> bool:
    """A sentence rather than a value: more than three words besides numbers and currency."""
    words = re.findall(r"[^\W\d_]{2,}", _CURRENCY_WORDS.sub(" ", text))
    return len(words) > 3


def _plausible_tax(tax: Decimal, gross: Decimal) -> bool:
    """A tax is smaller than the gross it is part of, of the same sign, and never the gross itself."""
    if gross == 0:
        return tax == 0
    return tax * gross >= 0 and abs(tax) < abs(gross)


_SOURCES = {"title": "the invoice's title", "letter": "a date at the head of the letter",
            "terms": "the payment terms", "letterhead": "the letterhead", "imprint": "the company beside its VAT ID",
            "footer": "the page footer"}


def _value_cell(label: _Label, place: _Place) -> Cell:
    """The cell a label's value was read from; the part after the label when in the label's cell."""
    if place.cell is label.cell and label.own.x1 < label.cell.x1:
        own = label.own
        cell = label.cell
        return Cell(place.text, own.x1, cell.x1, cell.top, cell.bottom, cell.page, cell.line, cell.size, cell.bold)
    return place.cell


def _spanning(cells: Sequence[Cell]) -> Cell:
    first = cells[0]
    return Cell(" ".join(c.text for c in cells), min(c.x0 for c in cells), max(c.x1 for c in cells),
                min(c.top for c in cells), max(c.bottom for c in cells), first.page, first.line, first.size, first.bold)


def _evidence_in(cell: Cell, start: int, end: int) -> Evidence:
    """Characters start..end of a cell, labelled by the words before them in their part of the
    cell ("IBAN:" in "Muster GmbH · IBAN: DE12 ...")."""
    head = _SENDER_SEPARATOR.split(cell.text[:start])[-1].strip(" :#.-–|*")
    return _evidence_of(cell.part(start, end), head[-40:], cell.text[start:end])


def _evidence_of(cell: Cell | None, label: str | None, text: str | None = None) -> Evidence:
    if cell is None:
        return Evidence(label=label or None, text=text)
    return Evidence(page=cell.page + 1, box=(cell.x0, cell.top, cell.x1, cell.bottom), label=label or None,
                    text=text or cell.text)


def _read_currency(text: str, extraction: Extraction) -> None:
    codes = Counter(code for code in re.findall(r"\b[A-Z]{3}\b", text) if code in _CODES)
    if codes:
        code = codes.most_common(1)[0][0]
        extraction.put("currency", code, conf.LABELLED, Evidence(label=f"the currency code printed most ({code})"))
        return
    symbols = Counter(ch for ch in text if ch in _SYMBOLS)
    if symbols:
        symbol = symbols.most_common(1)[0][0]
        extraction.put("currency", _SYMBOLS[symbol], conf.INFERRED + 0.2,
                       Evidence(label=f"the currency sign printed most ({symbol})"))


def _valid_vat(text: str) -> str | None:
    """The longest run of the match's space-separated parts that is a valid VAT number: the
    pattern may run on into the next word."""
    parts = text.split(" ")
    for count in range(len(parts), 0, -1):
        candidate = re.sub(r"[.-]", "", "".join(parts[:count]))
        if eu_vat.is_valid(candidate):
            return str(eu_vat.compact(candidate))
    return None


def _header_row(line: Line) -> bool:
    """A line-item table's header: two or more column titles."""
    kinds = set()
    for cell in line.cells:
        for word in re.split(r"\s+", cell.folded):
            for kind in ("description", "quantity", "unit_price", "amount", "other"):
                if header_pattern(kind).match(word):
                    kinds.add(kind)
    return len(kinds) >= 2 or sum(
        1 for cell in line.cells for kind in ("description", "quantity", "unit_price", "amount", "other")
        if header_pattern(kind).match(cell.folded)) >= 3


def _is_label_only_text(text: str) -> bool:
    folded = fold(text)
    matches = find_labels(folded)
    return bool(matches) and not folded[:matches[0].start].strip() and (
        matches[0].field not in _BLOCK_FIELDS or not legal_form_pattern().match(folded[matches[0].end:].lstrip()))


def _plausible_name(text: str) -> bool:
    if text.rstrip().endswith(":"):
        return False  # a label of its own
    folded = fold(text).strip(" :")
    if len(folded) < 2 or len(folded) > 80 or sum(ch.isalpha() for ch in folded) < 2:
        return False
    if pattern_of("title_words").fullmatch(folded.strip(" .:")) or title_pattern().search(folded):
        return False
    if re.search(r"\d[.,]\d{2}(?!\d)", text):
        return False  # an amount
    if sum(ch.isdigit() for ch in text) > len(text) / 4 or "@" in text or "www." in folded or "http" in folded:
        return False
    if "©" in text or "(c)" in folded or "urn:" in folded or "://" in folded or page_mark_pattern().search(folded):
        return False
    words = folded.split()
    if len(words) > 7 or (len(words) > 4 and _SENTENCE_END.search(folded)):
        return False
    if find_dates(text) or pattern_of("recipient_markers").fullmatch(folded.strip(" .")):
        return False
    return True


def _legal_forms(name: str) -> list[re.Match[str]]:
    """The legal forms in a name ("GmbH", "S.r.l.", "B.V."). A form of one or two letters ("AB",
    "SA", "SE") counts only where it ends the name: elsewhere it is as likely an ordinary word."""
    folded = fold(name)
    end = len(folded.rstrip(" .,)"))
    out = []
    for match in legal_form_pattern().finditer(folded):
        letters = re.sub(r"[^a-z]", "", match.group(0))
        if len(letters) > 2 or match.end() >= end or folded[match.end():].lstrip(" .,").startswith(("&", "(")):
            out.append(match)
    return out


def _cut_at_legal_form(name: str) -> str:
    """"FOURNISSEUR SARL au capital de 50 000 EUR" -> "FOURNISSEUR SARL"."""
    matches = _legal_forms(name)
    if not matches:
        return name.strip()
    end = matches[-1].end()
    for match in matches:
        rest = fold(name[match.end():]).strip(" .,&")
        if not rest or legal_form_pattern().match(rest):
            continue
        if len(rest.split()) >= 3:
            end = match.end()
            break
    return name[:end].strip(" ,")


def _same_name(a: str, b: str) -> bool:
    a, b = " ".join(a.split()), " ".join(b.split())
    return bool(a and b) and (a in b or b in a)


def read_fields(pages: Sequence[str] | Document, extraction: Extraction) -> None:
    """Read every field of `extraction` from a document's words (or from laid-out page text)."""
    document = pages if isinstance(pages, Document) else document_from_text(list(pages))
    extraction.layout = layout_of(document)
    _Reader(document, extraction).run()


def layout_of(document: Document) -> Layout:
    """The document's cells and page sizes, as kept with what was read (parsing/hints reads them)."""
    widths = list(document.page_widths) + [0.0] * (document.pages - len(document.page_widths))
    cells = [(cell.page, cell.x0, cell.top, cell.x1, cell.bottom, cell.text)
             for line in document.lines for cell in line.cells]
    return Layout(cells[:_MAX_LAYOUT_CELLS], list(zip(widths, document.page_heights)))
