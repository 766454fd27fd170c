"""Pages of the work pool, on one blueprint `pool`, in a module per capability: the work
itself (board, clients, pitches, allocation, my work), money (payments, shares, payouts)
and share rules. Each view changes things through `committed`."""
from __future__ import annotations

from collective.pool.views import (  # noqa: F401  (their routes)
    money,
    own_part,
    pitch_changes,
    share_rules,
    splits,
    work,
)
from collective.pool.views.base import bp

__all__ = ["bp"]
