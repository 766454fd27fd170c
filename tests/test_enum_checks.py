"""Kinds, states, statuses, roles, methods and choices are enums, and the database holds them
to the enum: a CHECK constraint generated from it refuses any other value, however written."""
from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from collective.benefits.models import (
    BenefitKind,
    BenefitRun,
    Claim,
    ClaimEvent,
    ClaimStatus,
    FundRunFailure,
    RunKind,
    RunLine,
    RunLineKind,
)
from collective.books.bank.models import BankStatement, StatementFormat
from collective.books.expenses.models import Expense, ExpenseKind, ExpenseStatus
from collective.books.invoices.models import (
    InvoiceMovement,
    MovementKind,
    NumberCounter,
    Series,
)
from collective.extensions import db
from collective.federation.models import (
    Federation,
    FederationStatus,
    SharedPitch,
    ShareRole,
    ShareStatus,
)
from collective.learning.models import Audience, LearningModule
from collective.ledger import services as ledger
from collective.ledger.models import (
    Account,
    AccountType,
    EntryKind,
    JournalEntry,
    PeriodAction,
    PeriodEvent,
)
from collective.mail.models import OutboxMessage, OutboxStatus
from collective.members.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
    Role,
    Vote,
    VoteChoice,
)
from collective.notifications.kinds import Channel
from collective.notifications.models import Notification, NotificationPreference
from collective.pool.models import (
    Allocation,
    AllocationRole,
    Pitch,
    PitchEvent,
    PitchState,
    ShareRule,
    SplitMethod,
)
from collective.webhooks.models import WebhookDelivery
from tests.factories import make_collective
from tests.pool.factories import found_rule, make_pitch

#: Every enum column: (model, column) -> its enum.
ENUM_COLUMNS: dict[tuple[type, str], type[enum.StrEnum]] = {
    (Account, "type"): AccountType,
    (JournalEntry, "kind"): EntryKind,
    (Membership, "status"): MembershipStatus,
    (MembershipRole, "role"): Role,
    (Proposal, "kind"): ProposalKind,
    (Proposal, "status"): ProposalStatus,
    (Vote, "choice"): VoteChoice,
    (Pitch, "state"): PitchState,
    (PitchEvent, "from_state"): PitchState,
    (PitchEvent, "to_state"): PitchState,
    (Allocation, "role"): AllocationRole,
    (ShareRule, "method"): SplitMethod,
    (Claim, "kind"): BenefitKind,
    (Claim, "status"): ClaimStatus,
    (ClaimEvent, "status"): ClaimStatus,
    (BenefitRun, "kind"): RunKind,
    (FundRunFailure, "kind"): RunKind,
    (RunLine, "kind"): RunLineKind,
    (OutboxMessage, "status"): OutboxStatus,
    (Notification, "channel"): Channel,
    (NotificationPreference, "channel"): Channel,
    (Expense, "kind"): ExpenseKind,
    (Expense, "status"): ExpenseStatus,
    (BankStatement, "format"): StatementFormat,
    (PeriodEvent, "action"): PeriodAction,
    (NumberCounter, "series"): Series,
    (InvoiceMovement, "kind"): MovementKind,
    (WebhookDelivery, "status"): OutboxStatus,
    (Federation, "status"): FederationStatus,
    (SharedPitch, "role"): ShareRole,
    (SharedPitch, "status"): ShareStatus,
    (LearningModule, "audience"): Audience,
}
IDS = [f"{model.__tablename__}.{name}" for model, name in ENUM_COLUMNS]


def _column(model: type, name: str) -> sa.Column:
    return model.__table__.c[name]


def _check_name(column: sa.Column) -> str:
    return f"ck_{column.table.name}_{column.type.name}"


def _quoted(sql: str) -> set[str]:
    """The string literals in a constraint's SQL (on PostgreSQL too: 'a'::character varying)."""
    return set(re.findall(r"'([^']*)'", sql))


def test_every_enum_column_of_the_models_is_listed_here():
    enum_columns = {(table.name, column.name) for table in db.metadata.tables.values()
                    for column in table.columns if isinstance(column.type, sa.Enum)}
    assert enum_columns == {(model.__tablename__, name) for model, name in ENUM_COLUMNS}


@pytest.mark.parametrize(("model", "name"), list(ENUM_COLUMNS), ids=IDS)
def test_each_column_stores_its_enums_values_behind_a_check_constraint(model, name):
    column = _column(model, name)
    enum_class = ENUM_COLUMNS[model, name]
    assert column.type.enum_class is enum_class
    assert column.type.enums == [member.value for member in enum_class]
    assert not column.type.native_enum
    assert column.type.create_constraint
    assert column.type.length >= max(len(member.value) for member in enum_class)
    # Every column says whether it may be empty; only "no earlier state" may be.
    assert column.nullable is (model is PitchEvent and name == "from_state")


@pytest.mark.parametrize(("model", "name"), list(ENUM_COLUMNS), ids=IDS)
def test_the_check_constraint_is_generated_from_the_enum(app, model, name):
    column = _column(model, name)
    [check] = [c for c in column.table.constraints
               if isinstance(c, sa.CheckConstraint) and c.name == _check_name(column)]
    with app.app_context():
        ddl = str(sa.schema.AddConstraint(check).compile(db.engine))
    assert f" CHECK ({name} IN (" in ddl
    assert _quoted(ddl) == {member.value for member in ENUM_COLUMNS[model, name]}


def test_the_migrated_database_has_every_check_constraint_of_the_models(app):
    # compare_metadata (tests/test_migrations.py) does not look at CHECK constraints.
    with app.app_context(), db.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in db.metadata.tables.values():
            expected = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            found = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert found == expected, table.name


@pytest.mark.parametrize(("model", "name"), list(ENUM_COLUMNS), ids=IDS)
def test_the_database_allows_exactly_the_enums_values(app, model, name):
    column = _column(model, name)
    with app.app_context(), db.engine.connect() as conn:
        checks = {c["name"]: c["sqltext"]
                  for c in sa.inspect(conn).get_check_constraints(column.table.name)}
    assert _quoted(checks[_check_name(column)]) == {m.value for m in ENUM_COLUMNS[model, name]}


# --- The database refuses what the enum does not list --------------------------------------


@pytest.fixture
def world(ctx):
    founder = make_collective()
    found_rule(founder)
    pitch = make_pitch(founder)
    bank = ledger.account_by_code(founder.collective_id, ledger.BANK)
    fund = ledger.account_by_code(founder.collective_id, ledger.COMMON_FUND)
    ledger.post_entry(founder.collective_id, kind=EntryKind.OPENING,
                      occurred_on=date(2026, 10, 1), idempotency_key="opening",
                      lines=[ledger.Line(bank.id, 100, "USD"), ledger.Line(fund.id, -100, "USD")])
    return founder, pitch


def _refused(constraint: str, statement, **params) -> None:
    with pytest.raises(sa.exc.IntegrityError, match=constraint), db.session.begin_nested():
        if isinstance(statement, str):
            db.session.execute(sa.text(statement), params)
        else:
            db.session.add(statement)
            db.session.flush()


def test_an_entry_of_an_unknown_kind_is_refused(world):
    founder, _ = world
    _refused("ck_journal_entries_kind_known",
             "INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, memo, "
             "idempotency_key) VALUES (:c, :on, :at, 'manual', '', 'manual:1')",
             c=founder.collective_id, on=date(2026, 10, 1), at=datetime(2026, 10, 1))
    # Through the service too: the ledger posts whatever kind it is given.
    bank = ledger.account_by_code(founder.collective_id, ledger.BANK)
    fund = ledger.account_by_code(founder.collective_id, ledger.COMMON_FUND)
    with pytest.raises(sa.exc.IntegrityError, match="ck_journal_entries_kind_known"):
        ledger.post_entry(founder.collective_id, kind="manual", occurred_on=date(2026, 10, 1),
                          idempotency_key="manual:2",
                          lines=[ledger.Line(bank.id, 100, "USD"),
                                 ledger.Line(fund.id, -100, "USD")])


def test_an_unknown_pitch_state_is_refused(world):
    _, pitch = world
    _refused("ck_pitches_state_known", "UPDATE pitches SET state = 'archived' WHERE id = :id",
             id=pitch.id)
    _refused("ck_pitches_state_known", "UPDATE pitches SET state = 'OPEN' WHERE id = :id",
             id=pitch.id)


def test_an_orm_write_of_an_unknown_state_reaches_the_database_and_is_refused(world):
    _, pitch = world
    pitch.state = "archived"
    with pytest.raises(sa.exc.IntegrityError, match="ck_pitches_state_known"), \
            db.session.begin_nested():
        db.session.flush()


def test_no_earlier_state_is_null_and_an_empty_one_is_refused(world):
    founder, pitch = world
    [created] = db.session.scalars(sa.select(PitchEvent).filter_by(pitch_id=pitch.id)).all()
    assert created.from_state is None
    _refused("ck_pitch_events_from_state_known",
             "UPDATE pitch_events SET from_state = '' WHERE id = :id", id=created.id)
    _refused("ck_pitch_events_to_state_known",
             "UPDATE pitch_events SET to_state = 'gone' WHERE id = :id", id=created.id)


@pytest.mark.parametrize(
    ("constraint", "statement"),
    [
        ("ck_memberships_status_known", "UPDATE memberships SET status = 'banned' WHERE id = :m"),
        ("ck_membership_roles_role_known",
         "UPDATE membership_roles SET role = 'admin' WHERE membership_id = :m"),
        ("ck_share_rules_method_known",
         "UPDATE share_rules SET method = 'lottery' WHERE collective_id = :c"),
        ("ck_accounts_type_known", "UPDATE accounts SET type = 'asset ' WHERE collective_id = :c"),
    ],
    ids=["membership-status", "role", "share-rule-method", "account-type"],
)
def test_other_unknown_values_written_in_sql_are_refused(world, constraint, statement):
    founder, _ = world
    _refused(constraint, statement, m=founder.id, c=founder.collective_id)


def test_a_proposal_of_an_unknown_kind_is_refused(world):
    founder, _ = world
    now = datetime(2026, 10, 1, tzinfo=UTC)
    _refused("ck_proposals_kind_known", Proposal(
        collective_id=founder.collective_id, kind="referendum", title="t", payload={},
        created_by_id=founder.id, created_at=now, deadline_at=now + timedelta(days=7),
        quorum_bp=5000, threshold_bp=5000))


def test_values_read_back_are_enum_members_equal_to_their_strings(world):
    founder, pitch = world
    db.session.expire_all()
    state = db.session.scalar(sa.select(Pitch.state).filter_by(id=pitch.id))
    assert state is PitchState.OPEN and state == "open"
    kinds = db.session.scalars(sa.select(JournalEntry.kind)
                               .filter_by(collective_id=founder.collective_id)).all()
    assert kinds == [EntryKind.OPENING]
    assert isinstance(kinds[0], EntryKind)
    assert db.session.get(Membership, founder.id).status is MembershipStatus.ACTIVE
