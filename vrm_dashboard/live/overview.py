"""The overview's hub: one per backend process, read by the overview screen and by
`GET /api/v1/overview` (which reports how many pages listen)."""
from __future__ import annotations

from vrm_dashboard.live.hub import LiveHub
from vrm_dashboard.services.reporting import overview

HUB: LiveHub[overview.Overview] = LiveHub(overview.signature, overview.compute)
