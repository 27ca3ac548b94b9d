"""Settings an admin changes on screen and the services obey at once: segregation of duties
and the approval thresholds (all or nothing), and the mail servers (a platform admin's), whose
passwords are kept encrypted and never shown or logged."""
import json
import socket

import pytest
from sqlmodel import select

from tests.helpers import SYSTEM, make_invoice, make_user, vendor_input
from tests.smtp_server import smtp_server
from vrm_dashboard import config
from vrm_dashboard.db.models import AppSetting, AuditEntry
from vrm_dashboard.services.invoices import approvals
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.mail import account_mail, outgoing as outgoing_mail, settings as mail_settings
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied
from vrm_dashboard.services.vendors import records as vendor_service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_admin_turns_segregation_of_duties_off_and_the_submitter_may_approve(session):
    admin = make_user(session, "admin")
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input())
    invoice = make_invoice(session, vendor.id, "SOD-1", 10_000)
    invoice.created_by_id = finance.user_id
    session.commit()
    refused = approvals.approve(session, finance, Selection([invoice.id]))
    assert refused.moved == 0 and "segregation of duties" in refused.refused[0].reason
    with pytest.raises(PermissionDenied):
        app_settings.put_many(session, finance, {app_settings.SOD_INVOICE_APPROVAL: False})
    changed = app_settings.put_many(session, admin, {app_settings.SOD_INVOICE_APPROVAL: False,
                                                     app_settings.COOLING_OFF_HOURS: 72})
    session.commit()
    assert changed == [app_settings.SOD_INVOICE_APPROVAL]  # 72 is the default already
    assert approvals.approve(session, finance, Selection([invoice.id])).moved == 1


def test_threshold_settings_are_saved_all_or_none(session):
    admin = make_user(session, "admin")
    with pytest.raises(FieldErrors) as bad:
        app_settings.put_many(session, admin, {app_settings.TWO_APPROVER_THRESHOLDS: {"EUR": "5000"},
                                               app_settings.COOLING_OFF_HOURS: -1})
    assert app_settings.COOLING_OFF_HOURS in bad.value.errors
    session.rollback()
    assert app_settings.get(session, app_settings.TWO_APPROVER_THRESHOLDS) != {"EUR": "5000"}
    from vrm_dashboard.domain.approval_rules import parse_thresholds, thresholds_text
    assert parse_thresholds("eur 5,000\n* 10000") == {"EUR": "5000", "*": "10000"}
    assert thresholds_text({"*": "1", "USD": "2"}) == "USD 2\n* 1"
    with pytest.raises(ValueError, match="Line 1"):
        parse_thresholds("EUR")


def test_mail_servers_saved_on_screen_replace_the_environment_and_keep_passwords_secret(session):
    admin = make_user(session, "platform_admin")  # the mail servers serve the whole installation
    viewer = make_user(session, "viewer")
    port = free_port()
    with pytest.raises(FieldErrors) as bad:
        mail_settings.save(session, admin, mail_settings.SMTP, mail_settings.ServerForm(
            host="mail host", port="99999", sender="nobody"))
    assert set(bad.value.errors) == {"host", "port", "sender"}
    with pytest.raises(PermissionDenied):
        mail_settings.save(session, viewer, mail_settings.SMTP, mail_settings.ServerForm(
            host="127.0.0.1", port=str(port), sender="ap@payer.example"))
    mail_settings.save(session, admin, mail_settings.SMTP, mail_settings.ServerForm(
        host="127.0.0.1", port=str(port), username="", password="s3cret-pass", use_tls=False,
        sender="ap@payer.example", rate_per_second="0"))
    session.commit()
    raw = session.get(AppSetting, mail_settings.SMTP).value
    assert "s3cret-pass" not in raw and json.loads(raw)["password_encrypted"]
    assert mail_settings.smtp(session).password == "s3cret-pass"
    logged = session.exec(select(AuditEntry).where(AuditEntry.action == "setting.mail")).one()
    assert "s3cret-pass" not in json.dumps([logged.before, logged.after])
    views = {v.key: v for v in mail_settings.current(session, admin)}
    assert views[mail_settings.SMTP].source == "Saved here" and views[mail_settings.SMTP].values["password_set"]
    assert "password" not in views[mail_settings.SMTP].values
    # An empty password keeps the saved one.
    mail_settings.save(session, admin, mail_settings.SMTP, mail_settings.ServerForm(
        host="127.0.0.1", port=str(port), use_tls=False, sender="billing@payer.example", rate_per_second="0"))
    session.commit()
    assert mail_settings.smtp(session).password == "s3cret-pass"
    # The mail job sends through the saved server, from the saved sender.
    account_mail.queue(session, "someone@example.com", "Hello", "A message")
    session.commit()
    with smtp_server(port) as inbox:
        assert outgoing_mail.send_queued(session, parallel=False).rows == 1
    assert inbox.to("someone@example.com")[0]["From"] == "billing@payer.example"
    mail_settings.use_environment(session, admin, mail_settings.SMTP)
    session.commit()
    assert session.get(AppSetting, mail_settings.SMTP) is None
    assert mail_settings.smtp(session) == config.settings().smtp


def test_installation_settings_are_the_platform_admins_and_business_settings_the_organizations(session):
    """An organization's admin changes its business settings, but not what serves every
    organization: the mail servers and the installation's own settings; it does not see the
    mail servers either. A platform admin does both."""
    org_admin = make_user(session, "admin")
    platform = make_user(session, "platform_admin")
    port = str(free_port())
    server = mail_settings.ServerForm(host="127.0.0.1", port=port, sender="ap@payer.example", use_tls=False)
    for refused in (lambda: mail_settings.save(session, org_admin, mail_settings.SMTP, server),
                    lambda: mail_settings.use_environment(session, org_admin, mail_settings.SMTP),
                    lambda: mail_settings.current(session, org_admin),
                    lambda: app_settings.put(session, org_admin, app_settings.MAX_RATE_AGE_DAYS, 366),
                    lambda: app_settings.put_many(session, org_admin, {app_settings.COLLECTOR_FAILURE_PERCENT: 50})):
        with pytest.raises(PermissionDenied, match="platform.manage"):
            refused()
    session.rollback()
    assert session.get(AppSetting, mail_settings.SMTP) is None
    assert app_settings.get(session, app_settings.MAX_RATE_AGE_DAYS) == app_settings.DEFAULTS[app_settings.MAX_RATE_AGE_DAYS]
    assert app_settings.put_many(session, org_admin, {app_settings.SOD_PAYOUT_APPROVAL: False}) == [
        app_settings.SOD_PAYOUT_APPROVAL]
    mail_settings.save(session, platform, mail_settings.SMTP, server)
    app_settings.put(session, platform, app_settings.MAX_RATE_AGE_DAYS, 366)
    session.commit()
    assert mail_settings.smtp(session).host == "127.0.0.1"
    assert app_settings.get(session, app_settings.MAX_RATE_AGE_DAYS) == 366
