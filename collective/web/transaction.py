"""The request transaction: run a view's service calls, commit once, show domain errors."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask_wtf import FlaskForm

from collective.errors import DomainError
from collective.extensions import db
from collective.web.forms import show_domain_error


class Outcome:
    """Whether the block was committed; true in an `if` once it was."""

    def __init__(self) -> None:
        self.done = False
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.done


@contextmanager
def committed(form: FlaskForm | None = None,
              aliases: Mapping[str, str] | None = None) -> Iterator[Outcome]:
    """Commit the block's work; a DomainError rolls back and lands on `form` (or a flash).

    Any other exception rolls back and propagates to the error pages.
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        db.session.rollback()
        outcome.error = exc
        show_domain_error(form, exc, aliases)
        return
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    outcome.done = True
