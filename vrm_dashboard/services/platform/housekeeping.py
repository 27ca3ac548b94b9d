"""Small nightly chores that keep the database tidy and its rollups honest."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import CursorResult, delete, or_
from sqlmodel import Session, col

from vrm_dashboard.db.models import LoginSession, utcnow
from vrm_dashboard.services.invoices import flags as invoice_flags, rollup as invoice_rollup
from vrm_dashboard.services.platform import export_files, throttles


def purge_expired_sessions(session: Session, keep_days: int = 7) -> int:
    """Forget sign-in sessions that ended more than `keep_days` ago, and sign-in and sign-up
    throttle counts older than any throttle's window."""
    purged = throttles.purge(session)
    cutoff = utcnow() - timedelta(days=keep_days)
    result = session.execute(
        delete(LoginSession).where(
            or_(col(LoginSession.expires_at) < cutoff, col(LoginSession.revoked_at) < cutoff)
        )
    )
    # Session.execute is typed as returning a plain Result; a DELETE's is a CursorResult.
    assert isinstance(result, CursorResult)
    return (result.rowcount or 0) + purged


def rebuild_invoice_rollup(session: Session) -> int:
    """Recompute every vendor's rollup from the invoices (a safety net, not the normal path)."""
    invoice_rollup.refresh(session)
    return 1


def purge_old_exports(_session: Session) -> int:
    """Delete export files older than a day."""
    return export_files.purge_old()


def reconcile_all_invoices(session: Session) -> int:
    """Recheck every invoice against its source, so a changed tolerance applies to all."""
    invoice_flags.reconcile(session)
    return 1
