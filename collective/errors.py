"""Domain errors shared by every package: views show them, the API maps them to 4xx."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation; `field` names the input at fault, if any."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The acting membership lacks the role the operation needs."""

    status = 403

    def __init__(self, role: str, action: str = "do this") -> None:
        super().__init__(f"only a {role} may {action}")
        self.role = role


class NotFound(DomainError):
    """The object does not exist in this collective."""

    status = 404


class Conflict(DomainError):
    """Someone else changed the object first, or it already exists."""

    status = 409
