"""The audit log searched by who, what, which object and when, and exported whole."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from tests.helpers import make_user
from vrm_dashboard.services.platform import audit, audit_queries
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied


def test_search_by_user_action_object_and_date_and_export(db):
    with Session(db) as session:
        finance = make_user(session, "finance_manager", "ann@example.com")
        audit.record(session, finance, "invoice.approve", "invoice", 7, before={"status": "pending"},
                     after={"status": "approved"})
        audit.record(session, finance, "invoice.reject", "invoice", 8)
        audit.record(session, Actor.system("execute_payouts"), "payout.paid", "payout", 3)
        session.commit()
        query = audit_queries.AuditQuery
        search = lambda **kw: audit_queries.search(session, finance, query(**kw))  # noqa: E731
        assert [e.action for e in search(user="ann@").rows] == ["invoice.reject", "invoice.approve"]
        assert [e.object_id for e in search(action="invoice.", object_id="7").rows] == ["7"]
        assert [e.actor_label for e in search(user="system:execute").rows] == ["system:execute_payouts"]
        today = date.today()
        assert search(since=today.isoformat(), until=today.isoformat(), object_type="payout").total_rows == 1
        assert search(until=(today - timedelta(days=1)).isoformat(), action="invoice.").total_rows == 0
        with pytest.raises(FieldErrors):
            search(since="yesterday")
        out = io.BytesIO()
        assert audit_queries.export_xlsx(session, finance, query(action="invoice."), out) == 2
        rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
        assert rows[0][:3] == ("When (UTC)", "Who", "Action") and rows[2][2] == "invoice.approve"
        assert '"approved"' in rows[2][6]
        viewer = make_user(session, "viewer")
        with pytest.raises(PermissionDenied):
            audit_queries.search(session, viewer, query())
