"""Clients of the collective: recording them and finding them."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members.models import Membership
from collective.members.services import require_role
from collective.pool.checks import COORDINATOR, get_in, same_collective
from collective.pool.models import Client

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_client(actor: Membership, *, name: str, country: str = "", contact: str = "",
                  notes: str = "", billing: BillingDetails | None = None) -> Client:
    """Record a client of the collective."""
    require_role(actor, COORDINATOR, action="record clients")
    name = _clean_name(name)
    exists = db.session.scalar(
        sa.select(Client.id).filter_by(collective_id=actor.collective_id, name=name))
    if exists is not None:
        raise Conflict(f"there is already a client called {name!r}", field="name")
    client = Client(collective_id=actor.collective_id, name=name[:120],
                    country=(country or "").upper()[:2], contact=(contact or "")[:200],
                    notes=notes or "")
    _set_billing(client, billing or BillingDetails())
    db.session.add(client)
    db.session.flush()
    return client


def edit_client(actor: Membership, client: Client, *, name: str, country: str = "",
                contact: str = "", notes: str = "", billing: BillingDetails | None = None
                ) -> Client:
    """Change a client's name, contact and (when given) invoicing details."""
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


def clients_of(collective_id: int) -> list[Client]:
    """The collective's clients by name."""
    return list(db.session.scalars(
        sa.select(Client).filter_by(collective_id=collective_id).order_by(Client.name)))


def get_client(collective_id: int, client_id: int) -> Client:
    """A client of this collective, or NotFound."""
    return get_in(Client, collective_id, client_id, "client")
