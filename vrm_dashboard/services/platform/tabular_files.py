"""Reading an uploaded CSV or XLSX into text columns, refusing what is not one.

An XLSX is a zip of XML files: its entries' sizes are checked against bounds before anything
unpacks them (a zip bomb is refused from its directory alone), and it is read in a confined
worker process (parsing/sandbox) with a memory cap and a deadline. openpyxl reads the sheets'
XML through defusedxml, which refuses entity declarations.

Reading touches no database (receive_table): where a file arrives, it is read before the unit
of work that takes it begins, so a spreadsheet that keeps its worker busy up to the deadline
holds no lock meanwhile (on SQLite a unit of work holds the write lock from its first statement)."""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from vrm_dashboard.domain.activity_rules import ImportRefused, RowProblem
from vrm_dashboard.parsing.sandbox import ReaderLimit, ReadersUnavailable, run_confined

MAX_FILE_BYTES = 200 * 1024 * 1024
# What an XLSX's entries may unpack to, together; a million-row sheet is a few hundred MB.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
# Sheets compress about 5 to 15 times; a run of zeros (a zip bomb) about 1,000 times.
MAX_COMPRESSION_RATIO = 100
_RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024  # small entries (styles, themes) may compress further
MAX_ENTRIES = 10_000
SPREADSHEET_SECONDS = 300.0


def _refuse(reason: str) -> ImportRefused:
    return ImportRefused([RowProblem(0, reason)], 1)


@dataclass(frozen=True, eq=False)
class ReceivedTable:
    """A CSV or XLSX file as received, and what reading it gave: its table, or why it was refused."""

    filename: str
    sha256: str
    size_bytes: int
    frame: pd.DataFrame | None = None
    refusal: ImportRefused | None = None


def receive_table(content: bytes, filename: str) -> ReceivedTable:
    """read_table, its refusal kept rather than raised; no database is touched. Reading an XLSX
    may take its worker's whole deadline, so callers read with no unit of work open, then take
    the table in a short one. ReadersUnavailable when no worker can be started (no fault of the
    file: the caller says to try again)."""
    try:
        frame, refusal = read_table(content, filename), None
    except ImportRefused as refused:
        frame, refusal = None, refused
    return ReceivedTable(filename, hashlib.sha256(content).hexdigest(), len(content), frame, refusal)


def read_table(content: bytes, filename: str) -> pd.DataFrame:
    """Every cell as stripped text ('' when empty), columns as the header names them."""
    if not content:
        raise _refuse("The file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise _refuse(f"The file is larger than {MAX_FILE_BYTES // 1_048_576} MB")
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        check_zip_bounds(content)
        try:
            frame = run_confined(read_excel, content, seconds=SPREADSHEET_SECONDS)
        except ReaderLimit as limit:
            raise _refuse(f"The Excel file {limit}; it was not read") from None
        except ReadersUnavailable:
            raise  # no fault of the file: the caller says to try again
        except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for broken files
            raise _refuse(f"The Excel file cannot be read: {error}") from None
    elif name.endswith((".csv", ".txt")) or not name:
        text = _decode(content)
        try:
            dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
            separator = dialect.delimiter
        except csv.Error:
            separator = ","
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, sep=separator, keep_default_na=False,
                                skipinitialspace=True)
        except Exception as error:  # noqa: BLE001 - pandas' parser errors name the line
            raise _refuse(f"The CSV cannot be read: {error}") from error
    else:
        raise _refuse(f"{filename} is not a CSV or XLSX file")
    if frame.empty and not len(frame.columns):
        raise _refuse("The file has no header row")
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = sorted(name for name, times in Counter(frame.columns).items() if times > 1)
    if repeated:
        raise _refuse(f"The header names the column {', '.join(repr(c) for c in repeated)} more than once")
    return frame.fillna("").astype(str).apply(lambda column: column.str.strip())


def check_zip_bounds(content: bytes) -> None:
    """Refuse an XLSX whose entries would unpack past the bounds, judged by its zip directory.
    Python's zipfile never returns more than an entry's declared size, so the declared sizes
    are what a reader can be made to unpack."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise _refuse("The Excel file is damaged (not a readable .xlsx zip)") from None
    if len(entries) > MAX_ENTRIES:
        raise _refuse(f"The Excel file holds {len(entries):,} parts; an .xlsx has a few dozen")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse(f"The Excel file unpacks to {unpacked / 1_048_576:,.0f} MB; the limit is "
                      f"{MAX_UNPACKED_BYTES // 1_048_576:,} MB")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_CHECKED_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise _refuse(f"The Excel file's part {entry.filename} is compressed {ratio:,.0f} times (a zip bomb?); "
                          "it was not unpacked")


def read_excel(content: bytes) -> pd.DataFrame:
    """The first sheet as text. Runs in a confined worker; errors come back as plain ValueErrors
    (every exception must survive the trip back)."""
    try:
        # keep_default_na off: a cell saying "NaN" or "null" is that text, to be refused, not an empty cell.
        return pd.read_excel(io.BytesIO(content), dtype=str, engine="openpyxl", keep_default_na=False)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - openpyxl and defusedxml raise many kinds
        raise ValueError(str(error) or type(error).__name__) from None


def _decode(content: bytes) -> str:
    try:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16")
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _refuse(f"The file is not UTF-8 text (first bad byte on line {line}); "
                      "save it as 'CSV UTF-8' and try again") from error
