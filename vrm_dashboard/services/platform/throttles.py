"""Throttles: how often one key (a client's address, an account, an e-mail domain) may do
something in a sliding window. The events live in the database, so every web worker counts
the same ones; only a digest of each key is stored, never an address or an e-mail.

A guard uses `take`, which counts the attempt and answers whether it fits in one step: checking
first and recording later would let parallel attempts all pass the check before any is counted."""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import ThrottleEvent, stored_id, utcnow
from vrm_dashboard.services.platform.errors import ServiceError

# Longer than any window below: the housekeeping job forgets events older than this.
KEEP = timedelta(days=1)


class TooManyAttempts(ServiceError):
    """Refused because a throttle's window is full; trying again later works."""


@dataclass(frozen=True)
class Limit:
    """At most `most` events per key within `window`."""

    scope: str
    most: int
    window: timedelta


def client_key(address: str) -> str:
    """The throttled unit of a network address: an IPv4 address, or an IPv6 /64 (one household
    or server gets a whole /64, so single IPv6 addresses would not limit anyone)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _digest(limit: Limit, key: str) -> str:
    return hashlib.sha256(f"{limit.scope}\x00{key.strip().lower()}".encode("utf-8", "replace")).hexdigest()


def _recent(session: Session, limit: Limit, digest: str, now: datetime, most: int) -> int:
    """How many of the key's events are in its window, counting no further than `most`."""
    recent = (select(col(ThrottleEvent.id))
              .where(col(ThrottleEvent.scope) == limit.scope, col(ThrottleEvent.key_digest) == digest,
                     col(ThrottleEvent.at) > now - limit.window)
              .limit(most).subquery())
    return int(session.execute(select(func.count()).select_from(recent)).scalar_one())


def exceeded(session: Session, limit: Limit, key: str, now: datetime | None = None) -> bool:
    """Whether `key` has used up its window (it may not act again yet). Only a reading: a guard
    takes a slot with `take` instead, which parallel attempts cannot slip past."""
    return _recent(session, limit, _digest(limit, key), now or utcnow(), limit.most) >= limit.most


def record(session: Session, limit: Limit, key: str, now: datetime | None = None) -> None:
    """Count one event for `key`."""
    session.add(ThrottleEvent(scope=limit.scope, key_digest=_digest(limit, key), at=now or utcnow()))
    session.flush()


@dataclass(frozen=True)
class Slot:
    """One attempt counted by `take`, which `give_back` un-counts."""

    event_id: int


def take(session: Session, limit: Limit, key: str, now: datetime | None = None) -> Slot | None:
    """Count this attempt for `key` if its window has room: the attempt's slot, or None when
    the window is full (and then nothing is counted, so a flood does not fill the table).

    The attempt is written before the window is counted, and attempts on one key queue until
    the one before commits, so N parallel attempts (several web workers) get at most the
    window's room between them. On SQLite the insert holds the database's write lock until
    commit. On PostgreSQL inserts do not wait for each other and a count does not see another
    transaction's uncommitted rows, so a transaction-scoped advisory lock on the key makes the
    next attempt wait, then count this one. Commit soon after: the lock is held until then."""
    now = now or utcnow()
    digest = _digest(limit, key)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_lock_number(digest))))
    event = ThrottleEvent(scope=limit.scope, key_digest=digest, at=now)
    session.add(event)
    session.flush()
    if _recent(session, limit, digest, now, limit.most + 1) > limit.most:
        session.delete(event)
        session.flush()
        return None
    return Slot(stored_id(event))


def give_back(session: Session, slot: Slot) -> None:
    """Un-count one attempt that turned out not to be what the throttle limits (a sign-in that
    succeeded, a sign-up refused by another window)."""
    session.execute(delete(ThrottleEvent).where(col(ThrottleEvent.id) == slot.event_id))


def _lock_number(digest: str) -> int:
    # pg_advisory_xact_lock takes a signed 64-bit number: the digest's first 8 bytes. Two keys
    # sharing one only make each other wait a moment.
    return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)


def forget(session: Session, limit: Limit, key: str) -> None:
    """Start `key` afresh (e.g. an account after a successful sign-in)."""
    session.execute(delete(ThrottleEvent).where(col(ThrottleEvent.scope) == limit.scope,
                                                col(ThrottleEvent.key_digest) == _digest(limit, key)))


def purge(session: Session, now: datetime | None = None) -> int:
    """Forget events older than every window."""
    result = session.execute(delete(ThrottleEvent).where(col(ThrottleEvent.at) < (now or utcnow()) - KEEP))
    # Session.execute is typed as returning a plain Result; a DELETE's is a CursorResult.
    assert isinstance(result, CursorResult)
    return result.rowcount or 0
