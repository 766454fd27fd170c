"""Expenses with receipts (issue 12, part 2): a member submits what they spent for the
collective with its receipts; a treasurer other than them approves it (booked at once:
the collective owes the member, and the next payout pays it) or rejects it with a reason.
A treasurer enters what the collective paid from its bank, booked against the bank.

Modules
-------
- models.py: categories, expenses, receipts.
- categories.py: each collective's categories, each booked to an expense account; the
  default set every collective starts with.
- uploads.py: what a receipt may be (type read from the content, size, a parsing image).
- storage.py: where receipts' bytes live (a folder under the instance folder by default).
- submissions.py: submitting an expense, entering one the collective paid.
- decisions.py: approving or rejecting one; posting.py: its one journal entry.
- notices.py: who is told; queries.py: the read side; forms.py and views.py: the pages.
"""
from __future__ import annotations

from flask import Flask


def register_kinds() -> None:
    """Tell the layers below what expenses own: the default categories of every new
    collective, and what reversing an expense's entry does to the expense."""
    from collective.books.expenses.categories import create_default_categories
    from collective.books.expenses.decisions import undo_on_reversal
    from collective.ledger.models import EntryKind
    from collective.ledger.services import register_reversal_follow_up
    from collective.members.services import register_founding_step

    register_founding_step(create_default_categories)
    register_reversal_follow_up(EntryKind.EXPENSE, undo_on_reversal)


def init_app(app: Flask) -> None:
    """The receipt storage and the expense pages."""
    from collective.books.expenses import storage, views

    storage.init_app(app)
    app.register_blueprint(views.bp)
