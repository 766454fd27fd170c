"""Fixtures: a migrated real database (SQLite, or PostgreSQL from DATABASE_URL), an app, and
per-test transactions that roll back.

Under pytest-xdist (`make unit` runs 2 workers) each worker has a database of its own: SQLite
a file in the worker's own temporary folder, PostgreSQL DATABASE_URL's database with the
worker's name appended (`test` -> `test_gw0`), created when missing; pytest_configure points
the worker's DATABASE_URL at it, so everything in the worker that reads it uses it too."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import orm as so

os.environ["COLLECTIVE_ENV"] = "testing"

from collective import create_app  # noqa: E402
from collective.config import normalise_database_url  # noqa: E402
from collective.extensions import db, limiter  # noqa: E402

#: The database PostgreSQL always has, through which a worker's database is created.
MAINTENANCE_DATABASE = "postgres"

#: Where scratch_app builds a PostgreSQL database of its own, beside the shared one.
SCRATCH_SCHEMA = "migration_scratch"


def reset_database(engine: sa.Engine) -> None:
    """Empty the test database completely, so the migrations start from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    elif engine.dialect.name == "sqlite":
        path = engine.url.database
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        raise RuntimeError(f"tests do not support {engine.dialect.name}")


def worker_database_url(url: str, worker: str) -> str:
    """`url` with the xdist worker's name appended to its database: test -> test_gw0, and a
    SQLite file's name: tests.sqlite3 -> tests_gw0.sqlite3."""
    parsed = sa.make_url(normalise_database_url(url))
    if not parsed.database or parsed.database == ":memory:":
        return url  # an in-memory SQLite database is the process's own already
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        name = str(path.with_name(f"{path.stem}_{worker}{path.suffix}"))
    else:
        name = f"{parsed.database}_{worker}"
    return parsed.set(database=name).render_as_string(False)


def create_database_if_missing(url: str) -> None:
    """Create `url`'s PostgreSQL database through the maintenance database, unless it
    exists; an unreachable server raises (the run fails, it is never skipped)."""
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database=MAINTENANCE_DATABASE),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": parsed.database})
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(parsed.database)
                conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()


def pytest_configure(config) -> None:
    """In an xdist worker, point DATABASE_URL at the worker's own database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("DATABASE_URL")
    if worker and url:
        os.environ["DATABASE_URL"] = worker_database_url(url, worker)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """DATABASE_URL (this worker's own under xdist), else a SQLite file of this run (of
    this worker: xdist gives each worker its own temporary folder)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        if os.environ.get("PYTEST_XDIST_WORKER") and url.startswith("postgresql"):
            create_database_if_missing(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'collective-test.sqlite3'}"


class TokenClient(FlaskClient):
    """A test client that sends this session's CSRF token with every POST, PUT, PATCH and
    DELETE (in the X-CSRFToken header, as a page's form would in its hidden field), so the
    suite runs with CSRF protection on. `adds_csrf_token = False` posts without one."""

    adds_csrf_token = True

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if self.adds_csrf_token and method not in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self._token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def _token(self) -> str:
        """The signed token of this client's session, as flask_wtf.csrf.generate_csrf makes
        it (the raw token kept in the session, signed with the secret key)."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        secret = self.application.config.get("WTF_CSRF_SECRET_KEY") or \
            self.application.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app on a database built by the migrations, once per test run."""
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,  # every POST carries its token (TokenClient)
        "SECRET_KEY": "test-secret",
        "SERVER_NAME": "collective.test",
        # Still scrypt, at a lighter work factor: thousands of test users stay fast.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        # Receipts land in this run's own folder, not the checkout's instance/.
        "RECEIPT_STORAGE_DIR": str(tmp_path_factory.mktemp("receipts")),
    })
    app.test_client_class = TokenClient
    with app.app_context():
        # No skip: an unreachable database fails the whole run, loudly.
        reset_database(db.engine)
        flask_migrate.upgrade()
    return app


@pytest.fixture
def scratch_app(database_url, tmp_path):
    """An app on an empty database of this run's kind, apart from the one the tests share."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        admin = None
    else:
        admin = sa.create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
        url = sa.make_url(database_url).update_query_dict(
            {"options": f"-csearch_path={SCRATCH_SCHEMA}"}).render_as_string(False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE"))
            admin.dispose()


@contextmanager
def rolled_back_session(engine: sa.Engine) -> Iterator[so.scoped_session]:
    """Point `db.session` at one connection of `engine`, in a transaction that rolls back
    at the end, even what views and services commit."""
    connection = engine.connect()
    transaction = connection.begin()
    original = db.session
    db.session = so.scoped_session(
        so.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield db.session
    finally:
        # Each app context's session was closed by Flask-SQLAlchemy's teardown.
        db.session = original
        transaction.rollback()
        connection.close()


@pytest.fixture
def db_session(app):
    """A session whose work rolls back after the test, even what views commit."""
    with app.app_context():
        engine = db.engine
    with rolled_back_session(engine) as session:
        yield session


@pytest.fixture
def session_on():
    """`with session_on(engine):` points db.session at another engine (another database
    role, say), rolled back at the end like db_session."""
    return rolled_back_session


@pytest.fixture
def ctx(app, db_session):
    """An app context for calling services directly (don't combine with `client`)."""
    with app.app_context():
        yield db_session


@pytest.fixture
def client(app, db_session):
    # The rate limits hold in the tests too, counted afresh for each test.
    limiter.reset()
    return app.test_client()


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = "correct horse battery"):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def setup(app, db_session):
    """Run a block of set-up code in its own app context: `with setup(): ...`."""
    return app.app_context


from tests.smtp_server import smtp  # noqa: E402,F401  (the SMTP server fixture)
