"""Settings read from the environment."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ENVIRONMENTS = ("development", "testing", "production")


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    path = instance_path / "dev-secret-key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def _flag(name: str, default: bool = False) -> bool:
    """A yes/no setting: 1, true, yes or on (any case) is yes."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def mail_settings() -> dict:
    """Outgoing mail (docs/mail.md). With no MAIL_SERVER, development writes each message to
    instance/mail/ and production keeps it waiting in the outbox until a server is set."""
    use_ssl = _flag("MAIL_USE_SSL")
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "465" if use_ssl else "587")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER",
                                              "Collective <noreply@localhost>"),
        #: Seconds to wait for the SMTP server before an attempt counts as failed.
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        #: Tries before a message is marked failed and shown to its collective's treasurers.
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "8")),
        #: The first retry waits this long; each later one twice as long as the one before.
        "MAIL_RETRY_SECONDS": int(os.environ.get("MAIL_RETRY_SECONDS", "60")),
        #: Where development writes messages as .eml files (default: instance/mail).
        "MAIL_FILE_DIR": os.environ.get("MAIL_FILE_DIR", ""),
        #: The app's address as members reach it, e.g. https://coop.example: links in mail
        #: queued outside a request (the scheduler) start with it. Default: localhost:5000.
        "BASE_URL": os.environ.get("BASE_URL", "").strip(),
    }


def webhook_settings(env: str) -> dict:
    """Webhook deliveries (docs/webhooks.md)."""
    development = env == "development"
    return {
        #: Tries before a delivery is marked failed and shown as such to the treasurers.
        "WEBHOOKS_MAX_ATTEMPTS": _int("WEBHOOKS_MAX_ATTEMPTS", 8),
        #: The first retry waits this long; each later one twice as long as the one before.
        "WEBHOOKS_RETRY_SECONDS": _int("WEBHOOKS_RETRY_SECONDS", 60),
        #: Seconds to wait for a receiver to connect, and then for each read.
        "WEBHOOKS_TIMEOUT": float(os.environ.get("WEBHOOKS_TIMEOUT", "5")),
        #: Plain http:// URLs (development only: a receiver on this machine).
        "WEBHOOKS_ALLOW_HTTP": _flag("WEBHOOKS_ALLOW_HTTP", development),
        #: URLs whose host is loopback, private, link-local or otherwise not public (development
        #: only: never in production, where it would let a treasurer reach internal services).
        "WEBHOOKS_ALLOW_PRIVATE_URLS": _flag("WEBHOOKS_ALLOW_PRIVATE_URLS", development),
        #: Days a delivered or failed delivery (and its attempts) is kept before the
        #: scheduler's clean-up forgets it; pending ones are never cleaned up.
        "WEBHOOKS_KEEP_DAYS": _int("WEBHOOKS_KEEP_DAYS", 30),
    }


def upload_settings() -> dict:
    """Uploads: expense receipts (docs/expenses.md)."""
    return {
        #: Where receipts are kept: 'local' (a folder) is the one backend so far.
        "RECEIPT_STORAGE": os.environ.get("RECEIPT_STORAGE", "local"),
        #: The local folder for receipts (default: instance/receipts).
        "RECEIPT_STORAGE_DIR": os.environ.get("RECEIPT_STORAGE_DIR", ""),
        #: The largest request body: five 10 MB receipts and the form around them. A larger
        #: upload is answered 413 before any view reads it.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_REQUEST_BYTES", str(51 * 1024 * 1024))),
    }


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


#: The rate limits (collective/web/limits.py), in Flask-Limiter's notation. Sign-in counts
#: only failed attempts, so a member who signs in often is never slowed down.
RATE_LIMITS = {
    "login_per_account": "10 per 15 minutes",
    "login_per_ip": "50 per 15 minutes",
    "register_per_address": "5 per hour",
    "register_per_ip": "10 per hour",
    "forgot_per_ip": "30 per hour",
    "token_link_per_ip": "30 per 15 minutes",
    "token_link_per_token": "10 per 15 minutes",
    "invitation_per_ip": "30 per 15 minutes",
    "invitation_per_account": "10 per hour",
    # The JSON API (collective/api/limits.py): every request, per token and per address.
    "api_per_token": "600 per minute",
    "api_per_ip": "1200 per minute",
    # Making personal access tokens, per account and per address.
    "token_create_per_account": "20 per hour",
    "token_create_per_ip": "60 per hour",
}


def web_settings(env: str) -> dict:
    """Rate limits, security headers and the proxy in front of the app (docs/deploying.md)."""
    production = env == "production"
    return {
        #: Where the rate limits count: memory:// keeps each worker's own count (development,
        #: tests); production must name it (settings_from_environment refuses to start
        #: without), a store every worker shares, e.g. redis://redis.internal:6379/0.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "collective",
        "RATE_LIMITS": dict(RATE_LIMITS),
        #: Strict-Transport-Security on HTTPS responses; 0 sends none.
        "HSTS_SECONDS": _int("HSTS_SECONDS", 365 * 24 * 3600 if production else 0),
        #: How many proxies in front of the app set each X-Forwarded-* header (0: trust none).
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "PROXY_FIX_X_PROTO": _int("PROXY_FIX_X_PROTO", 0),
        "PROXY_FIX_X_HOST": _int("PROXY_FIX_X_HOST", 0),
        "PROXY_FIX_X_PORT": _int("PROXY_FIX_X_PORT", 0),
        "PROXY_FIX_X_PREFIX": _int("PROXY_FIX_X_PREFIX", 0),
    }


def settings_from_environment(instance_path: Path) -> dict:
    """Build the app's settings from environment variables."""
    env = os.environ.get("COLLECTIVE_ENV", "production")
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"COLLECTIVE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    default_db = f"sqlite:///{instance_path / 'collective.sqlite3'}"
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if env == "production":
            raise RuntimeError(
                "SECRET_KEY must be set in production "
                "(or set COLLECTIVE_ENV=development for a local instance)."
            )
        secret_key = _dev_secret_key(instance_path)
    if (env == "production" and _flag("RATELIMIT_ENABLED", True)
            and not os.environ.get("RATELIMIT_STORAGE_URI")):
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI must be set in production, for every process (they read "
            "the same settings): a store every web worker shares, such as "
            "redis://127.0.0.1:6379/0, or memory:// for a single worker that counts alone. "
            "RATELIMIT_ENABLED=0 runs without rate limits (docs/deploying.md, section 4a)."
        )
    secure_cookies = env == "production" and os.environ.get("COLLECTIVE_INSECURE_COOKIES") != "1"
    return {
        "COLLECTIVE_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "WTF_CSRF_TIME_LIMIT": None,
        #: werkzeug's scrypt at its default work factor (n=2^15, r=8, p=1).
        "PASSWORD_HASH_METHOD": "scrypt",
        "INVITATION_TTL_HOURS": int(os.environ.get("INVITATION_TTL_HOURS", "168")),
        #: Freeze what start-up made (gc.freeze, see create_app); off in tests, whose one
        #: process makes many apps.
        "FREEZE_START_HEAP": env != "testing",
        **mail_settings(),
        **upload_settings(),
        **webhook_settings(env),
        **web_settings(env),
    }
