"""pitch edits: the pitch history keeps what an edit changed

pitch_events.changes: for an event that records an edit of the pitch's details (its from and
to states are the same), the fields changed, each as [label, old value, new value] in text;
empty (NULL) for the events that record a move, as every existing row does.

PostgreSQL adds the column in place. SQLite rebuilds the table in batch mode. No existing row
changes: the column starts empty.

Revision ID: 0013_pitch_edits
Revises: 0012_split_privacy
Create Date: 2026-11-26 15:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_pitch_edits"
down_revision = "0012_split_privacy"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pitch_events") as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("pitch_events") as batch_op:
        batch_op.drop_column("changes")
