"""Untrusted PDFs and spreadsheets are read in worker processes, never in the app's own: each
worker has its address space capped (RLIMIT_AS) and each job a deadline. A decompression bomb
or a file that sends a reader into a loop costs one worker, which is replaced, and the app,
the API and the scheduler keep answering.

The workers are started once ("spawn": a fresh interpreter, none of the app's threads or
connections) and reused, so a document costs one round trip of its bytes, not a new process.

A pool whose workers died is replaced and the document tried once more. A document that breaks
the fresh pool too is at fault when a trivial job still runs on the next one: it is refused
(ReaderLimit) like any other hostile file, so a mailbox or a sync never waits on it forever.
ReadersUnavailable is kept for readers that cannot run anything at all."""
from __future__ import annotations

import multiprocessing
import resource
import threading
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, TypeVar

from pebble import ProcessExpired, ProcessPool

T = TypeVar("T")

# Reading a 30-page PDF or a large spreadsheet stays well under this; a bomb reaches it in a second.
MEMORY_LIMIT_BYTES = 2 * 1024**3
# One per process: the app parses on its event loop, one document at a time, and a second
# worker would pay its own start-up and caches (the parse benchmark ran a third slower with two).
WORKERS = 1
# A worker is replaced after this many documents, so nothing a reader caches or leaks piles up.
JOBS_PER_WORKER = 500
# The health check after a document broke two pools: a fresh worker starts in about half a
# second, so this is ample and still bounded on a loaded machine.
HEALTH_CHECK_SECONDS = 30
# How often one call moves to a fresh pool because another thread replaced the one it was using.
# Each replacement means some document broke a pool, so this bounds a call under a hostile stream.
MAX_REPLACED_UNDER_US = 3

_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


class ReaderLimit(Exception):
    """Reading a file passed a limit (memory, time) or crashed its worker; the message says which."""


class ReadersUnavailable(RuntimeError):
    """The worker processes could not be started: no fault of the file being read."""


def _confine(memory_bytes: int) -> None:
    """Runs in each worker before its first job."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _workers() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:  # not yet started, or broken
            _pool = ProcessPool(max_workers=WORKERS, max_tasks=JOBS_PER_WORKER, initializer=_confine,
                                initargs=(MEMORY_LIMIT_BYTES,), context=multiprocessing.get_context("spawn"))
        return _pool


def _replace_broken(broken: ProcessPool) -> None:
    """Stop a pool whose workers died (its manager threads and any worker left), so the next
    call starts a fresh one rather than leaving the old one's threads and processes behind."""
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    try:
        broken.stop()
        broken.join(timeout=5)
    except Exception:  # noqa: BLE001 - a pool already gone has nothing left to stop
        pass


def run_confined(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """`function(*args)` in a confined worker: its result, or the exception it raised there, or
    ReaderLimit when it ran out of memory or time, its worker died, or it broke its pool twice
    while the readers themselves still work. `function` and its arguments must pickle (a
    module-level function and plain values). A pool found broken is replaced and the document
    tried once more on a fresh one; ReadersUnavailable only when a fresh pool cannot run even
    a trivial job."""
    breaks = replaced_under_us = 0
    while True:
        pool = _workers()
        try:
            return _result(pool, function, args, seconds)
        except BrokenProcessPool as broken:
            _replace_broken(pool)
            breaks += 1
            if breaks == 2:
                _check_readers(broken)
                raise ReaderLimit("broke its reader") from None
        except (RuntimeError, CancelledError):
            # Another thread's document broke this pool and that thread stopped it while our job
            # was queued or running ("The Pool is not active", or our job cancelled): no fault of
            # this document, which is tried on the fresh pool. Raised by a pool still current,
            # or by the function itself, it is the caller's.
            if _pool is pool or replaced_under_us == MAX_REPLACED_UNDER_US:
                raise
            replaced_under_us += 1


def _check_readers(broken: BrokenProcessPool) -> None:
    """After a document broke two pools: ReadersUnavailable unless a fresh pool still runs a
    trivial job, in which case the document, not the readers, is at fault."""
    pool = _workers()
    try:
        _result(pool, len, (b"",), HEALTH_CHECK_SECONDS)
    except Exception as error:  # noqa: BLE001 - whatever stops a trivial job, the readers are at fault
        if isinstance(error, BrokenProcessPool):
            _replace_broken(pool)
        raise ReadersUnavailable(f"The document readers could not be started: {broken}") from None


def _result(pool: ProcessPool, function: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
    try:
        return pool.schedule(function, args, timeout=seconds).result()
    except TimeoutError:  # pebble's deadline: the worker was stopped and is replaced
        raise ReaderLimit(f"took longer than {seconds:g} seconds to read") from None
    except MemoryError:
        raise ReaderLimit(f"needs more than {MEMORY_LIMIT_BYTES // 1024**2} MB of memory to read "
                          "(a compression bomb?)") from None
    except ProcessExpired as expired:
        raise ReaderLimit(f"stopped its reader (exit code {expired.exitcode})") from None


def start() -> None:
    """Start the workers now, without waiting for them (at app or scheduler start-up), so the
    first document read does not pay their start-up of about half a second."""
    _workers().schedule(len, (b"",))
