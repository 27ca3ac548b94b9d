"""The words invoices print beside each field, in English, German, French, Dutch, Spanish and
Italian, kept as data in labels.json beside this module and loaded once.

Labels are matched in folded text (lower case, no accents: layout.fold) as whole words; a
space, hyphen, dot or slash inside a label matches any run of those or none, so "ust id nr"
finds "USt-IdNr.", "USt.-Id.-Nr." and "UStIdNr". Where labels overlap the longest wins: the
`other_*` groups claim phrases that contain a field's words but are not that field."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from vrm_dashboard.parsing.layout import fold

LANGUAGES = ("en", "de", "fr", "nl", "es", "it")
# The fields a label can name. Those after "vendor_tax_id" are read but are not extracted fields:
# they place blocks (bill-to, seller) or claim words so they are not read as another field.
FIELDS = ("invoice_number", "issue_date", "due_date", "total", "amount_due", "subtotal", "tax_total", "prepaid",
          "vendor_tax_id", "bill_to", "seller", "payee", "name", "other_reference", "other_date", "other_amount",
          "tax_rate")
_SEPARATORS = re.compile(r"[\s.\-/]+")
_SEPARATOR = r"[\s.\-/]*"


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    """labels.json, read once."""
    text = resources.files("vrm_dashboard.parsing").joinpath("labels.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _key(text: str) -> str:
    return _SEPARATORS.sub("", text)


def phrase_regex(label: str) -> str:
    """A label as a regex over folded text: its separators flexible, a trailing dot optional."""
    folded = fold(label).strip().rstrip(".:")
    parts = [re.escape(part) for part in _SEPARATORS.split(folded) if part]
    return _SEPARATOR.join(parts)


def _alternation(phrases: Iterable[str]) -> str:
    """Phrases longest first, grouped by their first character: one regex that finds the
    longest phrase at each place without trying every phrase at every character."""
    groups: dict[str, list[str]] = {}
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        body = phrase_regex(phrase)
        if body:
            groups.setdefault(fold(phrase).strip()[0], []).append(body)
    return "|".join(f"(?:{'|'.join(bodies)})" for bodies in groups.values())


def words_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Any of the phrases as whole words (in folded text)."""
    return re.compile(rf"(?<![a-z0-9])(?:{_alternation(phrases)})\.?(?![a-z])")


@dataclass(frozen=True)
class LabelMatch:
    field: str
    strong: bool
    languages: frozenset[str]
    start: int
    end: int


@dataclass(frozen=True)
class _Entry:
    field: str
    strong: bool
    languages: frozenset[str]


@lru_cache(maxsize=1)
def _label_index() -> tuple[re.Pattern[str], dict[str, _Entry]]:
    """One regex for every label, and what each label (without its separators) names. A label
    listed for two fields counts for the first strong one in FIELDS order."""
    found: dict[str, list[tuple[str, bool, str]]] = {}
    for strength in ("strong", "weak"):
        for field_name, by_language in data()[strength].items():
            for language, labels in by_language.items():
                for label in labels:
                    found.setdefault(_key(fold(label).strip().rstrip(".:")), []).append(
                        (field_name, strength == "strong", language))
    index: dict[str, _Entry] = {}
    for key, uses in found.items():
        best = min(uses, key=lambda u: (not u[1], FIELDS.index(u[0])))
        languages = frozenset(lang for f, s, lang in uses if (f, s) == best[:2])
        index[key] = _Entry(best[0], best[1], languages)
    labels = [label for strength in ("strong", "weak") for by_language in data()[strength].values()
              for group in by_language.values() for label in group]
    return words_pattern(labels), index


def find_labels(folded: str) -> list[LabelMatch]:
    """Every label in a cell's folded text, left to right, none overlapping."""
    pattern, index = _label_index()
    out: list[LabelMatch] = []
    for match in pattern.finditer(folded):
        entry = index.get(_key(match.group(0).rstrip(".")))
        if entry is not None:
            out.append(LabelMatch(entry.field, entry.strong, entry.languages, match.start(), match.end()))
    return out


@lru_cache(maxsize=None)
def label_pattern(field: str, weak: bool = True) -> re.Pattern[str]:
    """A regex that finds any of one field's labels as whole words, longest first."""
    labels = [label for strength in (("strong", "weak") if weak else ("strong",))
              for group in data()[strength].get(field, {}).values() for label in group]
    return words_pattern(labels)


def _all_languages(entry: Any) -> list[str]:
    if isinstance(entry, dict):
        return [item for group in entry.values() for item in group]
    return list(entry)


@lru_cache(maxsize=None)
def pattern_of(name: str) -> re.Pattern[str]:
    """Any phrase of the named list in labels.json (all languages), as whole words."""
    return words_pattern(_all_languages(data()[name]))


@lru_cache(maxsize=1)
def title_pattern() -> re.Pattern[str]:
    """An invoice's title ("Rechnung", "Facture", "Teilrechnung") and its number marker
    ("Nr.", "N°", "#") within a few words: "Handelsrechnung (380) Nr. 471102"."""
    titles = _alternation(_all_languages(data()["title_words"]))
    endings = "|".join(re.escape(e) for e in _all_languages(data()["title_compound_endings"]))
    markers = _alternation(data()["number_markers"])
    return re.compile(
        rf"(?<![a-z0-9])(?:{titles}|[a-z]+(?:{endings}))(?![a-z])(?P<bridge>[^\n]{{0,40}}?)"
        rf"(?<![a-z0-9])(?:{markers})(?![a-z])\.?\s*[:#]?\s*(?=[a-z0-9])")


@lru_cache(maxsize=1)
def bare_title_pattern() -> re.Pattern[str]:
    """A title that begins a line and is followed by its number with no marker: "Rechnung
    2024-55 vom 02.04.2024", "INVOICE INV-0042"."""
    titles = _alternation(_all_languages(data()["title_words"]))
    endings = "|".join(re.escape(e) for e in _all_languages(data()["title_compound_endings"]))
    return re.compile(rf"^\s*(?:{titles}|[a-z]+(?:{endings}))(?![a-z])\s*:?\s+(?=[a-z0-9])")


@lru_cache(maxsize=1)
def terms_days_pattern() -> re.Pattern[str]:
    """Payment terms in days: "innerhalb 30 Tagen", "net 30", "a 30 jours"."""
    bodies = sorted((r"\s*(\d{1,3})\s*".join(phrase_regex(part) for part in phrase.split("{n}"))
                     for phrase in _all_languages(data()["terms_days"])), key=len, reverse=True)
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(bodies)})(?![a-z0-9]|[.,]\d)")


@lru_cache(maxsize=1)
def legal_form_pattern() -> re.Pattern[str]:
    return words_pattern(data()["legal_forms"])


@lru_cache(maxsize=1)
def page_mark_pattern() -> re.Pattern[str]:
    """A page number: "Seite 1 von 3", "Page 1 / 1", "- 2 -"."""
    marks = _alternation(data()["page_marks"])
    of = _alternation(data()["page_of"])
    return re.compile(rf"(?<![a-z0-9])(?:{marks})\.?\s*:?\s*\d+(?:\s*(?:{of})\s*\d+)?(?![\d])|^\s*-\s*\d+\s*-\s*$")


@lru_cache(maxsize=None)
def header_pattern(kind: str) -> re.Pattern[str]:
    """A line-item table's column header of one kind, at the start of a cell."""
    words = data()["table_headers"][kind]
    return re.compile(rf"^(?:{_alternation(words)})\.?(?![a-z])")


def language_votes(matches: Iterable[LabelMatch]) -> dict[str, float]:
    """How strongly the labels found speak for each language: a label of one language counts
    one, a label shared by several counts a share to each."""
    votes = {language: 0.0 for language in LANGUAGES}
    for match in matches:
        if match.strong and match.languages:
            for language in match.languages:
                votes[language] += 1 / len(match.languages)
    return votes
