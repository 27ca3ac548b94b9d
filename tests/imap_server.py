"""A real IMAP server for the tests: Debian's dovecot on 127.0.0.1, one user, in a temp dir."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vrm_dashboard.config import ImapSettings

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "invoices", "mailbox-test-pass"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available() -> bool:
    return Path(DOVECOT).exists()


@contextmanager
def dovecot() -> Iterator[ImapSettings]:
    # Not pytest's tmp_path: its parents are private to root, and dovecot reads as its own user.
    root = Path(tempfile.mkdtemp(prefix="vrm-imap-"))
    port = _free_port()
    mail_user = pwd.getpwnam("dovecot")  # mail is never stored as root; dovecot's own user owns it
    home = root / "home"
    home.mkdir(parents=True)
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    os.chmod(root, 0o755)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {mail_user.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
""")
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError((root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else "dovecot did not start")
                time.sleep(0.1)
        yield ImapSettings(host="127.0.0.1", port=port, username=USER, password=PASSWORD, folder="INBOX", ssl=False)
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)
