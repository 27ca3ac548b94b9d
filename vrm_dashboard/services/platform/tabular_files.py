"""Reading an uploaded CSV or XLSX into text columns, refusing what is not one."""
from __future__ import annotations

import csv
import io

import pandas as pd

from vrm_dashboard.domain.activity_rules import ImportRefused, RowProblem

MAX_FILE_BYTES = 200 * 1024 * 1024


def _refuse(reason: str) -> ImportRefused:
    return ImportRefused([RowProblem(0, reason)], 1)


def read_table(content: bytes, filename: str) -> pd.DataFrame:
    """Every cell as stripped text ('' when empty), columns as the header names them."""
    if not content:
        raise _refuse("The file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise _refuse(f"The file is larger than {MAX_FILE_BYTES // 1_048_576} MB")
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        try:
            frame = pd.read_excel(io.BytesIO(content), dtype=str, engine="openpyxl")
        except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for broken files
            raise _refuse(f"The Excel file cannot be read: {error}") from error
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
    return frame.fillna("").astype(str).apply(lambda column: column.str.strip())


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _refuse(f"The file is not UTF-8 text (first bad byte on line {line}); "
                      "save it as 'CSV UTF-8' and try again") from error
