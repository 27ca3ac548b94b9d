import pytest

from vrm_dashboard.domain.invoice_status import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    InvoiceStatus,
    check_move,
    parse_status,
)


def test_every_status_has_its_moves_defined():
    assert set(ALLOWED_TRANSITIONS) == set(InvoiceStatus)


def test_the_normal_path_is_allowed():
    path = ["draft", "draft_valid", "pending", "approved", "processing", "paid", "archived"]
    for current, target in zip(path, path[1:]):
        check_move(InvoiceStatus(current), InvoiceStatus(target))


def test_illegal_moves_say_what_is_possible():
    with pytest.raises(IllegalTransition, match="Draft cannot move to Paid"):
        check_move(InvoiceStatus.DRAFT, InvoiceStatus.PAID)
    with pytest.raises(IllegalTransition, match="it is final"):
        check_move(InvoiceStatus.ARCHIVED, InvoiceStatus.PENDING)


def test_paid_invoices_are_never_paid_again_or_reopened():
    # Only a transfer the bank returns takes a paid invoice back, to Failed, never to Pending.
    assert ALLOWED_TRANSITIONS[InvoiceStatus.PAID] == {InvoiceStatus.ARCHIVED, InvoiceStatus.FAILED}


def test_labels_parse_back():
    assert parse_status("Draft Valid") is InvoiceStatus.DRAFT_VALID
    with pytest.raises(IllegalTransition):
        parse_status("nonsense")
