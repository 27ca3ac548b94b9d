"""Throttles: how often one key (a client's address, an account, an e-mail domain) may do
something in a sliding window. The events live in the database, so every web worker counts
the same ones; only a digest of each key is stored, never an address or an e-mail."""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import ThrottleEvent, utcnow
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


def exceeded(session: Session, limit: Limit, key: str, now: datetime | None = None) -> bool:
    """Whether `key` has used up its window (it may not act again yet)."""
    now = now or utcnow()
    recent = (select(col(ThrottleEvent.id))
              .where(col(ThrottleEvent.scope) == limit.scope, col(ThrottleEvent.key_digest) == _digest(limit, key),
                     col(ThrottleEvent.at) > now - limit.window)
              .limit(limit.most).subquery())
    return int(session.execute(select(func.count()).select_from(recent)).scalar_one()) >= limit.most


def record(session: Session, limit: Limit, key: str, now: datetime | None = None) -> None:
    """Count one event for `key`."""
    session.add(ThrottleEvent(scope=limit.scope, key_digest=_digest(limit, key), at=now or utcnow()))
    session.flush()


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
