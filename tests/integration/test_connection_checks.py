"""'Test connection' against real counterparts on 127.0.0.1: the SMTP server, dovecot IMAP,
a drop folder and a SQL source; a wrong password or a closed port reads as a failure with
its reason, and only admins may run the checks."""
import os
from dataclasses import replace

import pytest

from tests import imap_server
from tests.helpers import SYSTEM, free_port, make_user
from tests.smtp_server import smtp_server
from vrm_dashboard import config
from vrm_dashboard.services.intake import connectors
from vrm_dashboard.services.platform import connection_checks
from vrm_dashboard.services.platform.errors import PermissionDenied


@pytest.fixture
def clean_settings():
    yield
    for name in ("VRM_IMAP_HOST", "VRM_IMAP_PORT", "VRM_IMAP_USER", "VRM_IMAP_PASSWORD", "VRM_IMAP_SSL",
                 "VRM_SMTP_HOST", "VRM_SMTP_PORT", "VRM_SMTP_TLS"):
        os.environ.pop(name, None)
    config.settings.cache_clear()


@pytest.mark.skipif(not imap_server.available(), reason="dovecot-imapd is installed by `make test`")
def test_each_connection_is_tried_and_reported(session, tmp_path, clean_settings):
    admin = make_user(session, "platform_admin")
    with pytest.raises(PermissionDenied):  # the installation's mail servers are not an organization's
        connection_checks.check_all(session, make_user(session, "admin"))
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "clicks-1.csv").write_text("a,b\n1,2\n")
    connectors.configure_source(session, SYSTEM, "tracker-folder", "drop_folder", {"path": str(drop)})
    connectors.configure_source(session, SYSTEM, "erp", "sql", {"url": f"sqlite:///{tmp_path / 'missing' / 'erp.db'}",
                                                                "query": "select 1", "cursor_field": "id"})
    session.commit()
    with imap_server.dovecot() as imap, smtp_server(free_port()):
        os.environ.update(VRM_IMAP_HOST=imap.host, VRM_IMAP_PORT=str(imap.port), VRM_IMAP_USER=imap.username,
                          VRM_IMAP_PASSWORD=imap.password, VRM_IMAP_SSL="false")
        config.settings.cache_clear()
        checks = {c.name: c for c in connection_checks.check_all(session, admin)}
        assert checks["Outgoing mail (SMTP)"].ok, checks["Outgoing mail (SMTP)"].message
        assert checks["Invoice mailbox (IMAP)"].ok and "INBOX holds 0 messages" in checks["Invoice mailbox (IMAP)"].message
        assert not checks["Bounce mailbox (IMAP)"].ok and "VRM_BOUNCE_IMAP_HOST" in checks["Bounce mailbox (IMAP)"].message
        assert checks["Connector tracker-folder"].ok and "1 files waiting" in checks["Connector tracker-folder"].message
        assert not checks["Connector erp"].ok and "OperationalError" in checks["Connector erp"].message
        ok, message = connection_checks._imap(replace(imap, password="wrong"), "VRM_IMAP_HOST")
        assert not ok and message
    closed = connection_checks._smtp(replace(config.settings().smtp, host="127.0.0.1", port=free_port(),
                                             use_tls=False))
    assert closed[0] is False and closed[1]
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        connection_checks.check_all(session, viewer)
