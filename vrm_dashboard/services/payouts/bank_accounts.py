"""A vendor's payout account as a transfer remembers it: a keyed hash of the details it was
cleared for, compared with the vendor's details whenever the transfer is about to be paid."""
from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import PaymentTransaction, Vendor

ACCOUNT_COLUMNS = (col(Vendor.iban), col(Vendor.bic), col(Vendor.account_number), col(Vendor.routing_number),
                   col(Vendor.paypal_email))


def bank_fingerprint(*details: str | None) -> str:
    """A keyed hash of a payout account: equal for the same details, and telling nothing of
    them to whoever reads the transfer."""
    text = "|".join(" ".join((d or "").split()).upper() for d in details)
    return hmac.new(settings().secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def accounts(session: Session, vendor_ids: set[int]) -> dict[int, str]:
    """Each vendor's payout account now, as a fingerprint."""
    rows = session.execute(select(col(Vendor.id), *ACCOUNT_COLUMNS).where(col(Vendor.id).in_(vendor_ids))).all()
    return {vendor_id: bank_fingerprint(*details) for vendor_id, *details in rows}


def changed_since_cleared(session: Session, transaction: PaymentTransaction) -> bool:
    """Whether the vendor's payout account is no longer the one this transfer was cleared for."""
    vendor_id = transaction.vendor_id
    if transaction.bank_fingerprint is None or vendor_id is None:
        return False
    return accounts(session, {vendor_id}).get(vendor_id) != transaction.bank_fingerprint
