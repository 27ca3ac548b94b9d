"""How a file leaves the app: every stored or generated file (invoice originals, the portal's
invoice files, distributed PDFs, remittance advices, vendor documents, exports) is sent with
`file_response` or `file_headers`, so that:

- it is sandboxed (`Content-Security-Policy: sandbox`): a document opened directly runs no
  script and has no origin of its own, so even an HTML or XHTML file cannot act in the signed-in
  user's session;
- the browser takes the type we send and never guesses another (`nosniff`);
- only a PDF, PNG or JPEG whose bytes really are one is shown inline; XML, HTML and other text
  is shown as plain text, and anything else is downloaded;
- its name reaches the `Content-Disposition` header only through `content_disposition`, which
  no quote, line break or non-Latin character can break (RFC 6266 with RFC 5987's `filename*`).
"""
from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from urllib.parse import quote

from starlette.responses import Response

# Framable by our own pages only (the invoice page shows a PDF original in a frame). Chrome
# renders a PDF under this policy; a sandboxed <iframe> attribute, by contrast, blocks its viewer.
DOCUMENT_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
SECURITY_POLICY = "Content-Security-Policy"

# What may be shown inline, and the bytes such a file starts with. A PDF may carry a few bytes
# of junk before its header (readers look in the first kilobyte), the images may not.
_SHOWN_INLINE = {
    "application/pdf": lambda head: b"%PDF-" in head[:1024],
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
}
# Types a download keeps; any other is sent as plain bytes.
_DOWNLOAD_TYPES = frozenset({
    *_SHOWN_INLINE, "application/xml", "text/xml", "text/csv", "text/plain",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
})
_TEXT_TYPES = re.compile(r"^(text/[\w.+-]+|application/([\w.-]+\+)?(xml|json)|application/xhtml\+xml)$")
PLAIN_TEXT = "text/plain; charset=utf-8"
OCTET_STREAM = "application/octet-stream"
# RFC 5987 attr-char besides letters and digits (quote() keeps "_.-~" and alphanumerics itself).
_ATTR_CHARS = "!#$&+-.^_`|~"
# Unicode categories no file name needs: controls (CR, LF, NUL ...), format characters (the
# right-to-left override that turns "fdp.exe" around, zero-width joiners) and line separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _clean(filename: str) -> str:
    return "".join(ch for ch in filename if unicodedata.category(ch) not in _DROPPED_CATEGORIES).strip()


def _ascii_fallback(name: str, default_stem: str) -> str:
    """The name as plain ASCII for old clients: accents dropped, anything else left out, and
    never a quote or backslash (they would end or escape the quoted string)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    # Not even a ";": a lenient parser that splits the header on it would read a parameter.
    folded = re.sub(r'["\\;\x00-\x1f\x7f]', "", folded).strip()
    stem, dot, suffix = folded.rpartition(".")
    if not dot:
        stem, suffix = folded, ""
    if not stem.strip(" ._-"):
        # A name in another script leaves nothing but its extension.
        return default_stem + (f".{suffix}" if suffix.strip() else "")
    return folded


def content_disposition(filename: str, *, inline: bool = False, default_stem: str = "download") -> str:
    """The `Content-Disposition` header for sending a file by this name (RFC 6266): an ASCII
    `filename="..."` every client reads, and `filename*=UTF-8''...` (RFC 5987) with the exact
    name when that differs. The name is only ever data here: it cannot end the header, add a
    parameter or fail to encode, whatever it holds."""
    kind = "inline" if inline else "attachment"
    name = _clean(filename)
    if not name.rpartition(".")[0].strip():
        name = default_stem + name if name.startswith(".") else name or default_stem
    fallback = _ascii_fallback(name, default_stem)
    header = f'{kind}; filename="{fallback}"'
    if fallback != name:
        header += "; filename*=UTF-8''" + quote(name.encode("utf-8", "replace"), safe=_ATTR_CHARS)
    return header


def file_headers(filename: str, *, inline: bool = False) -> dict[str, str]:
    """The headers a file goes out with (see the module's docstring)."""
    return {
        "Content-Disposition": content_disposition(filename, inline=inline),
        SECURITY_POLICY: DOCUMENT_POLICY,
        "X-Content-Type-Options": "nosniff",
    }


def served_type(content: bytes, content_type: str, inline: bool) -> tuple[str, bool]:
    """The type a file is sent as, and whether it may be shown inline after all.

    A stored type is a claim (a vendor's upload names its own); the bytes decide. Text that a
    browser would run as a page (XML with XHTML, HTML, SVG) is shown as plain text."""
    declared = content_type.split(";", 1)[0].strip().lower()
    shows = _SHOWN_INLINE.get(declared)
    if shows is not None and shows(content[:1024]):
        return declared, inline
    if _TEXT_TYPES.match(declared) or declared == "image/svg+xml":
        return (PLAIN_TEXT, True) if inline else (declared if declared in _DOWNLOAD_TYPES else PLAIN_TEXT, False)
    if shows is not None:
        return OCTET_STREAM, False  # named a PDF or image, but is none
    return (declared if declared in _DOWNLOAD_TYPES else OCTET_STREAM), False


def file_response(content: bytes, filename: str, content_type: str, *, inline: bool = False) -> Response:
    """A stored or generated file, shown (inline) or downloaded, never run (see the module)."""
    media_type, shown = served_type(content, content_type, inline)
    return Response(content=content, media_type=media_type, headers=file_headers(filename, inline=shown))


def script_hash(script: str | bytes) -> str:
    """The CSP source that lets exactly this inline script (its text, UTF-8) run: 'sha256-...'."""
    text = script.encode("utf-8") if isinstance(script, str) else script
    digest = base64.b64encode(hashlib.sha256(text).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def page_policy(script: str) -> str:
    """The policy of a small page we write ourselves around a document (the portal's print
    view): its one script and styles, the document framed from our origin, nothing else."""
    return (f"default-src 'none'; script-src {script_hash(script)}; style-src 'unsafe-inline'; frame-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
