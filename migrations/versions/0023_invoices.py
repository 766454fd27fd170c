"""invoices: invoicing details, tax rates, invoices, credit notes (issue 12, part 1)

New tables: invoicing_details (one row per collective), tax_rates, invoice_number_counters
(the gapless series, a row per collective, series and year), invoices and invoice_lines,
credit_notes, invoice_movements (the journal entries that moved an invoice's receivable)
and invoice_claims (unpaid-invoice claims opened by a write-off). Triggers freeze an issued
invoice and its lines and keep credit notes and movements append-only
(collective/books/invoices/guards.py).

clients: three columns for invoicing, empty for every existing client: billing_address,
billing_email and tax_id. No existing row changes otherwise.

Revision ID: 0023_invoices
Revises: 0022_member_receivables
Create Date: 2026-11-26 17:51:20
"""
import sqlalchemy as sa
from alembic import op

from collective.books.invoices.guards import drop_statements, install_invoice_guards

# revision identifiers, used by Alembic.
revision = "0023_invoices"
down_revision = "0022_member_receivables"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoice_number_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.Enum('invoice', 'credit-note', name='series_known', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_invoice_number_counters_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_number_counters')),
    sa.UniqueConstraint('collective_id', 'series', 'year', name=op.f('uq_invoice_number_counters_collective_id_series_year'))
    )
    op.create_table('invoicing_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=1000), nullable=False),
    sa.Column('tax_id', sa.String(length=60), nullable=False),
    sa.Column('payment_instructions', sa.String(length=2000), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('number_prefix', sa.String(length=12), nullable=False),
    sa.CheckConstraint('payment_terms_days BETWEEN 0 AND 365', name=op.f('ck_invoicing_details_terms_range')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_invoicing_details_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoicing_details')),
    sa.UniqueConstraint('collective_id', name=op.f('uq_invoicing_details_collective_id'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('pitch_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=20, scale=10), nullable=True),
    sa.Column('net_amount', sa.BigInteger(), nullable=True),
    sa.Column('tax_amount', sa.BigInteger(), nullable=True),
    sa.Column('base_gross', sa.BigInteger(), nullable=True),
    sa.Column('seller', sa.JSON(), nullable=True),
    sa.Column('buyer', sa.JSON(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(number IS NULL) = (issued_on IS NULL)', name=op.f('ck_invoices_issued_whole')),
    sa.CheckConstraint('rate IS NULL OR rate > 0', name=op.f('ck_invoices_rate_positive')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_invoices_client_id_clients')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_invoices_collective_id_collectives')),
    sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'], name=op.f('fk_invoices_created_by_id_memberships')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_invoices_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['memberships.id'], name=op.f('fk_invoices_issued_by_id_memberships')),
    sa.ForeignKeyConstraint(['pitch_id'], ['pitches.id'], name=op.f('fk_invoices_pitch_id_pitches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('collective_id', 'number', name=op.f('uq_invoices_collective_id_number')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_invoices_entry_id'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_collective_id'), ['collective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_pitch_id'), ['pitch_id'], unique=False)

    op.create_table('tax_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rate_bp > 0 AND rate_bp <= 10000', name=op.f('ck_tax_rates_rate_range')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tax_rates_account_id_accounts')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_tax_rates_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_rates')),
    sa.UniqueConstraint('collective_id', 'name', name=op.f('uq_tax_rates_collective_id_name'))
    )
    with op.batch_alter_table('tax_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tax_rates_collective_id'), ['collective_id'], unique=False)

    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('gross_amount', sa.BigInteger(), nullable=False),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('gross_amount > 0', name=op.f('ck_credit_notes_gross_positive')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_credit_notes_collective_id_collectives')),
    sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'], name=op.f('fk_credit_notes_created_by_id_memberships')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_credit_notes_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('collective_id', 'number', name=op.f('uq_credit_notes_collective_id_number')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_credit_notes_entry_id'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_collective_id'), ['collective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_notes_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_invoice_claims_claim_id_claims')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_claims_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_claims')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_invoice_claims_claim_id')),
    sa.UniqueConstraint('invoice_id', 'claim_id', name=op.f('uq_invoice_claims_invoice_id_claim_id'))
    )
    with op.batch_alter_table('invoice_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_claims_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_invoice_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['tax_rate_id'], ['tax_rates.id'], name=op.f('fk_invoice_lines_tax_rate_id_tax_rates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_invoice_lines_invoice_id_position'))
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('issue', 'credit', 'write-off', 'payment', name='kind_known', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_invoice_movements_amount_not_negative')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_invoice_movements_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_movements_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_movements')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_invoice_movements_entry_id'))
    )
    with op.batch_alter_table('invoice_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_movements_invoice_id'), ['invoice_id'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_address', sa.String(length=1000), server_default='', nullable=False))
        batch_op.add_column(sa.Column('billing_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=60), server_default='', nullable=False))

    install_invoice_guards(op.execute, op.get_bind().dialect.name)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('tax_id')
        batch_op.drop_column('billing_email')
        batch_op.drop_column('billing_address')

    with op.batch_alter_table('invoice_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_movements_invoice_id'))

    op.drop_table('invoice_movements')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))

    op.drop_table('invoice_lines')
    with op.batch_alter_table('invoice_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_claims_invoice_id'))

    op.drop_table('invoice_claims')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_credit_notes_collective_id'))

    op.drop_table('credit_notes')
    with op.batch_alter_table('tax_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tax_rates_collective_id'))

    op.drop_table('tax_rates')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_pitch_id'))
        batch_op.drop_index(batch_op.f('ix_invoices_collective_id'))
        batch_op.drop_index(batch_op.f('ix_invoices_client_id'))

    op.drop_table('invoices')
    op.drop_table('invoicing_details')
    op.drop_table('invoice_number_counters')
