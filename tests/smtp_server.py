"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1) that can also misbehave: answer a
recipient with 4xx or 5xx, or drop the connection in the middle of a message."""
from __future__ import annotations

import email
import email.policy
import os
from contextlib import contextmanager
from email.message import Message
from typing import Iterator

from aiosmtpd.controller import Controller

from vrm_dashboard import config


class Inbox:
    """What the server accepted, and how it treats each recipient (address -> behaviour):
    "451" / "550" answer with that code, "drop" closes the connection during the data."""

    def __init__(self) -> None:
        self.port = 0
        self.accepted: list[Message] = []
        self.behaviour: dict[str, str] = {}
        self.drops_left: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        code = self.behaviour.get(address)
        if code in ("451", "550"):
            return f"{code} {'Try again later' if code == '451' else 'No such mailbox'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        for address in envelope.rcpt_tos:
            if self.behaviour.get(address) == "drop" and self.drops_left.get(address, 1) > 0:
                self.drops_left[address] = self.drops_left.get(address, 1) - 1
                server.transport.close()
                return "421 closing"
        self.accepted.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.accepted if m["To"] == address]


@contextmanager
def smtp_server(port: int, rate: int = 0) -> Iterator[Inbox]:
    """Start the server and point the app's settings at it for the duration."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    names = {"VRM_SMTP_HOST": "127.0.0.1", "VRM_SMTP_PORT": str(port), "VRM_SMTP_TLS": "false",
             "VRM_SMTP_RATE": str(rate)}
    os.environ.update(names)
    config.settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()
        for name in names:
            os.environ.pop(name, None)
        config.settings.cache_clear()


def pdf_of(message: Message) -> bytes:
    part = next(p for p in message.walk() if p.get_content_type() == "application/pdf")
    return part.get_payload(decode=True)
