"""On PostgreSQL the app runs as a role that may SELECT and INSERT on the ledger and nothing
more there: it cannot change, empty or unguard the ledger, as the tables' owner could."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.balances import account_balance, check_ledger
from collective.ledger.grants import RuntimeRoleError, grant_runtime_role
from collective.ledger.guards import GUARDED_TABLES
from tests.factories import make_collective


@dataclass(frozen=True)
class ThrowAwayRole:
    name: str
    url: str


@pytest.fixture
def admin(app, database_url):
    """A connection as the tables' owner, outside the tests' rolled-back transaction."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("roles and grants are PostgreSQL's; SQLite has neither")
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def login_role(admin, database_url):
    """A new login role holding nothing yet; dropped, with whatever it was granted, after."""
    name = f"collective_test_runtime_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    role = ThrowAwayRole(name, sa.make_url(database_url).set(username=name, password=password)
                         .render_as_string(hide_password=False))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role.name} LOGIN PASSWORD '{password}'"))
    try:
        yield role
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role.name}"))
            conn.execute(sa.text(f"DROP ROLE {role.name}"))


@pytest.fixture
def runtime_role(admin, login_role):
    """The login role with the runtime grants, committed so that its own connections see
    them."""
    with admin.begin() as conn:
        grant_runtime_role(conn, login_role.name)
    return login_role


def _privileges(conn: sa.Connection, role: str) -> dict[str, set[str]]:
    rows = conn.execute(sa.text(
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = :role AND table_schema = current_schema()"), {"role": role}).all()
    held: dict[str, set[str]] = {}
    for table, privilege in rows:
        held.setdefault(table, set()).add(privilege)
    return held


def test_the_runtime_grants_are_select_and_insert_on_the_ledger_and_read_write_elsewhere(
        admin, runtime_role):
    with admin.connect() as conn:
        held = _privileges(conn, runtime_role.name)
        tables = set(conn.scalars(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all())
    assert {t: held[t] for t in GUARDED_TABLES} == {
        t: {"SELECT", "INSERT"} for t in GUARDED_TABLES}
    others = tables - set(GUARDED_TABLES) - {"alembic_version"}
    assert others  # members, pool and benefits tables
    assert {t: held.get(t) for t in others} == {
        t: {"SELECT", "INSERT", "UPDATE", "DELETE"} for t in others}
    assert "alembic_version" not in held


#: What the owner could do to the ledger, and the runtime role may not.
REFUSED = [
    "UPDATE postings SET amount = -amount",
    "DELETE FROM postings",
    "TRUNCATE postings",
    "UPDATE journal_entries SET memo = 'edited'",
    "DELETE FROM journal_entries",
    "TRUNCATE journal_entries CASCADE",
    "SET session_replication_role = replica",
    "ALTER TABLE postings DISABLE TRIGGER postings_append_only",
    "ALTER TABLE journal_entries DISABLE TRIGGER USER",
    "DROP TRIGGER postings_append_only ON postings",
    "DROP FUNCTION ledger_refuse_change() CASCADE",
    "CREATE TRIGGER sneaky BEFORE INSERT ON postings "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
    # The audit log is guarded the same way (collective/audit).
    "UPDATE audit_events SET action = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
]


def test_the_runtime_role_posts_and_reads_entries_but_cannot_change_or_unguard_the_ledger(
        app, runtime_role, session_on):
    engine = sa.create_engine(runtime_role.url)
    try:
        with session_on(engine), app.app_context():
            assert db.session.scalar(sa.text("SELECT current_user")) == runtime_role.name
            # Everything the app does to post a balanced entry: a collective, its chart of
            # accounts and its founder (inserts and updates outside the ledger), the entry.
            collective_id = make_collective().collective_id
            bank = ledger.account_by_code(collective_id, ledger.BANK)
            fund = ledger.account_by_code(collective_id, ledger.COMMON_FUND)
            entry = ledger.post_entry(collective_id, kind="opening",
                                      occurred_on=date(2026, 1, 1), idempotency_key="opening",
                                      lines=[ledger.Line(bank.id, 100, "USD"),
                                             ledger.Line(fund.id, -100, "USD")])

            for statement in REFUSED:
                with pytest.raises(sa.exc.DBAPIError,
                                   match="permission denied|must be owner"), \
                        db.session.begin_nested():
                    db.session.execute(sa.text(statement))

            assert db.session.scalar(sa.text("SHOW session_replication_role")) == "origin"
            assert account_balance(bank.id) == {"USD": 100}
            assert [p.amount for p in ledger.find_entry(collective_id, "opening").postings
                    ] == [p.amount for p in entry.postings]
            assert check_ledger(collective_id).ok
    finally:
        engine.dispose()


def test_a_superuser_is_refused_as_the_runtime_role(admin):
    with admin.connect() as conn, pytest.raises(RuntimeRoleError, match="superuser"):
        grant_runtime_role(conn, conn.scalar(sa.text("SELECT current_user")))


def test_a_role_that_can_write_every_table_is_refused_and_keeps_no_grants(admin, login_role):
    with admin.connect() as conn:
        conn.execute(sa.text(f"GRANT pg_write_all_data TO {login_role.name}"))
        with pytest.raises(RuntimeRoleError, match="UPDATE, DELETE"):
            grant_runtime_role(conn, login_role.name)
        conn.rollback()
        assert _privileges(conn, login_role.name) == {}


def test_a_missing_role_is_named(admin):
    with admin.connect() as conn, pytest.raises(RuntimeRoleError, match="no role"):
        grant_runtime_role(conn, "collective_test_nobody")


def test_the_grant_command_prints_or_applies_the_grants(login_role, runner, setup):
    printed = runner.invoke(args=["ledger", "grant-runtime", login_role.name, "--sql"])
    assert printed.exit_code == 0, printed.output
    assert (f"GRANT SELECT, INSERT ON public.audit_events, public.journal_entries, "
            f"public.postings TO {login_role.name};") in printed.output
    with setup():
        assert _privileges(db.session.connection(), login_role.name) == {}

    applied = runner.invoke(args=["ledger", "grant-runtime", login_role.name])
    assert applied.exit_code == 0, applied.output
    with setup():  # the grants hold until the test's transaction rolls back
        assert _privileges(db.session.connection(), login_role.name)["postings"] == {
            "SELECT", "INSERT"}

    refused = runner.invoke(args=["ledger", "grant-runtime", "collective_test_nobody"])
    assert refused.exit_code == 1
    assert "no role 'collective_test_nobody'" in refused.output
