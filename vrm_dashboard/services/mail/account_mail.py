"""E-mails about accounts (invitations, sign-up confirmations): plain messages queued like
every other e-mail, so the sender job retries them and the distribution screen tracks them."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlmodel import Session

from vrm_dashboard.db.models import EmailDelivery
from vrm_dashboard.domain.distribution_rules import DeliveryStatus


def queue(session: Session, recipient: str, subject: str, body: str) -> EmailDelivery:
    delivery = EmailDelivery(recipient=recipient, subject=subject[:255], body=body,
                             status=DeliveryStatus.QUEUED.value)
    session.add(delivery)
    session.flush()
    return delivery


def message_of(delivery: EmailDelivery, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Subject"] = delivery.subject
    message["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    message.set_content(delivery.body or "")
    return message
