"""The roles a membership can hold in its collective.

They sit below every domain, beside money, so that any package's pages can name the role
they require (the ledger's pages are for treasurers) without importing members.
"""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a membership may do in its collective; a membership holds one or more."""

    MEMBER = "member"
    COORDINATOR = "coordinator"
    TREASURER = "treasurer"
