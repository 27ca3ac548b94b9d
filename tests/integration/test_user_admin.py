"""Administering users: invitation and reset links (signed, expiring, used once),
deactivation ending sessions and keys, roles and organization, all audited and admin-only."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_user
from vrm_dashboard.db.models import AuditEntry, Organization, User, utcnow
from vrm_dashboard.services.identity import api_keys, auth, user_admin
from vrm_dashboard.services.platform.actors import load_actor
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotAuthenticated, PermissionDenied


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
        admin = make_user(session, "admin")
        for name, tier, parent in (("Northwind", "distributor", None), ("Contoso", "direct_customer", 1),
                                   ("Fabrikam", "seller", 1), ("Tailspin", "end_customer", 3)):
            session.add(Organization(name=name, tier=tier, country="DE", parent_id=parent))
            session.flush()
        session.commit()
        names = lambda also: [n for _i, n in user_admin.organization_choices(session, admin, also)]  # noqa: E731
        assert names(set()) == ["Fabrikam", "Northwind"]
        assert names({4}) == ["Fabrikam", "Northwind", "Tailspin"]
