"""Settings from environment variables (and an optional `.env`).

Every setting is read and checked once at start-up; a missing or malformed one stops the
process with a message that names it, instead of failing later in the middle of a job.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    username: str | None
    password: str | None
    sender: str
    use_tls: bool
    # Messages per second at most (0: no limit), to stay inside the mail provider's quota.
    rate_per_second: int = 10


@dataclass(frozen=True)
class ImapSettings:
    host: str | None
    port: int
    username: str | None
    password: str | None
    folder: str
    ssl: bool = True


@dataclass(frozen=True)
class PayoutSettings:
    """Where payment files go, who pays, and how the sandbox payout provider behaves."""

    outbox_dir: Path
    payer_name: str
    payer_iban: str
    payer_bic: str
    ach_origin_routing: str
    ach_destination_routing: str
    ach_company_id: str
    claim_lease_seconds: int
    provider_db: Path
    provider_failure_percent: int
    provider_timeout_percent: int
    provider_settle_seconds: int
    # Where the sandbox provider posts its signed status callbacks (off when empty).
    provider_callback_url: str | None = None


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    session_hours: int
    lockout_attempts: int
    lockout_minutes: int
    default_payment_terms_days: int
    port: int
    smtp: SmtpSettings
    imap: ImapSettings
    payouts: PayoutSettings
    # Where recipients reach the app: the view and dispute links in e-mails point here.
    public_url: str = "http://localhost:3000"
    # The mailbox that receives bounces (delivery-status notifications) of our e-mails.
    bounce_imap: ImapSettings | None = None
    # The most one upload request may carry, all its files together (web/upload_limits.py):
    # 20 files of 20 MB by default.
    max_upload_mb: int = 400
    # Reverse proxies in front of the app that each add the address they were reached from to
    # X-Forwarded-For (rxconfig.py hands this to Reflex): the sign-in and sign-up throttles then
    # count the address the nearest of them saw. 0 (no proxy): the header, which any client may
    # write, is ignored and the connection's own address counts.
    trusted_proxy_hops: int = 0


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _database_url(env: Mapping[str, str]) -> str:
    raw = env.get("VRM_DATABASE_URL")
    if not raw:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DATA_DIR / 'vrm.db'}"
    if raw.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        return "postgresql+psycopg://" + raw[len("postgresql://"):]
    if raw.startswith(("sqlite:///", "postgresql+psycopg://")):
        return raw
    raise ConfigError(
        "VRM_DATABASE_URL must start with sqlite:/// or postgresql://, "
        f"got {raw.split(':', 1)[0]!r}"
    )


def _secret_key(env: Mapping[str, str]) -> str:
    raw = env.get("VRM_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise ConfigError("VRM_SECRET_KEY must be at least 32 characters long")
        return raw
    # A local install gets a key of its own, kept beside its data, so that signed links and
    # sessions survive a restart without anyone having to invent a secret.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _routing(env: Mapping[str, str], name: str, default: str) -> str:
    from stdnum.us import rtn

    raw = (env.get(name) or default).strip()
    if not rtn.is_valid(raw):
        raise ConfigError(f"{name} must be a 9-digit ABA routing number, got {raw!r}")
    return raw


def _payouts(env: Mapping[str, str]) -> PayoutSettings:
    from schwifty import BIC, IBAN

    iban = (env.get("VRM_PAYER_IBAN") or "DE89370400440532013000").replace(" ", "").upper()
    bic = (env.get("VRM_PAYER_BIC") or "COBADEFFXXX").strip().upper()
    try:
        IBAN(iban)
        BIC(bic)
    except ValueError as exc:
        raise ConfigError(f"VRM_PAYER_IBAN / VRM_PAYER_BIC: {exc}") from None
    company_id = (env.get("VRM_ACH_COMPANY_ID") or "1234567890").strip()
    if not 1 <= len(company_id) <= 10:
        raise ConfigError("VRM_ACH_COMPANY_ID must be 1 to 10 characters")
    return PayoutSettings(
        outbox_dir=Path(env.get("VRM_PAYMENT_OUTBOX") or DATA_DIR / "payment_outbox"),
        payer_name=(env.get("VRM_PAYER_NAME") or "VRM Dashboard Demo GmbH").strip(),
        payer_iban=iban,
        payer_bic=bic,
        ach_origin_routing=_routing(env, "VRM_ACH_ORIGIN_ROUTING", "021000021"),
        ach_destination_routing=_routing(env, "VRM_ACH_DESTINATION_ROUTING", "021000021"),
        ach_company_id=company_id,
        claim_lease_seconds=_int(env, "VRM_PAYOUT_CLAIM_LEASE_SECONDS", 300, 0, 24 * 3600),
        provider_db=Path(env.get("VRM_SANDBOX_PROVIDER_DB") or DATA_DIR / "sandbox_provider.db"),
        provider_failure_percent=_int(env, "VRM_SANDBOX_FAILURE_PERCENT", 5, 0, 100),
        provider_timeout_percent=_int(env, "VRM_SANDBOX_TIMEOUT_PERCENT", 2, 0, 100),
        provider_settle_seconds=_int(env, "VRM_SANDBOX_SETTLE_SECONDS", 30, 0, 7 * 24 * 3600),
        provider_callback_url=env.get("VRM_SANDBOX_CALLBACK_URL") or None,
    )


def _imap(env: Mapping[str, str], prefix: str) -> ImapSettings:
    """A mailbox read by the app: the invoice mailbox (VRM_IMAP_*) or the bounce mailbox."""
    return ImapSettings(
        host=env.get(f"{prefix}HOST") or None,
        port=_int(env, f"{prefix}PORT", 993, 1, 65535),
        username=env.get(f"{prefix}USER") or None,
        password=env.get(f"{prefix}PASSWORD") or None,
        folder=env.get(f"{prefix}FOLDER", "INBOX"),
        ssl=_bool(env, f"{prefix}SSL", True),
    )


def environment() -> dict[str, str]:
    """Where settings come from: the process's environment variables over the optional `.env`."""
    merged = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    merged.update(os.environ)
    return merged


def trusted_proxy_hops(env: Mapping[str, str]) -> int:
    """VRM_TRUSTED_PROXY_HOPS, checked: read on its own by rxconfig.py, which Reflex loads before
    the app (and so before the other settings)."""
    return _int(env, "VRM_TRUSTED_PROXY_HOPS", 0, 0, 10)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError naming the first bad one."""
    if env is None:
        env = environment()
    smtp_sender = env.get("VRM_SMTP_FROM", "billing@vrm.example")
    if "@" not in smtp_sender:
        raise ConfigError(f"VRM_SMTP_FROM must be an e-mail address, got {smtp_sender!r}")
    return Settings(
        database_url=_database_url(env),
        secret_key=_secret_key(env),
        session_hours=_int(env, "VRM_SESSION_HOURS", 12, 1, 24 * 30),
        lockout_attempts=_int(env, "VRM_LOCKOUT_ATTEMPTS", 5, 1, 100),
        lockout_minutes=_int(env, "VRM_LOCKOUT_MINUTES", 15, 1, 24 * 60),
        default_payment_terms_days=_int(env, "VRM_DEFAULT_PAYMENT_TERMS_DAYS", 30, 0, 365),
        port=_int(env, "PORT", 3000, 1, 65535),
        smtp=SmtpSettings(
            host=env.get("VRM_SMTP_HOST") or None,
            port=_int(env, "VRM_SMTP_PORT", 587, 1, 65535),
            username=env.get("VRM_SMTP_USER") or None,
            password=env.get("VRM_SMTP_PASSWORD") or None,
            sender=smtp_sender,
            use_tls=_bool(env, "VRM_SMTP_TLS", True),
            rate_per_second=_int(env, "VRM_SMTP_RATE", 10, 0, 10_000),
        ),
        imap=_imap(env, "VRM_IMAP_"),
        payouts=_payouts(env),
        public_url=(env.get("VRM_PUBLIC_URL") or f"http://localhost:{_int(env, 'PORT', 3000, 1, 65535)}").rstrip("/"),
        bounce_imap=_imap(env, "VRM_BOUNCE_IMAP_"),
        max_upload_mb=_int(env, "VRM_MAX_UPLOAD_MB", 400, 1, 10_240),
        trusted_proxy_hops=trusted_proxy_hops(env),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
