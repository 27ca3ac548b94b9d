"""One watcher of the database for every open overview in this backend process.

While at least one page listens, the hub reads the change signature (three index lookups)
four times a second. When it moves, the hub computes the figures once, in a worker thread, and
wakes every listening page, which only copies them. So a change costs one computation
however many managers look, and a quiet database costs one tiny query per quarter second."""
from __future__ import annotations

import asyncio
from typing import Callable, Generic, TypeVar

from sqlmodel import Session

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.db.tenancy import Scope, scope_to, unscope

T = TypeVar("T")
POLL_SECONDS = 0.25


class LiveHub(Generic[T]):
    def __init__(self, signature: Callable[[Session], object], compute: Callable[[Session], T],
                 poll_seconds: float = POLL_SECONDS, scope: Scope | None = None) -> None:
        """`scope`: whose records the figures are computed over (db/tenancy.py); None for the
        whole installation's."""
        self._signature, self._compute, self.poll_seconds = signature, compute, poll_seconds
        self.scope = scope
        self.snapshot: T | None = None
        self.version = 0
        self.computations = 0
        self.listeners = 0
        self._seen: object = None
        self._changed: asyncio.Condition | None = None
        self._task: asyncio.Task | None = None

    def _read(self) -> tuple[object, T | None]:
        with session_scope(read_only=True) as session:
            if self.scope is not None:
                scope_to(session, self.scope)
            else:
                unscope(session)
            seen = self._signature(session)
            if seen == self._seen and self.snapshot is not None:
                return seen, None
            return seen, self._compute(session)

    async def _refresh(self) -> None:
        seen, figures = await asyncio.to_thread(self._read)
        if figures is None:
            return
        self._seen, self.snapshot = seen, figures
        self.version += 1
        self.computations += 1
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _watch(self) -> None:
        try:
            while self.listeners > 0:
                await asyncio.sleep(self.poll_seconds)
                try:
                    await self._refresh()
                except Exception:  # noqa: BLE001 - a failed read is tried again next tick
                    continue
        finally:
            self._task = None

    async def subscribe(self) -> tuple[int, T]:
        """Start listening: the current figures (read now if nobody was listening)."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        self.listeners += 1
        if self._task is None:
            self._task = asyncio.create_task(self._watch())
            # After a quiet spell the figures may be stale; the force makes sure they are read.
            self._seen = None
            await self._refresh()
        elif self.snapshot is None:
            await self.next(0, timeout=60)
        assert self.snapshot is not None
        return self.version, self.snapshot

    def unsubscribe(self) -> None:
        self.listeners = max(0, self.listeners - 1)

    async def next(self, seen_version: int, timeout: float) -> tuple[int, T] | None:
        """The figures once they are newer than `seen_version`, or None after `timeout`."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version > seen_version), timeout)
            except asyncio.TimeoutError:
                return None
        assert self.snapshot is not None
        return self.version, self.snapshot
