"""entry kinds and lifecycle states: CHECK constraints for the enum columns that had none

The models type every kind, state, status, role, method and choice column by a StrEnum and
generate a CHECK constraint from it (collective.extensions.str_enum). Most of those columns
already had a hand-written constraint with the same name and the same values (accounts.type,
memberships.status, membership_roles.role, proposals.status, votes.choice, pitches.state,
allocations.role, share_rules.method, claims.kind and .status, benefit_runs.kind,
run_lines.kind), so they are left as they are. This revision adds the missing ones, and
stores "no earlier state" in pitch_events.from_state as NULL instead of ''.

PostgreSQL: ALTER TABLE ... ADD CONSTRAINT, which checks the rows already there (an unknown
value stops the upgrade) and never updates a ledger row, so the append-only triggers are
untouched. SQLite cannot add a constraint to a table, so batch mode rebuilds the table (copy,
drop, rename); dropping journal_entries drops its append-only triggers, which are installed
again. migrations/env.py turns off SQLite's foreign-key enforcement while a table that others
reference (journal_entries, proposals) is rebuilt, and checks every foreign key before commit.

Revision ID: 0006_enum_checks
Revises: 0005_fund_forecasts
Create Date: 2026-11-27 09:00:00
"""
import sqlalchemy as sa
from alembic import op

from collective.ledger.guards import install_append_only_guards

# revision identifiers, used by Alembic.
revision = "0006_enum_checks"
down_revision = "0005_fund_forecasts"
branch_labels = None
depends_on = None

# The enums' values as of this revision (a migration does not follow later changes to the
# models; tests/test_enum_checks.py checks that the database and the enums agree).
ENTRY_KINDS = ("opening", "payment", "payout", "deposit", "contribution",
               "contribution-return", "benefit", "reversal")
PROPOSAL_KINDS = ("share_rule", "benefit_plan", "benefit_claim")
PITCH_STATES = ("open", "pitched", "won", "lost", "in_progress", "delivered", "invoiced",
                "paid", "cancelled")
CLAIM_STATUSES = ("pending", "approved", "rejected", "withdrawn")

#: table -> (column, allowed values) of each constraint this revision adds.
NEW_CHECKS = {
    "journal_entries": [("kind", ENTRY_KINDS)],
    "proposals": [("kind", PROPOSAL_KINDS)],
    "pitch_events": [("from_state", PITCH_STATES), ("to_state", PITCH_STATES)],
    "claim_events": [("status", CLAIM_STATUSES)],
}


def _constraint_name(table: str, column: str) -> str:
    return f"ck_{table}_{column}_known"


def _condition(column: str, values: tuple[str, ...]) -> str:
    """The constraint as SQLAlchemy renders an Enum's: `column IN ('a', 'b')`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    with op.batch_alter_table("pitch_events", schema=None) as batch_op:
        batch_op.alter_column("from_state", existing_type=sa.String(length=16), nullable=True)
    op.execute("UPDATE pitch_events SET from_state = NULL WHERE from_state = ''")

    for table, checks in NEW_CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in checks:
                batch_op.create_check_constraint(
                    op.f(_constraint_name(table, column)), _condition(column, values))

    if _is_sqlite():
        # The rebuild dropped journal_entries with its triggers.
        install_append_only_guards(op.execute, "sqlite")


def downgrade():
    for table, checks in NEW_CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, _values in checks:
                batch_op.drop_constraint(op.f(_constraint_name(table, column)), type_="check")

    op.execute("UPDATE pitch_events SET from_state = '' WHERE from_state IS NULL")
    with op.batch_alter_table("pitch_events", schema=None) as batch_op:
        batch_op.alter_column("from_state", existing_type=sa.String(length=16), nullable=False)

    if _is_sqlite():
        install_append_only_guards(op.execute, "sqlite")
