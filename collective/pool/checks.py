"""What every pool service checks the same way: roles, the collective a row belongs to,
the dates it may carry, and whole-number inputs."""
from __future__ import annotations

from datetime import date, timedelta

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, Role

COORDINATOR = Role.COORDINATOR
TREASURER = Role.TREASURER
#: How far ahead a date may be (the member's day may already be tomorrow in UTC+14).
DATE_SLACK = timedelta(days=1)
#: Oldest date a payment or time entry may carry.
OLDEST = timedelta(days=3 * 365)
#: The window of recent payments that fairness ranking and rule previews look at.
FAIRNESS_WINDOW = timedelta(days=90)
MINUTES_PER_DAY = 24 * 60


def check_date(value: date, today: date, field: str, what: str) -> date:
    """`value`, unless it is after tomorrow or more than three years before `today`."""
    if value > today + DATE_SLACK:
        raise DomainError(f"the {what} cannot be in the future", field=field)
    if value < today - OLDEST:
        raise DomainError(f"the {what} is more than three years ago", field=field)
    return value


def is_whole(value: object, least: int = 1, most: int | None = None) -> bool:
    """True for an int (not a bool) from `least` to `most`."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= least and (most is None or value <= most)


def get_in(model, collective_id: int, object_id: int, what: str):
    """The row of `model` with this id in the collective, or NotFound naming `what`."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.collective_id != collective_id:
        raise NotFound(f"no such {what} in this collective")
    return obj


def same_collective(actor: Membership, obj, what: str) -> None:
    """NotFound unless `obj` belongs to the actor's collective."""
    if obj.collective_id != actor.collective_id:
        raise NotFound(f"no such {what} in this collective")
