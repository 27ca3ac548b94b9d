import json
import os
import subprocess
import sys

import pytest

from vrm_dashboard.config import PROJECT_ROOT, ConfigError, load_settings

KEY = {"VRM_SECRET_KEY": "k" * 40}


def test_defaults_are_usable():
    s = load_settings({**KEY})
    assert s.database_url.startswith("sqlite:///") and s.port == 3000
    assert s.default_payment_terms_days == 30


@pytest.mark.parametrize(
    "env, name",
    [
        ({"VRM_SMTP_PORT": "abc"}, "VRM_SMTP_PORT"),
        ({"VRM_SMTP_PORT": "70000"}, "VRM_SMTP_PORT"),
        ({"VRM_DATABASE_URL": "mysql://x"}, "VRM_DATABASE_URL"),
        ({"VRM_SECRET_KEY": "short"}, "VRM_SECRET_KEY"),
        ({"VRM_SMTP_TLS": "maybe"}, "VRM_SMTP_TLS"),
        ({"PORT": "-1"}, "PORT"),
        ({"VRM_SMTP_FROM": "nobody"}, "VRM_SMTP_FROM"),
        ({"VRM_TRUSTED_PROXY_HOPS": "-1"}, "VRM_TRUSTED_PROXY_HOPS"),
        ({"VRM_TRUSTED_PROXY_HOPS": "one"}, "VRM_TRUSTED_PROXY_HOPS"),
    ],
)
def test_a_malformed_setting_is_named(env, name):
    with pytest.raises(ConfigError, match=name):
        load_settings({**KEY, **env})


def test_postgres_urls_use_the_shipped_driver():
    s = load_settings({**KEY, "VRM_DATABASE_URL": "postgresql://u@127.0.0.1/db"})
    assert s.database_url == "postgresql+psycopg://u@127.0.0.1/db"


def _reflex_config(**env: str) -> dict:
    """What Reflex is told by rxconfig.py (as `reflex run` loads it) under these variables."""
    script = ("import json, rxconfig; c = rxconfig.config; "
              "print(json.dumps({'origins': list(c.cors_allowed_origins), 'hops': c.trusted_proxy_hops}))")
    run = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PORT": "3000", **env}, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_reflex_is_told_our_origins_as_browsers_write_them_and_how_many_proxies_to_trust():
    told = _reflex_config(VRM_PUBLIC_URL="HTTPS://Vrm.Example.com:443/app/", VRM_TRUSTED_PROXY_HOPS="1")
    # A browser's Origin has no path, no trailing slash, no capitals and no default port.
    assert told["origins"] == ["https://vrm.example.com", "http://localhost:3000", "http://127.0.0.1:3000"]
    assert told["hops"] == 1
    assert _reflex_config(VRM_PUBLIC_URL="", VRM_TRUSTED_PROXY_HOPS="")["hops"] == 0  # X-Forwarded-For ignored
    assert load_settings({**KEY, "VRM_TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
