"""Which vendor sent an invoice: exactly by VAT/tax ID, IBAN or the sender's e-mail domain;
otherwise ranked name suggestions (rapidfuzz) for a person to choose from."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import Vendor

# Above this name score (the same name but for legal form, case and punctuation), with a clear
# lead over the next vendor, the match is taken as certain.
AUTO_MATCH_SCORE = 98.0
SUGGESTION_FLOOR = 60.0
# Mail providers many vendors share: their domain says nothing about who sent the mail.
PUBLIC_MAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com",
                                 "icloud.com", "gmx.de", "gmx.net", "web.de", "orange.fr", "proton.me"})
_LEGAL_FORMS = re.compile(r"\b(gmbh|ag|kg|ug|ltd|limited|llc|llp|inc|corp|plc|co|sarl|sas|sa|sl|srl|bv|nv)\b\.?")


@dataclass(frozen=True)
class Suggestion:
    vendor_id: int
    vendor_code: str
    name: str
    score: float
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    vendor_id: int | None
    suggestions: list[Suggestion]


def _comparable(name: str) -> str:
    return _LEGAL_FORMS.sub(" ", utils.default_process(name)).strip()


def _compact(value: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (value or "").upper())


def match_vendor(session: Session, name: str | None, tax_id: str | None, iban: str | None,
                 sender_email: str | None) -> Match:
    exact = _exact(session, tax_id, iban, sender_email)
    if exact:
        return Match(exact.vendor_id, [exact])
    suggestions = _by_name(session, name) if name else []
    if suggestions:
        best = suggestions[0]
        runner_up = suggestions[1].score if len(suggestions) > 1 else 0.0
        if best.score >= AUTO_MATCH_SCORE and best.score - runner_up >= 5:
            return Match(best.vendor_id, suggestions)
    return Match(None, suggestions)


def _exact(session: Session, tax_id: str | None, iban: str | None, sender_email: str | None) -> Suggestion | None:
    active = col(Vendor.activity_status) != "inactive"
    checks = []
    if _compact(tax_id):
        key = _compact(tax_id)
        checks.append(("tax/VAT ID", or_(func.upper(func.replace(Vendor.vat_id, " ", "")) == key,
                                         func.upper(func.replace(func.replace(Vendor.tax_id, " ", ""), "-", "")) == key)))
    if _compact(iban):
        checks.append(("IBAN", func.upper(func.replace(Vendor.iban, " ", "")) == _compact(iban)))
    domain = (sender_email or "").rpartition("@")[2].lower().strip(" >")
    if domain and domain not in PUBLIC_MAIL_DOMAINS:
        checks.append(("sender e-mail domain", func.lower(Vendor.email).like(f"%@{domain}")))
    for reason, condition in checks:
        found = session.execute(
            select(col(Vendor.id), col(Vendor.vendor_code), col(Vendor.name)).where(condition, active)).all()
        if len(found) == 1:
            vendor_id, code, name = found[0]
            return Suggestion(vendor_id, code, name, 100.0, f"same {reason}")
    return None


def _by_name(session: Session, name: str, limit: int = 5) -> list[Suggestion]:
    vendors = session.execute(select(col(Vendor.id), col(Vendor.vendor_code), col(Vendor.name), col(Vendor.legal_name))
                              .where(col(Vendor.activity_status) != "inactive")).all()
    choices = {}
    for vendor_id, code, vendor_name, legal in vendors:
        choices[(vendor_id, code, vendor_name, "name")] = _comparable(vendor_name)
        if legal and legal != vendor_name:
            choices[(vendor_id, code, vendor_name, "legal name")] = _comparable(legal)
    found = process.extract(_comparable(name), choices, scorer=fuzz.WRatio, limit=limit * 2,
                            score_cutoff=SUGGESTION_FLOOR)
    best: dict[int, Suggestion] = {}
    for _text, score, (vendor_id, code, vendor_name, field) in found:
        if vendor_id not in best or score > best[vendor_id].score:
            best[vendor_id] = Suggestion(vendor_id, code, vendor_name, round(float(score), 1), f"similar {field}")
    return sorted(best.values(), key=lambda s: -s.score)[:limit]
