import pytest

from vrm_dashboard.config import ConfigError, load_settings

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
    ],
)
def test_a_malformed_setting_is_named(env, name):
    with pytest.raises(ConfigError, match=name):
        load_settings({**KEY, **env})


def test_postgres_urls_use_the_shipped_driver():
    s = load_settings({**KEY, "VRM_DATABASE_URL": "postgresql://u@127.0.0.1/db"})
    assert s.database_url == "postgresql+psycopg://u@127.0.0.1/db"
