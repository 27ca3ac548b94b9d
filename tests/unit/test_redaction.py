"""The one redaction list: URLs lose their credentials, snapshots their secrets, and bank and
tax numbers keep only their last four characters."""
import json

import pytest

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
