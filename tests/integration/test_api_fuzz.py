"""API fuzzing: schemathesis generates requests from the whole OpenAPI document and sends them
in-process to the API, signed in as an admin over a database with a little demo data. No
request may answer 5xx, and every answer must match the schema its route declares.

SQLite only: the point is what the API answers to hostile input, not the dialect; the other
integration tests cover PostgreSQL. Derandomized with a bounded number of examples per route,
so CI replays the same requests and stays well under its time limit.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlmodel import Session, select

from tests.helpers import SYSTEM, use_database
from vrm_dashboard.api.app import API_PREFIX, build_api
from vrm_dashboard.db.models import User
from vrm_dashboard.demo.seeder import seed
from vrm_dashboard.services.identity.api_keys import create_api_key

api = build_api()
schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", api)


@pytest.fixture(scope="module")
def admin_headers(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One seeded database for the whole module (seeding per route would cost more than fuzzing it)."""
    path = tmp_path_factory.mktemp("fuzz") / "vrm.db"
    shutil.copy(sqlite_template, path)
    with pytest.MonkeyPatch.context() as env:
        # Nothing the API does may reach a mail server or any other host.
        for name in ("VRM_SMTP_HOST", "VRM_IMAP_HOST", "VRM_BOUNCE_IMAP_HOST", "VRM_SANDBOX_CALLBACK_URL"):
            env.delenv(name, raising=False)
        engine = use_database(f"sqlite:///{path}")
        seed(engine, vendors=6, invoices=60, seed=18)
        with Session(engine) as session:
            admin = session.exec(select(User).where(User.email == "admin@vrm.example")).one()
            key = create_api_key(session, SYSTEM, "fuzzing", user_id=admin.id)
            session.commit()
        yield {"Authorization": f"Bearer {key}"}
        engine.dispose()


@schema.parametrize()
# The same requests on every run (derandomized, no example database), at most 25 generated per route.
@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_the_api_answers_hostile_requests_without_server_errors(case: schemathesis.Case,
                                                               admin_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=admin_headers,
                           checks=[not_a_server_error, response_schema_conformance, status_code_conformance])
