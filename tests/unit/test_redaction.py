"""The one redaction list: URLs lose their credentials, snapshots their secrets, and bank and
tax numbers keep only their last four characters."""
import json
from datetime import datetime, timezone

import pytest

from vrm_dashboard.db.models import AuditEntry
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.redaction import BANK_DETAILS, BANK_FIELDS, redact, redact_text, redact_url


@pytest.mark.parametrize("url, shown", [
    ("postgresql://erp:s3cret@db.example/erp", "postgresql://erp:***@db.example/erp"),
    # SQLAlchemy reads a password up to the @, slashes and question marks included.
    ("postgresql+psycopg://erp:pa/s?s@db:5432/erp?sslmode=require",
     "postgresql+psycopg://erp:***@db:5432/erp?sslmode=require"),
    ("https://ghp_TOKEN@github.com/o/r.git", "https://***@github.com/o/r.git"),
    ("https://t.example/e?since=3&api_key=k1&access_token=k2#id_token=k3",
     "https://t.example/e?since=3&api_key=***&access_token=***#id_token=***"),
    ("https://s3.example/f?X-Amz-Signature=abc&X-Amz-Credential=def&page=2",
     "https://s3.example/f?X-Amz-Signature=***&X-Amz-Credential=***&page=2"),
    ("http://127.0.0.1:9/none", "http://127.0.0.1:9/none"),
    ("sqlite:////var/data/erp.db", "sqlite:////var/data/erp.db"),
])
def test_a_url_is_shown_without_its_credentials(url, shown):
    assert redact_url(url) == shown


def test_urls_in_text_and_in_json_are_redacted_and_the_json_stays_valid():
    message = 'URLError: http://u:pw@h/x?token=t1, then "postgresql://erp:pw2@db/erp".'
    assert redact_text(message) == 'URLError: http://u:***@h/x?token=***, then "postgresql://erp:***@db/erp".'
    detail = json.dumps([{"error": 'at "http://u:pw@h/x?token=abc" and http://h/?k=1\\'}])
    assert json.loads(redact_text(detail)) == [{"error": 'at "http://u:***@h/x?token=***" and http://h/?k=1\\'}]


def test_a_snapshot_loses_its_secrets_and_masks_bank_and_tax_numbers_at_any_depth():
    snapshot = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_number": "", "tax_id": None,
                "token": "link-token", "password_hash": "$argon2", "name": "Acme",
                "lines": [{"tin": "123-45-6789", "url": "https://u:pw@h/"}]}
    assert redact(snapshot) == {"iban": "••••••••••••••••••3000", "bic": "COBADEFFXXX", "account_number": "",
                                "tax_id": None, "name": "Acme",
                                "lines": [{"tin": "•••••••6789", "url": "https://u:***@h/"}]}
    assert redact(snapshot, also_mask=BANK_FIELDS)["bic"] == "•••••••FXXX"
    assert redact(snapshot, keep=BANK_DETAILS)["iban"] == "DE89370400440532013000"
    assert redact(snapshot, keep=BANK_DETAILS)["lines"][0]["tin"] == "•••••••6789"


def test_field_names_match_whatever_their_case_and_header_values_are_hidden_whole():
    snapshot = {"IBAN": "DE89370400440532013000", "Token": "link-token", "Authorization": "Bearer tok-123",
                "headers": {"Authorization": "Bearer tok-123", "X-Tracker-Token": "••••••••••••wxyz", "Accept": ""},
                "Headers": "Bearer raw-header-line"}
    assert redact(snapshot) == {"IBAN": "••••••••••••••••••3000",
                                "headers": {"Authorization": "***", "X-Tracker-Token": "***", "Accept": ""},
                                "Headers": "***"}
    assert redact(snapshot, keep=BANK_DETAILS)["IBAN"] == "DE89370400440532013000"


def test_json_held_in_a_string_is_redacted_within_and_stays_a_string():
    config = json.dumps({"url": "https://u:pw@tracker.example/events?api_key=k1", "items_key": "events",
                         "headers": {"Authorization": "Bearer tok-123"}, "nested": [{"password": "pw"}]})
    shown = redact({"config": config, "column_mapping": '{"vendor": "publisher"}', "note": "[not json"})
    assert json.loads(shown["config"]) == {"url": "https://u:***@tracker.example/events?api_key=***",
                                           "items_key": "events", "headers": {"Authorization": "***"},
                                           "nested": [{}]}
    # A string with nothing to redact is left exactly as it was.
    assert shown["column_mapping"] == '{"vendor": "publisher"}' and shown["note"] == "[not json"


def test_an_audit_entry_written_before_header_redaction_shows_no_connector_secret():
    # How the log kept a connector's configuration before its secrets were sealed or masked: the
    # source's row as it was, its config a JSON string.
    config = json.dumps({"url": "https://ingest:pa55@tracker.example/events?token=t0k", "items_key": "events",
                         "headers": {"Authorization": "Bearer hdr-s3cret-0123456789", "x-api-key": "k3y-s3cret"}})
    entry = AuditEntry(id=1, at=datetime(2026, 1, 5, tzinfo=timezone.utc), actor_user_id=1, actor_label="fm@test",
                       action="activity_source.configure", object_type="activity_source", object_id="1",
                       before=None, after=json.dumps({"name": "tracker", "kind": "http_json", "config": config}))
    reader = Actor(user_id=2, email="auditor@test", full_name="Auditor",
                   actions=frozenset({Action.VENDOR_VIEW_BANK_DETAILS.value}))
    shown = audit.as_seen_by(entry, reader)
    assert not any(secret in shown.after for secret in ("pa55", "t0k", "hdr-s3cret", "k3y-s3cret"))
    assert json.loads(json.loads(shown.after)["config"])["headers"] == {"Authorization": "***", "x-api-key": "***"}
    assert "hdr-s3cret" in entry.after  # the stored entry itself is untouched
