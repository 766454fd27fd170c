"""Test data built through the real services."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

from collective.extensions import db
from collective.members import accounts, services
from collective.members.models import Collective, Membership, Role, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(name: str | None = None, email: str | None = None, confirmed: bool = True
              ) -> User:
    """A person; their address is confirmed unless `confirmed` is false."""
    n = next(_seq)
    return accounts.register_user(email or f"person{n}@example.test", name or f"Person {n}",
                                  PASSWORD, confirmed_at=datetime.now(UTC) if confirmed else None)


def make_collective(founder: User | None = None, slug: str | None = None,
                    currency: str = "USD") -> Membership:
    """A collective and its founder's membership (member, coordinator, treasurer)."""
    n = next(_seq)
    return services.create_collective(founder or make_user(), name=f"Collective {n}",
                                      slug=slug or f"coll-{n}", base_currency=currency,
                                      timezone="UTC")


def make_member(collective: Collective, roles=(Role.MEMBER,), user: User | None = None,
                hours: int = 10) -> Membership:
    return services.add_member(collective, user or make_user(), set(roles),
                               weekly_capacity_hours=hours)


def commit() -> None:
    db.session.commit()
