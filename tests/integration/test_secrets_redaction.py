"""Secrets stay secret: connector URLs and headers sealed in their row and shown masked, URLs
with credentials never in the intake log, a job run or the audit log in full, bank details,
taxpayer numbers and link tokens masked or left out of the audit log, and the vendor card's
history masked for roles that may not see bank details."""
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.fernet import Fernet
from reflex.istate.data import RouterData
from sqlalchemy import text
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.distribution_book import distribution_book
from tests.helpers import (
    SYSTEM,
    call_handler,
    finance_with_a_paid_per_click_vendor,
    make_user,
    signed_in_token,
    ui_state,
    vendor_input,
)
from vrm_dashboard.config import settings
from vrm_dashboard.db.models import ActivitySource, AuditEntry, EmailDelivery, Intake, JobRun, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.tax_forms import TaxInput
from vrm_dashboard.services.distribution import dispatch as distribution, disputes
from vrm_dashboard.services.intake import connectors, log as intake_log
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform import audit, secret_box
from vrm_dashboard.services.platform.job_runs import run_recorded
from vrm_dashboard.services.vendors import onboarding, records as vendor_service
from vrm_dashboard.ui.states.vendor_card import VendorCardState


@pytest.fixture
def finance(session):
    return finance_with_a_paid_per_click_vendor(session)


class _Tracker(BaseHTTPRequestHandler):
    """A tracking system that answers only with the right key and headers."""

    events: list[dict] = []
    seen: list[tuple[str, str, str]] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        query = parse_qs(urlparse(self.path).query)
        self.seen.append((query.get("api_key", [""])[0], self.headers.get("Authorization", ""),
                          self.headers.get("X-Tracker-Token", "")))
        if query.get("api_key") != ["key-s3cret"] or self.headers.get("X-Tracker-Token") != "hdr-s3cret":
            self.send_response(401)
            self.end_headers()
            return
        since = int(query.get("since", ["0"])[0] or 0)
        body = json.dumps({"events": [e for e in self.events if e["id"] > since]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tracker():
    _Tracker.events = [{"id": i, "publisher": "ACME-1", "event": "clicks", "day": "2026-10-01", "units": "10"}
                       for i in range(1, 4)]
    _Tracker.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Tracker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


MAPPING = {"vendor": "publisher", "activity_type": "event", "date": "day", "quantity": "units", "row_id": "id"}
SECRETS = ("pw-s3cret", "key-s3cret", "hdr-s3cret")


def _tracker_config(port: int) -> dict:
    return {"url": f"http://tracker:pw-s3cret@127.0.0.1:{port}/events?api_key=key-s3cret",
            "items_key": "events", "cursor_field": "id", "headers": {"X-Tracker-Token": "hdr-s3cret"}}


def _raw_config(session, name: str) -> str:
    return session.execute(text("select config from activity_source where name = :name"), {"name": name}).scalar_one()


def test_a_connector_config_is_sealed_in_its_row_shown_masked_and_still_syncs(session, finance, tracker):
    source = connectors.configure_source(session, finance, "tracker", "http_json", _tracker_config(tracker),
                                         mapping=MAPPING)
    session.commit()
    stored = _raw_config(session, "tracker")
    assert not any(secret in stored for secret in SECRETS)
    assert json.loads(stored)["items_key"] == "events"  # what opens nothing stays readable
    shown = {s.name: s for s in connectors.sources(session, finance)}["tracker"]
    assert shown.config["url"] == f"http://tracker:***@127.0.0.1:{tracker}/events?api_key=***"
    assert shown.config["headers"]["X-Tracker-Token"] == "***"  # too short to show its end
    assert not any(secret in json.dumps(shown.config) for secret in SECRETS)

    report = connectors.sync_source(session, finance, source)
    assert report.error == "" and report.new_rows == 3
    # The user and password of the URL went as HTTP Basic authentication.
    assert _Tracker.seen[0] == ("key-s3cret", "Basic " + base64.b64encode(b"tracker:pw-s3cret").decode(), "hdr-s3cret")


def test_a_config_saved_in_plain_text_before_keeps_working_and_is_sealed_by_its_next_sync(session, finance, tracker):
    source = connectors.configure_source(session, finance, "tracker", "http_json", {"url": "http://x.invalid"},
                                         mapping=MAPPING)
    session.commit()
    session.execute(text("update activity_source set config = :config where name = 'tracker'"),
                    {"config": json.dumps(_tracker_config(tracker))})
    session.commit()
    session.expire_all()
    assert "key-s3cret" in _raw_config(session, "tracker")
    assert connectors.sync_source(session, finance, session.get(ActivitySource, source.id)).new_rows == 3
    assert not any(secret in _raw_config(session, "tracker") for secret in SECRETS)
    assert connectors.config_of(session.get(ActivitySource, source.id)) == _tracker_config(tracker)


def test_mail_passwords_sealed_before_the_shared_secret_box_still_open():
    # How services/mail/settings.py sealed passwords before the secret box existed.
    key = hashlib.sha256(("mail-settings:" + settings().secret_key).encode()).digest()
    sealed_then = Fernet(base64.urlsafe_b64encode(key)).encrypt(b"smtp-pass").decode()
    assert secret_box.unseal(mail_settings.SECRET_PURPOSE, sealed_then) == "smtp-pass"
    assert secret_box.unseal("connector-config", sealed_then) is None  # sealed for one use only


def test_a_url_with_credentials_never_reaches_the_intake_log_a_job_run_or_the_audit_log(db, session, finance, tracker):
    # One source answers rows the import refuses (an unknown vendor), one cannot be reached.
    _Tracker.events = [{"id": 1, "publisher": "GHOST", "event": "clicks", "day": "2026-10-01", "units": "1"}]
    connectors.configure_source(session, finance, "tracker", "http_json", _tracker_config(tracker), mapping=MAPPING)
    keyed = {**_tracker_config(tracker), "url": f"http://127.0.0.1:{tracker}/events?api_key=key-s3cret"}
    connectors.configure_source(session, finance, "tracker-keyed", "http_json", keyed, mapping=MAPPING)
    connectors.configure_source(session, finance, "down", "http_json",
                                {"url": "http://tracker:pw-s3cret@127.0.0.1:9/none?token=key-s3cret"})
    connectors.configure_source(session, finance, "erp", "sql", {
        "url": "postgresql+psycopg://erp:pw-s3cret@127.0.0.1:9/erp", "query": "select 1", "cursor_field": "id"})
    session.commit()
    run = run_recorded(db, "sync_activity_sources", connectors.sync_all)
    session.expire_all()

    failed = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
    written = [text for intake in failed for text in (intake.filename, intake.reason or "")] + [run.detail or ""]
    written += [e.before or "" for e in session.execute(select(AuditEntry)).scalars()]
    written += [e.after or "" for e in session.execute(select(AuditEntry)).scalars()]
    written += [r.detail for r in intake_log.recent_sync_runs(session, finance)]
    written += [json.dumps(intake_log.recent_intakes(session, finance).as_dict(), default=str)]
    assert not [w for w in written if any(secret in w for secret in SECRETS)]
    assert [(i.status, i.filename.split(" to ")[0]) for i in failed] == [
        ("failed", f"http://tracker:***@127.0.0.1:{tracker}/events?api_key=***"),
        ("failed", f"http://127.0.0.1:{tracker}/events?api_key=***")]
    assert run.errors == 4
    problems = intake_log.recent_sync_runs(session, finance)[0].problems
    assert any(p.startswith("tracker: http://tracker:***@") and "unknown vendor GHOST" in p for p in problems)
    assert any(p.startswith("down: URLError") for p in problems)


def test_run_details_recorded_before_redaction_are_shown_redacted(session, finance):
    session.add(JobRun(job="sync_activity_sources", status="partly_failed", errors=1, finished_at=utcnow(),
                       detail=json.dumps([{"source": "old", "error": "URLError at http://u:pw-s3cret@h/x"}])))
    session.add(Intake(channel="connector", kind="activity", filename="http://u:pw-s3cret@h/x to 3", sha256="0",
                       status="failed", reason="refused"))
    session.commit()
    run = intake_log.recent_sync_runs(session, finance)[0]
    assert "pw-s3cret" not in run.detail and run.problems == ["old: URLError at http://u:***@h/x"]
    assert intake_log.recent_intakes(session, finance).rows[0].filename == "http://u:***@h/x to 3"


def _audit_text(session) -> str:
    """Every before and after in the log, as stored and as read (masks are \\u2022 in JSON)."""
    stored = [text for e in session.execute(select(AuditEntry)).scalars() for text in (e.before, e.after) if text]
    return " ".join(stored + [json.dumps(json.loads(text), ensure_ascii=False) for text in stored])


def test_audit_entries_of_bank_details_hold_no_full_account_routing_or_tax_number(session):
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, finance, vendor_input())
    vendor_service.update_vendor(session, finance, vendor.id, vendor_input(iban="GB29 NWBK 6016 1331 9268 19"))
    us = vendor_service.create_vendor(session, finance, vendor_input(
        vendor_code="US-1", country="US", currency="USD", payment_method="ach", iban="",
        routing_number="021000021", account_number="123456789012", tax_id="04-2103594"))
    vendor_service.update_vendor(session, finance, us.id, vendor_input(
        vendor_code="US-1", country="US", currency="USD", payment_method="ach", iban="",
        routing_number="011000015", account_number="998877665544", tax_id="04-2103594"))
    session.commit()
    logged = _audit_text(session)
    for full in ("DE89370400440532013000", "GB29NWBK60161331926819", "021000021", "011000015",
                 "123456789012", "998877665544", "04-2103594", "042103594"):
        assert full not in logged, full
    # Masked, not dropped: the change from one account to another is still told apart.
    changes = audit.changed_fields(session.execute(select(AuditEntry).where(
        AuditEntry.action == "vendor.update", AuditEntry.object_id == str(vendor.id))).scalar_one())
    assert changes["iban"] == ("••••••••••••••••••3000", "••••••••••••••••••6819")


def test_a_tax_form_leaves_no_full_taxpayer_number_in_the_audit_log(session):
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, finance, vendor_input())
    session.commit()
    me = make_user(session, "vendor", "ap@acme.example", vendor_id=vendor.id)
    onboarding.save_tax_form(session, me, TaxInput(
        form="w8bene", name="Acme Media GmbH", classification="Corporation", country="DE",
        address="Hauptstr. 1, 10115 Berlin", foreign_tin="2893081508152", chapter4_status="Active NFFE",
        signer_name="Erika Muster", certified=True), vat_id="DE136695976")
    session.commit()
    logged = _audit_text(session)
    assert "vendor.tax_form" in {e.action for e in session.execute(select(AuditEntry)).scalars()}
    assert "2893081508152" not in logged
    assert "•••••••••8152" in logged  # masked in the form's entry and in the vendor's tax_id


def test_view_and_dispute_link_tokens_never_reach_the_audit_log(session):
    distribution_book(session)
    distribution.distribute(session)
    session.commit()
    delivery = session.execute(select(EmailDelivery).where(EmailDelivery.status == "queued")).scalars().first()
    token = delivery.token
    assert token
    # Sent, then failed; the team sends it again; the recipient disputes through the link.
    delivery.status, delivery.sent_at = "failed", utcnow()
    session.add(delivery)
    session.commit()
    distribution.send_again(session, make_user(session, "admin"), delivery.id)
    session.commit()
    delivery = session.get(EmailDelivery, delivery.id)
    delivery.status, delivery.sent_at = "sent", utcnow()
    session.add(delivery)
    session.commit()
    disputes.dispute_by_link(session, token, "The quantity is wrong")
    session.commit()
    actions = {e.action for e in session.execute(select(AuditEntry)).scalars()}
    assert {"delivery.send_again", "dispute.open"} <= actions
    assert token not in _audit_text(session)
    assert token[:10] not in _audit_text(session)


def _history_values(card) -> str:
    return " ".join(f"{b} {a}" for entry in card.history for b, a in audit.changed_fields(entry).values())


def test_the_vendor_card_history_shows_bank_details_only_to_roles_that_may_see_them(session):
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, finance, vendor_input(bic="COBADEFFXXX"))
    vendor_service.update_vendor(session, finance, vendor.id, vendor_input(iban="GB29 NWBK 6016 1331 9268 19",
                                                                          bic="NWBKGB2L"))
    # An entry written before the log masked bank details holds them whole.
    session.add(AuditEntry(actor_label="before", action="vendor.update", object_type="vendor",
                           object_id=str(vendor.id), before=json.dumps({"iban": "FR1420041010050500013M02606"}),
                           after=json.dumps({"iban": "DE89370400440532013000", "tax_id": "DE136695976XY"})))
    session.commit()
    viewer = make_user(session, "viewer")
    assert not viewer.can(Action.VENDOR_VIEW_BANK_DETAILS)
    masked = _history_values(vendor_service.vendor_card(session, viewer, vendor.id))
    for full in ("FR1420041010050500013M02606", "DE89370400440532013000", "COBADEFFXXX", "NWBKGB2L",
                 "DE136695976XY"):
        assert full not in masked, full
    assert "•••••••FXXX" in masked and "•••••••••••••••••••••••2606" in masked
    shown = _history_values(vendor_service.vendor_card(session, finance, vendor.id))
    assert "FR1420041010050500013M02606" in shown and "COBADEFFXXX" in shown and "NWBKGB2L" in shown
    assert "DE136695976XY" not in shown  # taxpayer numbers are masked for everyone
    # Reading never changes the stored entries.
    session.expire_all()
    assert "FR1420041010050500013M02606" in _audit_text(session)


def test_the_vendor_card_page_masks_its_history_for_a_viewer(db):
    with Session(db) as session:
        vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input())
        vendor_service.update_vendor(session, SYSTEM, vendor.id, vendor_input(bic="COBADEFFXXX"))
        session.commit()
        vendor_id = vendor.id
    pages = {}
    for role in ("viewer", "finance_manager"):
        state = ui_state(VendorCardState, signed_in_token(db, role))
        object.__setattr__(state, "router", RouterData.from_router_data(
            {"pathname": "/vendors/[id]", "query": {"id": str(vendor_id)}}))
        call_handler(VendorCardState, state, "load")
        assert state.error == "" and state.history
        pages[role] = " ".join(h.changes for h in state.history)
    assert "COBADEFFXXX" not in pages["viewer"] and "FXXX" in pages["viewer"]
    assert "COBADEFFXXX" in pages["finance_manager"]
