"""The readers of files from outside hold their limits: the hardened XML parser, the confined
worker processes (memory, time, a crash), the XLSX zip bounds, the PDF page and stream limits,
and amounts that are not numbers."""
from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from tests.hostile_files import hostile_files
from vrm_dashboard.domain.activity_rules import ImportRefused
from vrm_dashboard.domain.money import MAX_MINOR_UNITS, Money, MoneyError, check_finite, to_minor_units
from vrm_dashboard.parsing import UnreadableDocument, parse_document, sandbox
from vrm_dashboard.parsing.xml_safety import HostileXml, XmlRefused, parse_xml
from vrm_dashboard.services.platform.tabular_files import check_zip_bounds
from vrm_dashboard.statements.entries import StatementError
from vrm_dashboard.statements.readers import read_statement


@pytest.fixture(scope="module")
def corpus():
    return {f.name: f for f in hostile_files()}


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE x [<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">]>',
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
])
@pytest.mark.parametrize("prolog", ["", '<?xml version="1.0"?>\n<!-- a comment -->\n'])
def test_a_doctype_is_refused_before_anything_is_expanded_or_loaded(doctype, prolog):
    with pytest.raises(HostileXml, match="DOCTYPE"):
        parse_xml(f"{prolog}{doctype}<x>&e;&l1;</x>".encode())
    # The same in UTF-16: the check reads the prolog in the document's own encoding.
    with pytest.raises(HostileXml, match="DOCTYPE"):
        parse_xml(f"\ufeff{prolog}{doctype}<x>a</x>".replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
                  .encode("utf-16-le"))


def test_a_doctype_behind_a_long_prolog_is_still_refused_and_nothing_is_read_from_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    padding = "<!--" + "x" * 1_100_000 + "-->"
    with pytest.raises(HostileXml):
        parse_xml(f'{padding}<!DOCTYPE x SYSTEM "file://{secret}"><x>a</x>'.encode())
    with pytest.raises(HostileXml):
        parse_xml(f'{padding}<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>'.encode())


def test_plain_xml_reads_and_broken_xml_is_refused_with_its_reason():
    assert parse_xml(b"<a><b>1</b></a>").findtext("b") == "1"
    with pytest.raises(XmlRefused, match="not well-formed") as refused:
        parse_xml(b"<a><b></a>")
    assert not isinstance(refused.value, HostileXml)


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _die() -> None:
    os._exit(3)


def test_a_reader_that_runs_out_of_memory_or_time_or_dies_costs_only_its_worker():
    assert sandbox.run_confined(_allocate, 64, seconds=30) == 64 * 1024 * 1024
    with pytest.raises(sandbox.ReaderLimit, match="memory"):
        sandbox.run_confined(_allocate, sandbox.MEMORY_LIMIT_BYTES // 1024 // 1024 + 64, seconds=30)
    started = time.monotonic()
    with pytest.raises(sandbox.ReaderLimit, match="longer than 1 seconds"):
        sandbox.run_confined(_sleep, 30, seconds=1)
    assert time.monotonic() - started < 10
    with pytest.raises(sandbox.ReaderLimit, match="stopped its reader"):
        sandbox.run_confined(_die, seconds=30)
    # The pool goes on with fresh workers.
    assert sandbox.run_confined(_sleep, 0, seconds=30) == 0


def test_pdf_bombs_are_refused_quickly_and_by_name(corpus):
    for name, reason in (("pages-100000.pdf", "more than 30 pages"), ("deflate-bomb.pdf", "inflates past"),
                         ("deflate-bomb-twice.pdf", "inflates past")):
        started = time.monotonic()
        with pytest.raises(UnreadableDocument, match=reason):
            parse_document(corpus[name].content, name)
        assert time.monotonic() - started < 20, name


@pytest.mark.parametrize("name", ["zeros-bomb.xlsx", "rows-bomb.xlsx", "rows-ratio.xlsx", "many-parts.xlsx",
                                  "size-lie.xlsx"])
def test_an_xlsx_bomb_is_refused_from_its_zip_directory(corpus, name):
    with pytest.raises(ImportRefused, match="unpacks to|compressed|parts"):
        check_zip_bounds(corpus[name].content)


def test_a_real_workbook_passes_the_zip_bounds(corpus):
    check_zip_bounds(corpus["formula-0.xlsx"].content)


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity", "1E+999999", "12345678901234567890",
                                  "10000000000000.00"])
def test_money_refuses_what_is_not_a_number_or_too_large_for_its_column(text):
    with pytest.raises(MoneyError, match="not a number|too large"):
        Money.parse(text, "EUR")
    with pytest.raises(MoneyError, match="not a number|too large"):
        to_minor_units(Decimal(text), "EUR")


def test_amounts_just_inside_the_bound_are_money():
    largest = Decimal(MAX_MINOR_UNITS - 1).scaleb(-2)
    assert Money.parse(str(largest), "EUR").minor == MAX_MINOR_UNITS - 1
    assert to_minor_units(Decimal("1234.565"), "EUR") == 123457
    assert check_finite(Decimal("-0.5")) == Decimal("-0.5")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1E+999999", "12345678901234567890"])
def test_statement_amounts_that_are_not_money_are_refused_in_every_format(amount):
    camt = (f'<Document><Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
            "<BookgDt><Dt>2026-12-02</Dt></BookgDt></Ntry></Document>").encode()
    csv = f"booking_date,amount,currency\n2026-12-02,{amount},EUR\n".encode()
    for content in (camt, csv):
        with pytest.raises(StatementError, match="not a number|too large|not an amount"):
            read_statement(content)


class _BrokenPool:
    """A pool whose workers are gone: pebble answers BrokenProcessPool to every job."""

    active = True
    stopped = False

    def schedule(self, *args: object, **kwargs: object) -> None:
        raise sandbox.BrokenProcessPool("the workers died")

    def stop(self) -> None:
        self.stopped = True

    def join(self, timeout: float | None = None) -> None:
        pass


def test_a_broken_reader_pool_is_stopped_and_replaced_and_the_document_still_read(monkeypatch):
    broken = _BrokenPool()
    monkeypatch.setattr(sandbox, "_pool", broken)
    assert sandbox.run_confined(_sleep, 0, seconds=30) == 0
    assert broken.stopped and sandbox._pool is not broken


def test_readers_that_cannot_start_at_all_answer_the_api_with_503(monkeypatch):
    from fastapi.testclient import TestClient

    from vrm_dashboard.api.app import build_api

    api = build_api()

    @api.get("/test-readers")
    def reads() -> None:
        sandbox.run_confined(_sleep, 0, seconds=30)

    monkeypatch.setattr(sandbox, "_workers", lambda: _BrokenPool())
    response = TestClient(api).get("/test-readers")
    assert response.status_code == 503 and response.headers["retry-after"]
    assert "try again" in response.json()["detail"]


# --- Issue 18 (7): a document that breaks its reader pool, and pools replaced under a job ----------

class _Unpicklable:
    """Pickles in the worker, but cannot be unpickled here: pebble then answers
    BrokenProcessPool("Unpicklable object from worker") and its pool is broken."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse_to_unpickle, ()


def _refuse_to_unpickle() -> None:
    raise TypeError("not here")


def _breaks_its_pool() -> _Unpicklable:
    return _Unpicklable()


def _raises_runtime_error() -> None:
    raise RuntimeError("the reader's own error")


@pytest.fixture
def own_pool(monkeypatch):
    """The test's pools are its own and are stopped after it, the module's pool untouched."""
    monkeypatch.setattr(sandbox, "_pool", None)
    yield
    if sandbox._pool is not None:
        sandbox._pool.stop()
        sandbox._pool.join(timeout=5)


def test_a_document_that_breaks_every_pool_is_refused_and_the_readers_go_on(own_pool):
    with pytest.raises(sandbox.ReaderLimit, match="broke its reader"):
        sandbox.run_confined(_breaks_its_pool, seconds=30)
    assert sandbox.run_confined(_sleep, 0, seconds=30) == 0


class _ReplacedPool:
    """A pool another thread found broken and replaced while this job was on it."""

    active = True

    def __init__(self, error: BaseException, at_schedule: bool) -> None:
        self.error, self.at_schedule = error, at_schedule

    def schedule(self, *args: object, **kwargs: object) -> _ReplacedPool:
        sandbox._pool = None  # the other thread's _replace_broken
        if self.at_schedule:
            raise self.error
        return self

    def result(self) -> None:
        raise self.error

    def stop(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass


@pytest.mark.parametrize("error, at_schedule", [
    (RuntimeError("The Pool is not active"), True),
    (sandbox.CancelledError(), False),
], ids=["not-active", "cancelled"])
def test_a_job_whose_pool_another_thread_replaced_is_read_on_the_fresh_pool(own_pool, error, at_schedule):
    sandbox._pool = _ReplacedPool(error, at_schedule)
    assert sandbox.run_confined(_sleep, 0, seconds=30) == 0


def test_a_runtime_error_of_the_reader_itself_is_not_retried(own_pool):
    with pytest.raises(RuntimeError, match="the reader's own error"):
        sandbox.run_confined(_raises_runtime_error, seconds=30)


# --- end of issue 18 (7) ----------------------------------------------------------------------------
