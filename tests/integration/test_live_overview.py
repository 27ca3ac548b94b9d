"""The live overview: one hub computes the figures once per change for every listening page,
sees changes made by other processes, and stops when nobody listens."""
import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_user
from vrm_dashboard.db.models import Invoice
from vrm_dashboard.demo import seeder as demo_data
from vrm_dashboard.live.hub import LiveHub
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.errors import PermissionDenied
from vrm_dashboard.services.reporting import overview


def test_one_computation_per_change_however_many_pages_listen(db):
    demo_data.seed(db, vendors=5, invoices=60, seed=4)
    hub = LiveHub(overview.signature, overview.compute, poll_seconds=0.05)

    async def scenario() -> None:
        pages = [await hub.subscribe() for _ in range(20)]
        assert hub.computations == 1 and {v for v, _ in pages} == {1}
        waiting = [asyncio.create_task(hub.next(1, timeout=5)) for _ in pages]
        await asyncio.sleep(0.2)
        assert hub.computations == 1  # nothing changed: nothing computed again
        with Session(db) as session:  # another process's committed change
            audit.record(session, SYSTEM, "test.change", "test", 1)
            session.commit()
        results = await asyncio.gather(*waiting)
        assert all(r is not None and r[0] == 2 for r in results)
        assert hub.computations == 2
        for _ in pages:
            hub.unsubscribe()
        await asyncio.sleep(0.2)
        assert hub.listeners == 0 and hub._task is None

    # In a thread of its own: the suite may already have an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_the_overview_needs_the_payout_view_permission(db):
    with Session(db) as session:
        vendor = make_user(session, "vendor")
        with pytest.raises(PermissionDenied):
            overview.overview(session, vendor)
        viewer = make_user(session, "viewer")
        figures = overview.overview(session, viewer)
        assert [g.key for g in figures.payout_groups] == ["awaiting", "processing", "paid", "failed"]


def test_a_page_is_sent_only_what_changed(db):
    import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
    from tests.helpers import ui_state as _state
    from vrm_dashboard.ui.states.overview import OverviewState, display_of

    demo_data.seed(db, vendors=5, invoices=60, seed=4)
    with Session(db) as session:
        first = overview.compute(session)
        second = overview.compute(session)
        # The card counts and sums the invoices waiting for approval, read off the invoices themselves.
        pending = session.exec(select(Invoice.currency, func.count(), func.sum(Invoice.total_minor))
                               .where(Invoice.status == "pending").group_by(Invoice.currency)).all()
    assert first.pending_count == sum(n for _c, n, _a in pending) > 0
    assert first.pending_amounts == {c: a for c, _n, a in pending}
    assert display_of(101, first) is display_of(101, first)  # shaped once per version
    state = _state(OverviewState)
    state._show(101, first)
    state.dirty_vars.clear()
    state._show(102, second)
    sent = lambda: {name for name in state.dirty_vars if not name.startswith("_")}  # noqa: E731 (backend vars stay)
    # At most the time of computation differs: nothing else is sent again.
    assert sent() <= {"updated_at"}
    state.dirty_vars.clear()
    state._show(103, replace(second, paid_this_month_count=second.paid_this_month_count + 1))
    assert "cards" in sent() and sent() <= {"cards", "updated_at"}
