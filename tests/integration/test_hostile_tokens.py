"""Link tokens are whatever a client sends: any characters, any length. Every route and handler
that takes one answers with a refusal (4xx, or the page's message), never a server error; and a
bounce must name the whole Message-ID token of the delivery it claims."""
import random
from datetime import timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.distribution_book import distribution_book
from tests.helpers import call_handler
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import EmailDelivery
from vrm_dashboard.services.distribution import bounces
from vrm_dashboard.services.identity import user_admin
from vrm_dashboard.services.platform import signed_tokens
from vrm_dashboard.services.platform.errors import NotAuthenticated
from vrm_dashboard.services.vendors import widget as vendor_widget
from vrm_dashboard.ui.states.welcome import WelcomeState

_random = random.Random(18)
GENUINE = signed_tokens.make(vendor_widget.PURPOSE, ["1"], timedelta(hours=1))
HOSTILE = [
    "é", "☃.☃", "x" * 5000, ".", "..", "a.b.c", "\x00", "abc\x00.def", "%ff%fe", "../../etc/passwd",
    GENUINE[:-1] + "é",                                      # a genuine token with a non-ASCII signature
    GENUINE.rsplit(".", 1)[0] + ".Ω" * 16,
    signed_tokens.make("widget-link", ["1"], timedelta(hours=1)).rsplit(".", 1)[0] + "." + "0" * 32,
    # A well-formed payload with an absurd expiry and no valid signature.
    "d2lkZ2V0LWxpbmsuOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ.0123456789abcdef0123456789abcdef",
    *(bytes(_random.getrandbits(8) for _ in range(40)).decode("latin-1") for _ in range(6)),
    *(bytes(_random.getrandbits(8) for _ in range(40)).decode("utf-8", "replace") for _ in range(6)),
]


def test_a_token_of_any_characters_is_refused_as_bad_or_expired():
    for token in HOSTILE:
        with pytest.raises((signed_tokens.BadToken, signed_tokens.ExpiredToken)):
            signed_tokens.read(token, {vendor_widget.PURPOSE, "invite", "reset"})


def test_every_token_route_refuses_a_hostile_token_with_4xx(session):
    distribution_book(session)
    session.commit()
    client = TestClient(build_api(), raise_server_exceptions=False)
    answers = {}
    for token in HOSTILE:
        path = quote(token, safe="")
        for method, url in (("GET", f"/api/v1/widget/{path}"), ("GET", f"/api/v1/widget/{path}.json"),
                            ("GET", f"/api/v1/distribution/view/{path}"),
                            ("GET", f"/api/v1/distribution/dispute/{path}"),
                            ("POST", f"/api/v1/distribution/dispute/{path}")):
            answer = client.request(method, url, data={"reason": "x"} if method == "POST" else None)
            answers[(method, url[:60], token[:20])] = answer.status_code
    assert {key: code for key, code in answers.items() if not 400 <= code < 500} == {}


def test_the_welcome_page_refuses_a_hostile_token_with_its_message(session):
    for token in HOSTILE:
        with pytest.raises(NotAuthenticated, match="not valid"):
            user_admin.user_for_token(session, token)
    import reflex as rx
    from reflex.istate.data import PageData

    for token in HOSTILE[:8]:
        root = rx.State(_reflex_internal_init=True)
        root.rx_router_page = PageData(params={"token": token})
        state = root.get_substate(WelcomeState.get_full_name().split(".")[1:])
        call_handler(WelcomeState, state, "load")
        assert "not valid" in state.error and state.email == ""


def _bounce(delivery: EmailDelivery, token_part: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example\r\nTo: billing@vrm.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {delivery.recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <invoice-{delivery.id}.{token_part}@vrm.example>\r\n--B--\r\n"
    ).encode()


def test_a_bounce_naming_part_of_the_token_matches_nothing(session):
    book = distribution_book(session)
    token = "Zk3vQ9xLm2Rt8WpA1sDfGhJk4LqZx7Vb"
    delivery = EmailDelivery(invoice_id=book.paid.id, recipient="ap@acme.example", subject="Invoice", status="sent",
                             token=token, message_id=None)
    session.add(delivery)
    session.flush()
    delivery.message_id = f"<invoice-{delivery.id}.{token[:10]}@vrm.example>"
    session.commit()
    whole = token[:10]
    for forged in (whole[:1], whole[:9], whole + "x", whole[:9] + "Q", token):
        found = bounces.bounced_delivery(_bounce(delivery, forged))
        assert found is not None and not bounces.record_bounce(session, *found), forged
    # An id past any database integer is no bounce of ours (and no crash of the poll).
    assert bounces.bounced_delivery(_bounce(delivery, whole).replace(
        f"invoice-{delivery.id}.".encode(), b"invoice-99999999999999999999999.")) is None
    assert session.get(EmailDelivery, delivery.id).status == "sent"
    assert bounces.record_bounce(session, *bounces.bounced_delivery(_bounce(delivery, whole)))
    session.commit()
    assert session.get(EmailDelivery, delivery.id).status == "bounced"
