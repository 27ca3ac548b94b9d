"""A payment provider added through the rail registry alone (rails.registry), with no change
to the payout executor: it is handed its transfers, its confirmations settle them, and a lost
answer or a dead run never makes it pay twice."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.helpers import DUE_DAY
from tests.payout_book import approved_book, use_payout_environment
from vrm_dashboard.db.models import Invoice, PaymentTransaction, Payout
from vrm_dashboard.domain.payout_rules import Rail
from vrm_dashboard.rails import registry
from vrm_dashboard.rails.base import OnlinePayoutRail, ProviderPayment, ProviderTimeout, Transfer
from vrm_dashboard.services.payouts import execution

TODAY = DUE_DAY


class Killed(BaseException):
    """The run's process dies (kill -9) in the middle of the provider's call."""


class FakeProvider:
    """A provider that is not the sandbox: its ledger in memory, a payment per idempotency key.
    `lose_answers` requests take their payments and lose the answer (a timeout after taking);
    `die_in` requests take them and the run dies before it hears the answer."""

    confirms_itself = True

    def __init__(self, name: str = Rail.PROVIDER.value, lose_answers: int = 0, die_in: int = 0) -> None:
        self.name = name
        self.ledger: dict[str, ProviderPayment] = {}
        self.submitted: list[str] = []  # every key of every request, repeats included
        self.lose_answers, self.die_in = lose_answers, die_in

    def submit(self, transfers: Sequence[Transfer]) -> Mapping[str, ProviderPayment | str]:
        answers: dict[str, ProviderPayment | str] = {}
        for t in transfers:
            self.submitted.append(t.idempotency_key)
            answers[t.idempotency_key] = self.ledger.setdefault(t.idempotency_key, ProviderPayment(
                f"fake-{len(self.ledger) + 1}", t.idempotency_key, t.amount_minor, t.currency, "accepted"))
        if self.die_in:
            self.die_in -= 1
            raise Killed
        if self.lose_answers:
            self.lose_answers -= 1
            raise ProviderTimeout("The answer was lost")
        return answers

    def lookup_many(self, keys: Sequence[str]) -> Mapping[str, ProviderPayment]:
        return {key: self.ledger[key] for key in keys if key in self.ledger}

    def pay_everything(self) -> None:
        self.ledger = {key: ProviderPayment(p.payment_id, key, p.amount_minor, p.currency, "paid")
                       for key, p in self.ledger.items()}


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    return tmp_path


def _provider_transaction(session, rail: str = Rail.PROVIDER.value) -> PaymentTransaction:
    session.expire_all()
    return session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == rail)).one()


def _later(session) -> None:
    """Time passes: a transfer waiting for its retry backoff is due."""
    session.exec(update(PaymentTransaction).values(next_attempt_at=None))
    session.commit()


def test_the_fake_is_a_payout_rail_the_executor_can_take_online():
    assert isinstance(FakeProvider(), OnlinePayoutRail)


def test_a_provider_registered_in_the_registry_is_paid_through_and_settles_once_after_a_lost_answer(session, env):
    book = approved_book(session)
    fake = FakeProvider(lose_answers=1)
    rails = registry.payout_rails(fake)
    assert rails[Rail.PROVIDER.value] is fake and set(rails) == {r.value for r in Rail}

    execution.execute_payouts(session, today=TODAY, rails=rails)
    transaction = _provider_transaction(session)
    key = transaction.idempotency_key
    # It took the payment, the answer was lost: waiting to be tried again under the same key.
    assert fake.submitted == [key] and list(fake.ledger) == [key]
    assert (transaction.status, transaction.submitted_at) == ("new", None)

    _later(session)
    execution.execute_payouts(session, today=TODAY, rails=rails)
    transaction = _provider_transaction(session)
    assert fake.submitted == [key, key] and len(fake.ledger) == 1  # the same key again: one payment
    assert transaction.status == "processing" and transaction.submitted_at is not None

    fake.pay_everything()
    execution.execute_payouts(session, today=TODAY, rails=rails)
    transaction = _provider_transaction(session)
    assert (transaction.status, transaction.confirmation_reference) == ("paid", "fake-1")
    assert {session.get(Invoice, i.id).status for i in book.invoices["provider"]} == {"paid"}
    assert {p.status for p in session.exec(select(Payout).where(Payout.rail == "provider")).all()} == {"paid"}
    # Nothing more to do for it, and the other rails ran as ever.
    execution.execute_payouts(session, today=TODAY, rails=rails)
    assert fake.submitted == [key, key] and len(fake.ledger) == 1
    by_rail = {t.rail: t.status for t in session.exec(select(PaymentTransaction)).all()}
    assert by_rail == {"sepa": "processing", "ach": "processing", "manual": "processing", "provider": "paid"}


def test_a_run_that_died_inside_the_providers_call_is_recovered_by_lookup_not_paid_again(session, env):
    approved_book(session)
    fake = FakeProvider(die_in=1)
    with pytest.raises(Killed):
        execution.execute_payouts(session, today=TODAY, rails=registry.payout_rails(fake))
    session.rollback()
    transaction = _provider_transaction(session)
    key = transaction.idempotency_key
    # The claim was committed before the call; what the provider did is not known here.
    assert (transaction.status, transaction.submitted_at, fake.submitted) == ("processing", None, [key])

    fake.pay_everything()
    execution.execute_payouts(session, today=TODAY, rails=registry.payout_rails(fake))
    transaction = _provider_transaction(session)
    # Looked up, found taken and paid: never submitted again.
    assert fake.submitted == [key] and len(fake.ledger) == 1
    assert (transaction.status, transaction.confirmation_reference) == ("paid", "fake-1")


def test_a_rail_of_a_new_id_is_handed_the_transfers_stored_under_it(session, env):
    """A rail the executor has never heard of: its payouts (as a new payment method would map
    them) reach it, and nothing of it reaches the sandbox provider."""
    book = approved_book(session)
    session.exec(update(Payout).where(Payout.rail == Rail.PROVIDER.value).values(rail="newpay"))
    session.commit()
    fake = FakeProvider(name="newpay")
    execution.execute_payouts(session, today=TODAY, rails=registry.payout_rails(fake))
    fake.pay_everything()
    execution.execute_payouts(session, today=TODAY, rails=registry.payout_rails(fake))
    transaction = _provider_transaction(session, "newpay")
    assert transaction.status == "paid" and fake.submitted == [transaction.idempotency_key]
    assert {session.get(Invoice, i.id).status for i in book.invoices["provider"]} == {"paid"}
    assert not (env / "provider.db").exists() or registry.sandbox_provider().payments() == []
