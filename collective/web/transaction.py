"""The request transaction: run a view's service calls, commit once, show domain errors.

`committed` is for requests that change something. `checked` is its read-only sibling for
GET pages whose input a service validates (a date range, say): a DomainError lands on the
form the same way, and nothing is ever committed.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from flask_wtf import FlaskForm

from collective.errors import DomainError
from collective.transactions import transaction
from collective.web.forms import show_domain_error


class Outcome:
    """Whether the block went through (and was committed); true in an `if` once it was."""

    def __init__(self) -> None:
        self.done = False
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.done


@contextmanager
def _unit(form: FlaskForm | None, aliases: Mapping[str, str] | None, *, commit: bool
          ) -> Iterator[Outcome]:
    """The unit of work of collective.transactions, with domain errors shown on the form."""
    outcome = Outcome()
    try:
        with transaction(commit=commit):
            yield outcome
    except DomainError as exc:  # rolled back already
        outcome.error = exc
        show_domain_error(form, exc, aliases)
        return
    outcome.done = True


def committed(form: FlaskForm | None = None,
              aliases: Mapping[str, str] | None = None) -> AbstractContextManager[Outcome]:
    """Commit the block's work; a DomainError rolls back and lands on `form` (or a flash).

    Any other exception rolls back and propagates to the error pages.
    """
    return _unit(form, aliases, commit=True)


def checked(form: FlaskForm | None = None,
            aliases: Mapping[str, str] | None = None) -> AbstractContextManager[Outcome]:
    """For GET pages: run read-only service calls; a DomainError lands on `form` (or a
    flash) and the outcome stays false. Nothing is committed."""
    return _unit(form, aliases, commit=False)
