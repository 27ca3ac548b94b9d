"""The money path's invariants hold over random sequences of steps (issue 19): see
tests/money_model.py for the steps and the invariants. Bounded to fit `make test`; `python -m
bench soak` runs many more examples."""
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from sqlmodel import select

from tests import money_model
from tests.money_model import MoneyModel, bound, postgres_reset, sqlite_reset
from tests.payout_book import use_payout_environment
from vrm_dashboard.db.models import Invoice, PaymentTransaction

BOUNDED = settings(max_examples=20, stateful_step_count=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _machine(db, request, monkeypatch, tmp_path) -> type[MoneyModel]:
    use_payout_environment(monkeypatch, tmp_path)
    url = db.url.render_as_string(hide_password=False)
    if db.dialect.name == "sqlite":
        reset = sqlite_reset(url, request.getfixturevalue("sqlite_template"))
    else:
        reset = postgres_reset(url)
    return bound(reset, tmp_path / "examples")


def test_the_money_path_holds_its_invariants_over_random_steps(db, request, monkeypatch, tmp_path):
    machine = _machine(db, request, monkeypatch, tmp_path)
    run_state_machine_as_test(machine, settings=BOUNDED)
    assert machine.examples >= 20 and machine.steps >= 200


def test_a_change_of_bank_details_while_a_provider_transfer_awaits_its_retry_holds_it(db, request, monkeypatch,
                                                                                        tmp_path):
    monkeypatch.setattr(money_model, "CHANGE_AFTER_CLEARING_HOLDS", True)
    model = _machine(db, request, monkeypatch, tmp_path)()
    try:
        model.settings(payout_approval=False)
        model.create_invoice("provider", 10_000, "finance")
        model.work_the_queue(1)  # the clerk submits it
        model.work_the_queue(2)  # an approver approves it (below the two-approver threshold)
        assert [i.status for i in model.session.exec(select(Invoice)).all()] == ["approved"]
        model.run_payouts(failure=0, timeout=200, seed=0)  # times out before the provider takes it
        assert [t.status for t in model.session.exec(select(PaymentTransaction)).all()] == ["new"]
        model.change_bank_details("provider", "clerk")
        model.time_passes("sepa")  # the retry is due; the provider vendor's cooling-off is not over
        model.run_payouts(failure=0, timeout=0, seed=0)
        # Never sent to the new account within the cooling-off: the transfer is held for a person.
        model.money_path_holds()
        assert [t.status for t in model.session.exec(select(PaymentTransaction)).all()] == ["in_review"]
    finally:
        model.teardown()
