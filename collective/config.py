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
        "SESSION_COOKIE_SECURE": env == "production"
        and os.environ.get("COLLECTIVE_INSECURE_COOKIES") != "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        #: werkzeug's scrypt at its default work factor (n=2^15, r=8, p=1).
        "PASSWORD_HASH_METHOD": "scrypt",
        "INVITATION_TTL_HOURS": int(os.environ.get("INVITATION_TTL_HOURS", "168")),
    }
