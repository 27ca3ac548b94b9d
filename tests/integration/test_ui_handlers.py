"""Reflex event handlers are callable by any client: the server must refuse what the role may not."""
import pytest
import reflex as rx
from sqlalchemy import func
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import (
    SYSTEM,
    call_handler as _call,
    northwind_and_seller,
    signed_in_token as _token,
    ui_state as _state,
)
from vrm_dashboard.db.models import AuditEntry, User, Vendor
from vrm_dashboard.domain.permissions import DEFAULT_GRANTS, Action, RoleName
from vrm_dashboard.services.identity import access_control, auth
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.platform.actors import load_actor
from vrm_dashboard.ui.routes import ROUTES
from vrm_dashboard.ui.states.login import LoginState
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.states.settings import SettingsState
from vrm_dashboard.ui.states.vendors import VendorsState


def test_a_vendor_cannot_change_permissions_through_a_crafted_event(db):
    state = _state(SettingsState, _token(db, "vendor"))
    _call(SettingsState, state, "toggle_grant", "vendor", Action.ROLE_MANAGE.value)
    assert "does not allow" in state.message
    with Session(db) as session:
        assert not access_control.is_granted(session, "vendor", Action.ROLE_MANAGE)


def test_a_vendor_cannot_open_the_admin_page(db):
    state = _state(SettingsState, _token(db, "vendor"))
    _call(SettingsState, state, "load")
    assert state.denied and state.users == [] and state.matrix == []


def test_a_platform_admin_can_toggle_a_permission(db):
    state = _state(SettingsState, _token(db, "platform_admin"))
    _call(SettingsState, state, "load")
    assert state.can_manage_grants and state.can_manage_platform and "platform_admin" in state.role_options
    _call(SettingsState, state, "toggle_grant", "viewer", Action.VENDOR_CREATE.value)
    with Session(db) as session:
        assert access_control.is_granted(session, "viewer", Action.VENDOR_CREATE)


def _signed_in(db, role: str, email: str, organization_id: int) -> tuple[int, str]:
    with Session(db) as session:
        user = add_user(session, SYSTEM, email, f"Test {role}", "correct-horse-battery", [role],
                        organization_id=organization_id)
        session.commit()
        token = auth.sign_in(session, email, "correct-horse-battery").token
        session.commit()
        return int(user.id), token


def test_an_organization_admin_changes_neither_the_grants_nor_another_organizations_users(db):
    """Role grants are one set for the whole installation, and Northwind's users are not
    Seller 1's admin's: crafted events change nothing there, and name nothing either."""
    with Session(db) as session:
        northwind, seller = northwind_and_seller(session)
        session.commit()
        northwind_id, seller_id = int(northwind.id), int(seller.id)
    theirs, _ = _signed_in(db, "finance_manager", "finance@northwind.example", northwind_id)
    mine, _ = _signed_in(db, "approver", "approver@seller.example", seller_id)
    _admin, token = _signed_in(db, "admin", "admin@seller.example", seller_id)
    state = _state(SettingsState, token)
    _call(SettingsState, state, "load")
    assert [u.email for u in state.users] == ["admin@seller.example", "approver@seller.example"]
    assert not state.can_manage_grants and not state.can_manage_platform and state.can_manage_users
    assert "platform_admin" not in state.role_options
    assert state.organization_options == [["none", "No organization"], [str(seller_id), "Seller 1"]]

    _call(SettingsState, state, "toggle_grant", "viewer", Action.VENDOR_CREATE.value)
    assert "platform.manage" in state.message
    for handler, *args in (("toggle_active", str(theirs)), ("reset_password", str(theirs)),
                           ("set_role", str(theirs), "viewer"), ("set_user_organization", str(theirs), str(seller_id))):
        _call(SettingsState, state, handler, *args)
        assert handler == "toggle_active" or state.user_message == f"No user {theirs}", handler
    _call(SettingsState, state, "set_role", str(mine), "platform_admin")
    assert "Only a platform admin" in state.user_message
    _call(SettingsState, state, "set_user_organization", str(mine), str(northwind_id))
    assert state.user_message == f"No organization {northwind_id}"
    with Session(db) as session:
        assert not access_control.is_granted(session, "viewer", Action.VENDOR_CREATE)
        north = session.get(User, theirs)
        assert north.is_active and north.organization_id == northwind_id
        assert load_actor(session, theirs).roles == {"finance_manager"}
        assert load_actor(session, mine).roles == {"approver"}
        assert session.get(User, mine).organization_id == seller_id
        assert not session.exec(select(AuditEntry).where(AuditEntry.actor_label == "admin@seller.example",
                                                         AuditEntry.object_id == str(theirs))).all()


def test_a_viewer_cannot_add_a_vendor_by_calling_the_handler(db):
    state = _state(VendorsState, _token(db, "viewer"))
    state.form = {"vendor_code": "X1", "name": "Sneaky", "email": "s@x.example", "country": "DE",
                  "currency": "EUR", "payment_method": "sepa", "payment_source": "Operating account",
                  "iban": "DE89370400440532013000", "activity_status": "active"}
    _call(VendorsState, state, "save_vendor", None)
    assert "does not allow" in state.form_errors["form"]
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Vendor)).one() == 0


def test_handlers_refuse_a_missing_or_forged_session(db):
    state = _state(VendorsState, "forged-token")
    _call(VendorsState, state, "deactivate", "1")
    assert "sign in" in state.message


def test_finance_adds_a_vendor_through_the_form_handler(db):
    state = _state(VendorsState, _token(db, "finance_manager"))
    _call(VendorsState, state, "load")
    _call(VendorsState, state, "open_new")
    for name, value in {"vendor_code": "UI-1", "name": "Form Media", "email": "f@x.example",
                        "country": "NL", "currency": "EUR", "iban": "NL91ABNA0417164300"}.items():
        _call(VendorsState, state, "set_field", name, value)
    _call(VendorsState, state, "save_vendor", None)
    assert state.form_errors == {} and not state.form_open
    assert [r.vendor_code for r in state.rows] == ["UI-1"]


def test_sign_in_handler_shows_the_reason_on_failure(db):
    _token(db, "viewer")
    state = _state(LoginState)
    _call(LoginState, state, "submit", {"email": "viewer@test.example", "password": "wrong"})
    assert state.error == "Wrong e-mail or password, or the account cannot sign in now" and state.token == ""
    _call(LoginState, state, "submit", {"email": "viewer@test.example", "password": "correct-horse-battery"})
    assert state.error == "" and state.token


def test_rate_cards_and_mappings_change_only_for_roles_that_may(db):
    from tests.helpers import SYSTEM, vendor_input
    from vrm_dashboard.db.models import ActivitySource, RateCard
    from vrm_dashboard.services.vendors import records as vendor_service
    from vrm_dashboard.ui.states.intake import IntakeState
    from vrm_dashboard.ui.states.vendor_card import RateRuleRow, VendorCardState, VendorDetails

    with Session(db) as session:
        vendor_id = vendor_service.create_vendor(session, SYSTEM, vendor_input()).id
        session.commit()
    viewer = _state(VendorCardState, _token(db, "viewer"))
    viewer.vendor = VendorDetails(id=str(vendor_id))
    viewer.rate_card = {"currency": "EUR", "flat_fee": "5", "minimum_payout": "0"}
    _call(VendorCardState, viewer, "save_rate_card")
    assert "does not allow" in viewer.rates_message
    mapper = _state(IntakeState, _token(db, "viewer", email="viewer2@test.example"))
    mapper.mapping = {"vendor": "Publisher"}
    _call(IntakeState, mapper, "save_mapping")
    assert "does not allow" in mapper.mapping_message
    with Session(db) as session:
        assert session.get(RateCard, vendor_id) is None
        assert session.execute(select(func.count()).select_from(ActivitySource)).scalar_one() == 0
    finance = _state(VendorCardState, _token(db, "finance_manager"))
    finance.vendor = VendorDetails(id=str(vendor_id))
    finance.rate_card = {"currency": "EUR", "flat_fee": "5.00", "minimum_payout": "25"}
    _call(VendorCardState, finance, "save_rate_card")
    finance.new_rule = {"activity_type": "Clicks", "per_unit_rate": "0.015", "revenue_share_percent": ""}
    _call(VendorCardState, finance, "save_rule")
    assert finance.rates_message == "Rate rule saved."
    assert finance.rate_rules == [RateRuleRow(activity_type="clicks", per_unit_rate="0.015", revenue_share_percent="")]
    finance.new_rule = {"activity_type": "sales", "per_unit_rate": "", "revenue_share_percent": "150"}
    _call(VendorCardState, finance, "save_rule")
    assert "between 0 and 100" in finance.rates_message


def _run(coroutine):
    """Run an async handler to completion, also when another event loop runs in this thread
    (Playwright's, when the browser tests ran first)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class _Upload:
    def __init__(self, name: str, content: bytes):
        self.name, self._content = name, content

    async def read(self, size: int = -1) -> bytes:
        return self._content if size < 0 else self._content[:size]


def test_upload_handlers_import_for_importers_and_refuse_others(db):
    from vrm_dashboard.ui.states.intake import IntakeState

    vendors_csv = (b"vendor_code,name,email,country,currency,payment_method,iban\n"
                   b"UP-1,Uploaded One,a@up.example,DE,EUR,sepa,DE89370400440532013000\n")
    viewer = _state(IntakeState, _token(db, "viewer"))
    _run(IntakeState.event_handlers["upload_vendors"].fn(viewer, [_Upload("v.csv", vendors_csv)]))
    assert viewer.results[0].status == "Refused" and "does not allow" in viewer.results[0].message
    finance = _state(IntakeState, _token(db, "finance_manager"))
    _run(IntakeState.event_handlers["upload_vendors"].fn(finance, [_Upload("v.csv", vendors_csv)]))
    assert finance.results[0].message == "Imported 1 vendor"
    with Session(db) as session:
        assert session.execute(select(Vendor).where(Vendor.vendor_code == "UP-1")).scalar_one().name == "Uploaded One"


def _role_without(permission: Action) -> str:
    return next(role.value for role in RoleName if permission not in DEFAULT_GRANTS[role])


@pytest.mark.parametrize("route", [r for r in ROUTES if r.permission], ids=lambda r: r.path)
def test_every_screen_refuses_a_role_without_its_permission_and_loads_nothing(db, route):
    token = _token(db, _role_without(route.permission))
    for handler in route.on_load:
        state = _state(handler.state, token)
        before = {name: getattr(state, name) for name in state.base_vars if name not in {"denied", "token"}
                  and name not in SessionState.base_vars}
        result = handler.fn(state)
        assert state.denied == "Your role does not give you access to this screen.", route.path
        assert result is None
        assert {name: getattr(state, name) for name in before} == before, f"{route.path} loaded data"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.permission], ids=lambda r: r.path)
def test_every_screen_sends_a_signed_out_visitor_to_sign_in(db, route):
    for handler in route.on_load:
        state = _state(handler.state, "not-a-session")
        redirect = handler.fn(state)
        assert redirect is not None and '"/login"' in str(redirect.args) and not state.denied, route.path


def test_a_load_handler_missing_from_the_route_table_opens_nothing(db):
    class UnlistedState(SessionState):
        loaded: bool = False

        @rx.event
        @page_load
        def load(self, actor) -> None:
            self.loaded = True

    state = _state(UnlistedState, _token(db, "admin"))
    UnlistedState.event_handlers["load"].fn(state)
    assert state.denied and not state.loaded
