"""The second wall: PostgreSQL's row-level security holds the same scope as db/tenancy.py.

The first wall (tenancy's hook on ORM statements) is code; a statement that never passes it
(`text()`, a raw connection, a Core table) would see every organization's rows. So on
PostgreSQL every transaction of a scoped session also tells the database whose rows it may
touch, and the policies of migration 0012 refuse the rest there:

- `vrm.scope` is set, for this transaction only, to the scope's organization ids ("" for a
  scope of nobody, which the policies read as no organization at all);
- the transaction runs as the `vrm_tenant` role. The policies bind only roles that neither own
  the tables nor bypass row-level security, which the account the app connects with usually
  does (it ran the migrations; the tests connect as the superuser), hence the switch.

Both are transaction-local (`set_config(..., true)`): a pooled connection carries nothing into
its next transaction, and a session's next transaction is set up afresh when it begins. A scope
that changes inside a transaction (the API and the pages learn who acts from the same
transaction that then serves them: api/dependencies.py, ui/states/session.py `_acting`) takes
effect at once. An unscoped session (the system's) and a scope of every organization (a
platform admin) run as the connecting account, so RLS does not bind them; SQLite has no RLS.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from vrm_dashboard.db.tenancy import Scope, on_scope_change, scope_of

TENANT_ROLE = "vrm_tenant"
SCOPE_SETTING = "vrm.scope"

# What the current transaction's connection was last told: the ids (a str) or None for "as the
# connecting account". Absent between transactions.
_APPLIED = "vrm_row_security_applied"
# What each open savepoint started with: a savepoint rolled back undoes the settings made in it.
_AT_SAVEPOINT = "vrm_row_security_savepoints"

_SET = text(f"SELECT set_config('{SCOPE_SETTING}', :ids, true), set_config('role', :role, true)")
# PostgreSQL's "current transaction is aborted": nothing runs in it until it is rolled back.
_FAILED_TRANSACTION = "25P02"
# 'none' is SET ROLE NONE: back to the connecting account for the rest of the transaction.
_AS_ACCOUNT = "none"


def _wall(scope: Scope | None) -> str | None:
    """The organization ids the database holds the session to; None: it is not held."""
    if scope is None or scope.organizations is None:
        return None
    return ",".join(str(i) for i in sorted(scope.organizations))


def _is_postgresql(session: Session) -> bool:
    try:
        return session.get_bind().dialect.name == "postgresql"
    except Exception:  # noqa: BLE001 - a session with no bind yet has nothing to set
        return False


def _tell(connection: Connection, session: Session, wall: str | None) -> None:
    if wall is None:
        connection.execute(_SET, {"ids": "", "role": _AS_ACCOUNT})
    else:
        connection.execute(_SET, {"ids": wall, "role": TENANT_ROLE})
    session.info[_APPLIED] = wall


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    if transaction.nested:
        # Inside a savepoint the transaction's settings hold; remember them in case it rolls back.
        session.info.setdefault(_AT_SAVEPOINT, {})[transaction] = (connection, session.info.get(_APPLIED))
        return
    wall = _wall(scope_of(session))
    if wall is None:
        # A new transaction starts as the connecting account: nothing to say.
        session.info[_APPLIED] = None
    else:
        _tell(connection, session, wall)


@event.listens_for(Session, "after_soft_rollback")
def _on_savepoint_rollback(session: Session, previous: SessionTransaction) -> None:
    saved: dict[SessionTransaction, tuple[Connection, str | None]] = session.info.get(_AT_SAVEPOINT, {})
    if previous not in saved:
        return
    # The database is back where the savepoint began; if the scope changed inside it, say it again
    # (on the connection: the session refuses work while its savepoint's `with` block unwinds).
    connection, reverted = saved.pop(previous)
    session.info[_APPLIED] = reverted
    wall = _wall(scope_of(session))
    if wall != reverted and connection.in_transaction() and not connection.invalidated:
        _tell(connection, session, wall)


@event.listens_for(Session, "after_transaction_end")
def _on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_APPLIED, None)
        session.info.pop(_AT_SAVEPOINT, None)


def _sync(session: Session, scope: Scope | None) -> None:
    """Bring the open transaction in line with `scope`; one that has not begun yet is set up
    when it begins (`_on_begin`)."""
    # A transaction that failed runs nothing more until it is rolled back, and the next one is set
    # up afresh: a scope put back after the failure (looking_past_scope's `finally`) must not hide
    # the failure behind one of its own.
    if not session.in_transaction() or not session.is_active or not _is_postgresql(session):
        return
    wall = _wall(scope)
    # May begin the connection's transaction, which `_on_begin` sets up with this very scope.
    connection = session.connection()
    if _APPLIED not in session.info or session.info[_APPLIED] != wall:
        try:
            _tell(connection, session, wall)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != _FAILED_TRANSACTION:
                raise


def _on_scope_change(session: Session, scope: Any) -> None:
    _sync(session, scope if isinstance(scope, Scope) else None)


on_scope_change(_on_scope_change)
