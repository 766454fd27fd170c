"""Clients of the collective: recording them and finding them."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from collective.database import named_like
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members.models import Membership
from collective.members.services import require_role
from collective.pool.checks import COORDINATOR, get_in, same_collective
from collective.pool.models import Client

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_client(actor: Membership, *, name: str, country: str = "", contact: str = "",
                  notes: str = "", billing: BillingDetails | None = None,
                  is_naming_allowed: bool = False) -> Client:
    """Record a client of the collective; `is_naming_allowed` lets members name its work on
    their profiles."""
    require_role(actor, COORDINATOR, action="record clients")
    name = _clean_name(name)
    exists = db.session.scalar(
        sa.select(Client.id).filter_by(collective_id=actor.collective_id, name=name))
    if exists is not None:
        raise Conflict(f"there is already a client called {name!r}", field="name")
    client = Client(collective_id=actor.collective_id, name=name[:120],
                    country=(country or "").upper()[:2], contact=(contact or "")[:200],
                    notes=notes or "", is_naming_allowed=bool(is_naming_allowed))
    _set_billing(client, billing or BillingDetails())
    db.session.add(client)
    db.session.flush()
    return client


def edit_client(actor: Membership, client: Client, *, name: str, country: str = "",
                contact: str = "", notes: str = "", billing: BillingDetails | None = None,
                is_naming_allowed: bool | None = None) -> Client:
    """Change a client's name, contact, (when given) invoicing details and whether members
    may name its work on their profiles."""
    require_role(actor, COORDINATOR, action="edit clients")
    same_collective(actor, client, "client")
    name = _clean_name(name)
    taken = db.session.scalar(
        sa.select(Client.id).filter_by(collective_id=actor.collective_id, name=name)
        .where(Client.id != client.id))
    if taken is not None:
        raise Conflict(f"there is already a client called {name!r}", field="name")
    client.name, client.country = name[:120], (country or "").upper()[:2]
    client.contact, client.notes = (contact or "")[:200], notes or ""
    if billing is not None:
        _set_billing(client, billing)
    if is_naming_allowed is not None:
        client.is_naming_allowed = bool(is_naming_allowed)
    db.session.flush()
    return client


@dataclass(frozen=True, slots=True)
class BillingDetails:
    """What an invoice says about a client: where it goes and the client's tax id."""

    address: str = ""
    email: str = ""
    tax_id: str = ""


def _set_billing(client: Client, billing: BillingDetails) -> None:
    email = (billing.email or "").strip()
    if email and not _EMAIL.match(email):
        raise DomainError("that is not an e-mail address", field="billing_email")
    client.billing_address = (billing.address or "").strip()[:1000]
    client.billing_email = email[:254]
    client.tax_id = (billing.tax_id or "").strip()[:60]


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("a client needs a name", field="name")
    return name


def clients_of(collective_id: int, *, limit: int | None = None, offset: int = 0
               ) -> list[Client]:
    """The collective's clients by name; `limit` and `offset` page through them."""
    return list(db.session.scalars(
        sa.select(Client).filter_by(collective_id=collective_id)
        .order_by(Client.name, Client.id).offset(offset).limit(limit)))


def count_clients(collective_id: int) -> int:
    """How many clients the collective has."""
    return db.session.scalar(sa.select(sa.func.count(Client.id))
                             .where(Client.collective_id == collective_id))


def _clients_named(collective_id: int) -> sa.Select:
    return (sa.select(Client.id, Client.name).where(Client.collective_id == collective_id)
            .order_by(Client.name, Client.id))


def client_choices(collective_id: int) -> list[tuple[int, str]]:
    """(client id, name) of every client by name, for a form's choices."""
    return [(client_id, name) for client_id, name
            in db.session.execute(_clients_named(collective_id))]


def find_clients(collective_id: int, text: str, *, limit: int | None = 20
                 ) -> list[tuple[int, str]]:
    """(client id, name) of at most `limit` clients whose name contains `text` (any case),
    the names starting with it first; "#12" or "12" finds client 12."""
    query = named_like(_clients_named(collective_id), Client.name, Client.id, text)
    if query is None:
        return []
    return [(client_id, name) for client_id, name in db.session.execute(query.limit(limit))]


def get_client(collective_id: int, client_id: int) -> Client:
    """A client of this collective, or NotFound."""
    return get_in(Client, collective_id, client_id, "client")
