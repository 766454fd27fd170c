"""Bulk set-up the benchmarks share: thousands of members inserted in a few statements."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from collective.extensions import db
from collective.members.models import Membership


def add_members(founder: Membership, count: int, *,
                status_of: Callable[[int], str] = lambda i: "active",
                capacity_of: Callable[[int], int] = lambda i: 20) -> list[int]:
    """Insert `count` users (m0@bench.test, ...) with the founder's password hash, and their
    memberships in the founder's collective; returns the new users' ids in order."""
    conn = db.session.connection()
    users = [{"email": f"m{i}@bench.test", "name": f"Member {i}",
              "password_hash": founder.user.password_hash, "timezone": "UTC",
              "created_at": founder.joined_at} for i in range(count)]
    conn.execute(sa.insert(sa.table("users", *[sa.column(k) for k in users[0]])), users)
    ids = conn.execute(sa.text("SELECT id FROM users WHERE email LIKE 'm%@bench.test' "
                               "ORDER BY id")).scalars().all()
    conn.execute(sa.insert(Membership.__table__), [
        {"collective_id": founder.collective_id, "user_id": uid,
         "joined_at": founder.joined_at, "status": status_of(i), "status_note": "",
         "weekly_capacity_hours": capacity_of(i)} for i, uid in enumerate(ids)])
    return list(ids)
