"""A file's name reaches `Content-Disposition` only through web.downloads.content_disposition:
whatever the name holds (quotes, line breaks, the euro sign, Chinese or Japanese characters, a
right-to-left override), the header is one valid RFC 6266 line with exactly its own parameters,
and a browser reads the exact name back from `filename*` (RFC 5987)."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from starlette.responses import Response

from vrm_dashboard.web.downloads import DOCUMENT_POLICY, content_disposition, file_headers, file_response

# RFC 6266 as we write it: a type, a quoted ASCII filename, and optionally an RFC 5987 filename*.
_QUOTED = r'"(?:[^"\\\x00-\x1f\x7f]|\\.)*"'
_EXTENDED = r"UTF-8''(?:%[0-9A-F]{2}|[A-Za-z0-9!#$&+\-.^_`|~])*"
HEADER = re.compile(rf"(?P<kind>inline|attachment); filename=(?P<ascii>{_QUOTED})(?:; filename\*=(?P<exact>{_EXTENDED}))?")

HOSTILE = [
    ('a"; filename="evil.html', 'a"; filename="evil.html'),
    ("x\r\nSet-Cookie: stolen=1.pdf", "xSet-Cookie: stolen=1.pdf"),
    ("line\nbreak\r.xml", "linebreak.xml"),
    ("Rechnung Nr. 7 €.pdf", "Rechnung Nr. 7 €.pdf"),
    ("請求書 2026-11.pdf", "請求書 2026-11.pdf"),
    ("发票.xml", "发票.xml"),
    ("back\\slash\".pdf", "back\\slash\".pdf"),
    ("\u202egpj.exe", "gpj.exe"),
    ("tab\there\x00nul\x7f.pdf", "tabherenul.pdf"),
    ("naïve café.pdf", "naïve café.pdf"),
    ("€", "€"),
    ("", "download"),
]


def _read(header: str) -> tuple[str, str, str | None]:
    """(type, ASCII filename, exact filename) as a strict RFC 6266 reader sees them."""
    found = HEADER.fullmatch(header)
    assert found, f"not one valid Content-Disposition: {header!r}"
    ascii_name = re.sub(r"\\(.)", r"\1", found["ascii"][1:-1])
    exact = found["exact"]
    return found["kind"], ascii_name, unquote(exact[len("UTF-8''"):], errors="strict") if exact else None


@pytest.mark.parametrize(("filename", "shown"), HOSTILE)
def test_a_hostile_file_name_makes_one_valid_header_with_only_its_own_parameters(filename, shown):
    header = content_disposition(filename)
    assert header.isascii() and "\r" not in header and "\n" not in header
    kind, ascii_name, exact = _read(header)
    assert kind == "attachment"
    assert (exact if exact is not None else ascii_name) == shown
    # The fallback for old clients is plain ASCII without what would end or escape it.
    assert ascii_name.isascii() and not set(ascii_name) & set('"\\;\r\n')
    # Starlette (the API's responses) takes it as a header without raising.
    Response(b"", headers={"Content-Disposition": header})


def test_a_plain_name_is_left_as_it_is():
    assert content_disposition("INV-2026-001.pdf") == 'attachment; filename="INV-2026-001.pdf"'
    assert content_disposition("INV-2026-001.pdf", inline=True) == 'inline; filename="INV-2026-001.pdf"'


def test_a_name_in_another_script_keeps_its_extension_in_the_ascii_fallback():
    _kind, ascii_name, exact = _read(content_disposition("請求書.pdf"))
    assert ascii_name == "download.pdf" and exact == "請求書.pdf"
    _kind, ascii_name, exact = _read(content_disposition("Überweisung.xml"))
    assert ascii_name == "Uberweisung.xml" and exact == "Überweisung.xml"


def test_every_file_goes_out_sandboxed_and_unsniffed():
    headers = file_headers('report "Q4".xlsx')
    assert headers["Content-Security-Policy"] == DOCUMENT_POLICY and DOCUMENT_POLICY.startswith("sandbox;")
    assert headers["X-Content-Type-Options"] == "nosniff"


XHTML_SCRIPT = (b'<?xml version="1.0"?><Invoice xmlns:h="http://www.w3.org/1999/xhtml">'
                b"<h:script>window.__pwned = 1</h:script></Invoice>")


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml", "text/html", "image/svg+xml",
                                          "application/xhtml+xml"])
def test_xml_and_html_are_shown_as_plain_text_or_downloaded_never_as_a_page(content_type):
    shown = file_response(XHTML_SCRIPT, "invoice.xml", content_type, inline=True)
    assert shown.headers["content-type"] == "text/plain; charset=utf-8"
    assert shown.headers["content-disposition"].startswith("inline;")
    downloaded = file_response(XHTML_SCRIPT, "invoice.xml", content_type)
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert downloaded.headers["content-type"].split(";")[0] not in ("text/html", "image/svg+xml", "application/xhtml+xml")
    for response in (shown, downloaded):
        assert response.headers["content-security-policy"].startswith("sandbox;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.body == XHTML_SCRIPT  # byte for byte, only its type differs


def test_only_a_real_pdf_or_image_is_shown_inline():
    pdf = file_response(b"%PDF-1.7\n...", "a.pdf", "application/pdf", inline=True)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith("inline")
    png = file_response(b"\x89PNG\r\n\x1a\n....", "a.png", "image/png", inline=True)
    assert png.headers["content-type"] == "image/png"
    # A vendor's upload names its own type: HTML that claims to be a PDF is only ever downloaded.
    fake = file_response(b"<html><script>alert(1)</script></html>", "bank.pdf", "application/pdf", inline=True)
    assert fake.headers["content-type"] == "application/octet-stream"
    assert fake.headers["content-disposition"].startswith("attachment")
    unknown = file_response(b"MZ...", "tool.exe", "application/x-msdownload", inline=True)
    assert unknown.headers["content-type"] == "application/octet-stream"
