"""Pages of the work pool, on one blueprint `pool`, in a module per capability: the work
itself (board, clients, pitches, allocation, my work), money (payments, shares, payouts)
and share rules. Each view changes things through `committed`."""
from __future__ import annotations

from collective.pool.views import money, share_rules, splits, work  # noqa: F401  (routes)
from collective.pool.views.base import bp

__all__ = ["bp"]
