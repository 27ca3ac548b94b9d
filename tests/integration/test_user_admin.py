"""Administering users: invitation and reset links (signed, expiring, used once),
deactivation ending sessions and keys, roles and organization, all audited and admin-only;
an organization's admin runs its own organization's users only, a platform admin everyone's."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_user, northwind_and_seller, vendor_input
from vrm_dashboard.db.models import AuditEntry, Organization, User, stored_id, utcnow
from vrm_dashboard.services.identity import api_keys, auth, user_admin, users
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.platform.errors import (
    Conflict,
    FieldErrors,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from vrm_dashboard.services.vendors import records as vendor_service


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def test_an_invited_user_chooses_a_password_once_and_signs_in(db):
    with Session(db) as session:
        admin = make_user(session, "admin")
        org = Organization(name="Northwind", tier="distributor", country="DE")
        session.add(org)
        session.flush()
        invitation = user_admin.invite(session, admin, "new@example.com", "New Person", ["approver"], org.id)
        session.commit()
        token = _token(invitation.link)
        with pytest.raises(NotAuthenticated):
            auth.sign_in(session, "new@example.com", "anything-at-all")
        with pytest.raises(FieldErrors):
            user_admin.choose_password(session, token, "short")
        user_admin.choose_password(session, token, "a-good-password")
        session.commit()
        signed = auth.sign_in(session, "new@example.com", "a-good-password")
        assert signed.actor.roles == {"approver"} and signed.actor.organization_id == org.id
        with pytest.raises(NotAuthenticated, match="used already"):
            user_admin.choose_password(session, token, "another-password")
        with pytest.raises(NotAuthenticated, match="not valid"):
            user_admin.choose_password(session, token[:-2] + "00", "another-password")
        later = utcnow() + timedelta(days=8)
        reset = _token(user_admin.reset_link(session, admin, signed.actor.user_id))
        with pytest.raises(NotAuthenticated, match="expired"):
            user_admin.user_for_token(session, reset, now=later)


def test_deactivation_ends_sessions_and_keys_and_only_admins_manage_users(db):
    with Session(db) as session:
        admin = make_user(session, "admin")
        finance = make_user(session, "finance_manager", "ann@example.com")
        token = auth.sign_in(session, "ann@example.com", "correct-horse-battery").token
        key = api_keys.create_api_key(session, SYSTEM, "erp", user_id=finance.user_id)
        session.commit()
        with pytest.raises(PermissionDenied):
            user_admin.set_active(session, finance, admin.user_id, False)
        with pytest.raises(Conflict):
            user_admin.set_active(session, admin, admin.user_id, False)
        user_admin.set_active(session, admin, finance.user_id, False)
        session.commit()
        assert auth.actor_for_token(session, token) is None
        assert api_keys.actor_for_api_key(session, key) is None
        user_admin.set_active(session, admin, finance.user_id, True)
        user_admin.set_roles(session, admin, finance.user_id, ["viewer"])
        session.commit()
        assert load_actor(session, finance.user_id).roles == {"viewer"}
        with pytest.raises(FieldErrors):
            user_admin.set_roles(session, admin, finance.user_id, ["wizard"])
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.object_type == "user",
                                                                            AuditEntry.object_id == str(finance.user_id)))]
        assert {"user.deactivate", "user.activate", "user.roles"} <= set(actions)
        assert session.get(User, finance.user_id).is_active


def test_the_organization_choice_offers_billing_organizations_not_every_customer(db):
    with Session(db) as session:
        platform = make_user(session, "platform_admin")
        for name, tier, parent in (("Northwind", "distributor", None), ("Contoso", "direct_customer", 1),
                                   ("Fabrikam", "seller", 1), ("Tailspin", "end_customer", 3)):
            session.add(Organization(name=name, tier=tier, country="DE", parent_id=parent))
            session.flush()
        session.commit()
        names = lambda actor, also: [n for _i, n in user_admin.organization_choices(session, actor, also)]  # noqa: E731
        assert names(platform, set()) == ["Fabrikam", "Northwind"]
        assert names(platform, {4}) == ["Fabrikam", "Northwind", "Tailspin"]
        # An organization's admin puts users in its own organization only.
        seller_admin = _member(session, "admin", "boss@fabrikam.example", 3)
        assert names(seller_admin, {1, 4}) == ["Fabrikam"]


def _member(session: Session, role: str, email: str, organization_id: int | None,
            vendor_id: int | None = None) -> Actor:
    user = users.add_user(session, SYSTEM, email, f"Test {role}", "correct-horse-battery", [role],
                          vendor_id=vendor_id, organization_id=organization_id)
    session.commit()
    actor = load_actor(session, stored_id(user))
    assert actor is not None
    return actor


@pytest.fixture
def two_organizations(db):
    """Northwind (the root) and its Seller 1, each with an admin, a staff user and a vendor's
    login, and a platform admin living in Northwind."""
    with Session(db) as session:
        northwind, seller = northwind_and_seller(session)
        their_vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input(vendor_code="N-1"))
        our_vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input(vendor_code="S-1", name="Beta"))
        our_vendor.owner_id = seller.id
        session.add(our_vendor)
        session.commit()
        people = {
            "platform": _member(session, "platform_admin", "platform@test.example", northwind.id),
            "north_admin": _member(session, "admin", "admin@northwind.example", northwind.id),
            "north_finance": _member(session, "finance_manager", "finance@northwind.example", northwind.id),
            "north_vendor": _member(session, "vendor", "ap@n1.example", None, their_vendor.id),
            "seller_admin": _member(session, "admin", "admin@seller.example", seller.id),
            "seller_approver": _member(session, "approver", "approver@seller.example", seller.id),
            "seller_vendor": _member(session, "vendor", "ap@s1.example", None, our_vendor.id),
        }
        return {"northwind": northwind.id, "seller": seller.id, **people}


def _state_of(session: Session, user_id: int) -> tuple[bool, list[str], int | None, str]:
    user = session.get(User, user_id)
    session.refresh(user)
    roles = sorted(load_actor(session, user_id).roles) if user.is_active else []
    return user.is_active, roles, user.organization_id, user.password_hash


def test_an_organization_admin_runs_its_own_users_and_another_organizations_answer_as_missing(db, two_organizations):
    o = two_organizations
    admin = o["seller_admin"]
    with Session(db) as session:
        listed = [u.email for u, _roles in users.list_users(session, admin)]
        assert listed == ["admin@seller.example", "ap@s1.example", "approver@seller.example"]
        theirs = {name: o[name].user_id for name in ("north_admin", "north_finance", "north_vendor", "platform")}
        before = {user_id: _state_of(session, user_id) for user_id in theirs.values()}
        missing = 999_999
        with pytest.raises(NotFound) as gone:
            user_admin.set_active(session, admin, missing, False)
        assert str(gone.value) == f"No user {missing}"
        for user_id in theirs.values():
            for change in (lambda: user_admin.set_active(session, admin, user_id, False),
                           lambda: user_admin.reset_link(session, admin, user_id),
                           lambda: user_admin.set_roles(session, admin, user_id, ["viewer"]),
                           lambda: user_admin.set_organization(session, admin, user_id, o["seller"])):
                with pytest.raises(NotFound) as refused:
                    change()
                assert str(refused.value) == f"No user {user_id}"  # as for a missing one, nothing named
            session.rollback()
        # Invitations land in the admin's own organization; another one answers as missing.
        with pytest.raises(FieldErrors) as elsewhere:
            user_admin.invite(session, admin, "spy@example.com", "Spy", ["viewer"], o["northwind"])
        with pytest.raises(FieldErrors) as nowhere:
            user_admin.invite(session, admin, "spy@example.com", "Spy", ["viewer"], missing)
        assert elsewhere.value.errors == {"organization_id": f"No organization {o['northwind']}"}
        assert nowhere.value.errors == {"organization_id": f"No organization {missing}"}
        session.rollback()
        invited = user_admin.invite(session, admin, "new@seller.example", "New", ["viewer"])
        assert invited.user.organization_id == o["seller"]
        # Nor does it move its users away, or give a role that runs the installation.
        mine = o["seller_approver"].user_id
        with pytest.raises(FieldErrors):
            user_admin.set_organization(session, admin, mine, o["northwind"])
        with pytest.raises(PermissionDenied):
            user_admin.set_organization(session, admin, mine, None)
        with pytest.raises(PermissionDenied):
            user_admin.set_roles(session, admin, mine, ["platform_admin"])
        with pytest.raises(PermissionDenied):
            user_admin.invite(session, admin, "boss@seller.example", "Boss", ["platform_admin"])
        session.rollback()
        # Its own users, and its vendor's login, it does run.
        user_admin.set_roles(session, admin, mine, ["viewer"])
        user_admin.set_active(session, admin, mine, False)
        assert "token=" in user_admin.reset_link(session, admin, o["seller_vendor"].user_id)
        session.commit()
        assert _state_of(session, mine)[:3] == (False, [], o["seller"])
        assert {user_id: _state_of(session, user_id) for user_id in theirs.values()} == before


def test_a_platform_admin_runs_every_organizations_users_and_only_it_touches_a_platform_admin(
        db, two_organizations):
    o = two_organizations
    with Session(db) as session:
        # Northwind's own admin sees the platform admin among its users, but may not change that
        # account (a reset link would hand it the installation) nor make another one.
        north = o["north_admin"]
        assert "platform@test.example" in [u.email for u, _r in users.list_users(session, north)]
        assert "admin@seller.example" not in [u.email for u, _r in users.list_users(session, north)]
        for change in (lambda: user_admin.reset_link(session, north, o["platform"].user_id),
                       lambda: user_admin.set_active(session, north, o["platform"].user_id, False),
                       lambda: user_admin.set_roles(session, north, o["north_finance"].user_id, ["platform_admin"])):
            with pytest.raises(PermissionDenied):
                change()
        session.rollback()
        platform = o["platform"]
        assert len(users.list_users(session, platform)) == 7
        user_admin.set_active(session, platform, o["seller_approver"].user_id, False)
        user_admin.set_organization(session, platform, o["north_finance"].user_id, o["seller"])
        user_admin.set_roles(session, platform, o["north_admin"].user_id, ["platform_admin"])
        assert "token=" in user_admin.reset_link(session, platform, o["seller_admin"].user_id)
        with pytest.raises(Conflict):
            user_admin.set_roles(session, platform, platform.user_id, ["admin"])
        session.commit()
        assert not session.get(User, o["seller_approver"].user_id).is_active
        assert session.get(User, o["north_finance"].user_id).organization_id == o["seller"]
        assert load_actor(session, o["north_admin"].user_id).roles == {"platform_admin"}


def test_upgrading_makes_the_installations_admins_platform_admins_and_nobody_else(db):
    """Before this release the admin role ran the whole installation. The upgrade keeps that for
    the admins of the root organization (or of none), leaves other organizations' admins their
    organization, and ends with the catalogue a fresh installation gets."""
    from vrm_dashboard.db import migrations
    from vrm_dashboard.db.models import Permission, Role
    from vrm_dashboard.domain.permissions import (
        ACTION_DESCRIPTIONS,
        DEFAULT_GRANTS,
        ROLE_DESCRIPTIONS,
        Action,
        RoleName,
    )
    from vrm_dashboard.services.identity import access_control

    with Session(db) as session:
        root = Organization(name="Northwind", tier="distributor", country="DE")
        session.add(root)
        session.flush()
        seller = Organization(name="Seller 1", tier="seller", country="DE", parent_id=root.id)
        session.add(seller)
        session.commit()
        root_id, seller_id = root.id, seller.id
        kept = _member(session, "platform_admin", "kept@test.example", root_id).user_id
    url = db.url.render_as_string(hide_password=False)
    db.dispose()
    migrations.downgrade(url, "0010")
    with Session(db) as session:
        assert "platform_admin" not in {r.name for r in session.exec(select(Role))}
        assert load_actor(session, kept).roles == {"admin"}  # nobody locked out by the downgrade
        people = {
            "root_admin": _member(session, "admin", "admin@root.example", root_id).user_id,
            "loose_admin": _member(session, "admin", "admin@nowhere.example", None).user_id,
            "seller_admin": _member(session, "admin", "admin@seller.example", seller_id).user_id,
            "root_finance": _member(session, "finance_manager", "finance@root.example", root_id).user_id,
        }
    migrations.upgrade(url)
    with Session(db) as session:
        roles = {name: load_actor(session, user_id).roles for name, user_id in people.items()}
        assert roles == {"root_admin": {"admin", "platform_admin"}, "loose_admin": {"admin", "platform_admin"},
                         "seller_admin": {"admin"}, "root_finance": {"finance_manager"}}
        assert load_actor(session, kept).roles == {"admin", "platform_admin"}
        for role in RoleName:
            granted = {a for a in Action if access_control.is_granted(session, role.value, a)}
            assert granted == DEFAULT_GRANTS[role], role
            assert session.exec(select(Role).where(Role.name == role.value)).one().description == \
                ROLE_DESCRIPTIONS[role]
        assert {p.action: p.description for p in session.exec(select(Permission))} == {
            a.value: d for a, d in ACTION_DESCRIPTIONS.items()}


def test_an_api_key_for_someone_else_is_made_only_within_the_admins_organization(db, two_organizations):
    """A key is its user's account: an organization admin makes one for its own users only, never
    for another organization's or for a platform admin."""
    o = two_organizations
    with Session(db) as session:
        for other in (o["north_finance"], o["platform"]):
            with pytest.raises(NotFound, match=f"No user {other.user_id}$"):
                api_keys.create_api_key(session, o["seller_admin"], "takeover", user_id=other.user_id)
        with pytest.raises(PermissionDenied):
            api_keys.create_api_key(session, o["north_admin"], "takeover", user_id=o["platform"].user_id)
        assert api_keys.create_api_key(session, o["seller_admin"], "erp", user_id=o["seller_approver"].user_id)
