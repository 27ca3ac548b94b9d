"""The overview's hubs: one per organization scope per backend process, read by the overview
screen and by `GET /api/v1/overview` (which reports how many pages listen). Managers of one
organization share one hub; another organization's figures are never computed into theirs."""
from __future__ import annotations

import threading

from vrm_dashboard.db.tenancy import Scope
from vrm_dashboard.live.hub import LiveHub
from vrm_dashboard.services.reporting import overview

_HUBS: dict[Scope, LiveHub[overview.Overview]] = {}
_lock = threading.Lock()


def hub_for(scope: Scope) -> LiveHub[overview.Overview]:
    """The hub computing the figures of `scope`'s organizations (made on first use)."""
    with _lock:
        hub = _HUBS.get(scope)
        if hub is None:
            hub = _HUBS[scope] = LiveHub(overview.signature, overview.compute, scope=scope)
        return hub


def listening() -> tuple[int, int]:
    """Pages listening in this process, and the computations made for them, over every hub."""
    with _lock:
        hubs = list(_HUBS.values())
    return sum(h.listeners for h in hubs), sum(h.computations for h in hubs)
