"""What never reaches a log, a run record or a screen in full, in one place: the fields the
audit log masks or leaves out, and the credentials a URL may carry.

Bank details and taxpayer numbers are masked the way the vendor card masks them (the last four
characters visible), so a reviewer can still tell two values apart; passwords, tokens and key
hashes are left out altogether."""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from vrm_dashboard.domain.vendor_rules import mask

# Account numbers that move money: masked everywhere the audit log keeps them.
BANK_DETAILS = frozenset({"iban", "account_number", "routing_number"})
# What the vendor card shows masked to a role without vendor.view_bank_details: the above, and
# the rest of the payout account (kept in full in the log, where only such roles may read it).
BANK_FIELDS = BANK_DETAILS | {"bic", "paypal_email"}
# Taxpayer numbers (the vendor's tax_id is a US EIN or a foreign TIN; the tax forms' tin and
# foreign_tin); a GIIN is published by the IRS and a VAT ID is checked in public, so both stay.
TAX_NUMBERS = frozenset({"tin", "ssn", "ein", "itin", "foreign_tin", "tax_id"})
MASKED_FIELDS = BANK_DETAILS | TAX_NUMBERS
# Credentials, never kept at all: a stored document's bytes are left out for their size.
HIDDEN_FIELDS = frozenset({
    "password", "password_hash", "password_encrypted", "token", "token_hash", "key_hash", "api_key",
    "secret", "authorization", "content",
})

# A field holding HTTP headers: every value hidden whatever the header's name (Authorization,
# X-Api-Key, a vendor's own X-Tracker-Token ...), the names kept.
HEADER_FIELDS = frozenset({"headers"})

REDACTED = "***"
# scheme://user:password@ as SQLAlchemy reads it (the password is anything up to the @), so a
# database URL with a / or ? in its password is caught whole.
# The password runs to the URL's last "@" (one that holds "@", "/" or "?" is caught whole; an "@"
# further on, in a query, only hides more than needed).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*)(?P<password>:\S*)?@(?=[^@]*$)")
# A query or fragment parameter whose name holds one of these carries a credential
# (token, access_token, api_key, apikey, sig, signature, password, client_secret, auth ...).
_SECRET_PARAMETER = re.compile(r"token|key|secret|pass|pwd|sig|auth|credential|session", re.IGNORECASE)
_PARAMETER = re.compile(r"([^&;=#?]+)=([^&;#]*)")
# A URL in prose: up to a space, a quote or a backslash (so the JSON a URL sits in keeps its
# escapes), and not the punctuation that ends its sentence.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`\\]*[^\s\"'<>`\\.,;:!)\]]")


def redact_url(url: str) -> str:
    """The URL fit to show or log: the password of `user:pass@` (all of a lone `token@`) and
    the values of credential-like query and fragment parameters replaced by ***."""
    url = _USERINFO.sub(_userinfo, url, count=1)
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
    if cut < 0:
        return url
    return url[:cut] + _PARAMETER.sub(_parameter, url[cut:])


def _userinfo(match: re.Match[str]) -> str:
    user, password = match.group("user"), match.group("password")
    # A lone name before the @ is as often a token (https://TOKEN@host) as a user: hidden too.
    shown = f"{user}:{REDACTED}" if password and user else REDACTED
    return f"{match.group('scheme')}{shown}@"


def _parameter(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={REDACTED}" if _SECRET_PARAMETER.search(unquote(name)) else match.group(0)


def redact_text(text: str) -> str:
    """Free text (an error message, a traceback, a label) with every URL in it redacted."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text) if "://" in text else text


def redact(data: Any, also_mask: frozenset[str] = frozenset(), keep: frozenset[str] = frozenset()) -> Any:
    """A snapshot (dicts and lists of plain values, at any depth) as logs may keep it: hidden
    fields left out, bank details and taxpayer numbers masked, header values hidden, URLs
    redacted. Field names match whatever their case. A string that holds a JSON object or
    list (a record's JSON column, such as a connector's config saved before its secrets were
    sealed) is redacted the same way, and stays a string. `also_mask` masks more fields;
    `keep` leaves fields of MASKED_FIELDS as they are."""
    return _redacted(data, frozenset(name.lower() for name in (MASKED_FIELDS - keep) | also_mask))


def _redacted(data: Any, masked: frozenset[str]) -> Any:
    if isinstance(data, dict):
        shown = {}
        for key, value in data.items():
            name = str(key).lower()
            if name in HIDDEN_FIELDS:
                continue
            if name in HEADER_FIELDS:
                shown[key] = _hidden_values(value)
            elif name in masked:
                shown[key] = _masked(value)
            else:
                shown[key] = _redacted(value, masked)
        return shown
    if isinstance(data, list):
        return [_redacted(value, masked) for value in data]
    if isinstance(data, str):
        held = _json_within(data)
        if held is not None:
            redacted = _redacted(held, masked)
            return redact_text(data) if redacted == held else json.dumps(redacted, sort_keys=True)
        return redact_text(data)
    return data


def _json_within(text: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object or list a string holds, or None when it holds none."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        held = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return held if isinstance(held, (dict, list)) else None


def _hidden_values(headers: Any) -> Any:
    """Headers with every value hidden: a mapping keeps its names, anything else is hidden whole."""
    if isinstance(headers, str):
        held = _json_within(headers)
        if isinstance(held, dict):
            return json.dumps(_hidden_values(held), sort_keys=True)
    if isinstance(headers, dict):
        return {name: _hidden(value) for name, value in headers.items()}
    return _hidden(headers)


def _hidden(value: Any) -> Any:
    # None and "" stay, as with masked fields: that a header was set or cleared is worth seeing.
    return value if value is None or value == "" else REDACTED


def _masked(value: Any) -> Any:
    # None and "" stay: that a detail was added or removed is itself worth seeing.
    if value is None or value == "":
        return value
    return mask(str(value))
