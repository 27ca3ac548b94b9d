"""Payment reconciliation on the Smart Payouts screen: bank statement and exchange-rate
uploads, and the statement lines a person must look at."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.payouts import bank_statements, fx_rates
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.uploads import file_name, read_within, upload_refusal

log = logging.getLogger(__name__)

# The most of one file each upload reads (the services set no limit of their own). A month's
# CAMT.053 or MT940 statement of a busy account is a few MB; the ECB's whole rate history about 2 MB.
MAX_STATEMENT_BYTES = 20 * 1024 * 1024
MAX_RATE_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class StatementException:
    """A bank statement line that needs a person to look at it."""

    statement: str = ""
    date: str = ""
    amount: str = ""
    reference: str = ""
    counterparty: str = ""
    outcome: str = ""
    note: str = ""


class ReconciliationState(SessionState):
    exception_rows: list[StatementException] = []
    messages: list[str] = []
    # Ticked by the person importing: rates that jump past payouts.max_rate_jump_percent are stored.
    confirm_rate_jumps: bool = False

    @rx.event
    def set_confirm_rate_jumps(self, value: bool) -> None:
        self.confirm_rate_jumps = bool(value)

    @rx.event
    @page_load
    def load(self, _actor: Actor) -> None:
        self._refresh()

    def _refresh(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                rows = bank_statements.exceptions(session, actor)
        except ServiceError:
            self.exception_rows = []
            return
        self.exception_rows = [StatementException(
            statement=r.statement, date=r.booking_date, amount=fmt.money(r.amount_minor, r.currency),
            reference=r.reference, counterparty=r.counterparty,
            outcome=bank_statements.OUTCOME_LABELS.get(r.outcome, r.outcome), note=r.note,
        ) for r in rows]

    async def _each(self, files: list[rx.UploadFile], limit: int, work) -> None:  # type: ignore[no-untyped-def]
        refused = upload_refusal(self, Action.PAYOUT_MANAGE)
        if refused:
            self.messages = [f"{file_name(upload)}: refused, {refused}" for upload in files]
            return
        messages = []
        for upload in files:
            name = file_name(upload)
            content = await read_within(upload, limit)
            if content is None:
                messages.append(f"{name}: refused, the file is larger than {limit // 1_048_576} MB")
                continue

            def run(content: bytes = content, name: str = name) -> str:
                with self._acting(Action.PAYOUT_MANAGE) as (session, actor):
                    return str(work(session, actor, name, content))

            try:
                # A statement of many lines is parsed and matched for seconds: off the event loop.
                messages.append(f"{name}: {await asyncio.to_thread(run)}")
            except FieldErrors as exc:
                messages.append(f"{name}: refused, " + "; ".join(exc.errors.values()))
            except ServiceError as exc:
                messages.append(f"{name}: refused, {exc}")
            except Exception:  # noqa: BLE001 - one broken file must not stop the others
                log.exception("payment reconciliation upload %s failed", name)
                messages.append(f"{name}: failed, the file could not be read; nothing of it was stored")
        self.messages = messages
        self._refresh()

    @rx.event
    async def upload_statements(self, files: list[rx.UploadFile]) -> None:
        def work(session, actor, name, content) -> str:  # type: ignore[no-untyped-def]
            report = bank_statements.import_statement(session, actor, name, content)
            outcomes = ", ".join(f"{n} {bank_statements.OUTCOME_LABELS[o].lower()}"
                                 for o, n in sorted(report.outcomes.items()))
            return f"{report.lines} lines ({report.format}): {outcomes}"
        await self._each(files, MAX_STATEMENT_BYTES, work)

    @rx.event
    async def upload_rates(self, files: list[rx.UploadFile]) -> None:
        confirm = self.confirm_rate_jumps

        def work(session, actor, name, content) -> str:  # type: ignore[no-untyped-def]
            stored = fx_rates.import_rates(session, actor, content, name, confirm_jump=confirm)
            return f"{stored} exchange rates stored"
        await self._each(files, MAX_RATE_FILE_BYTES, work)
        self.confirm_rate_jumps = False  # a confirmation covers the files it was given for
