"""Pages of invoices, on one blueprint `invoices` under /c/<slug>/books/invoices: the list,
drafts, the invoice page and its money actions, the settings, and the aging report."""
from __future__ import annotations

from collective.books.invoices.views import actions, drafts, reports  # noqa: F401  (routes)
from collective.books.invoices.views.base import bp

__all__ = ["bp"]
