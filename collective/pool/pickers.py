"""Setting up the client fields of forms (`collective.web.member_field.ClientField`) for one
collective, as members.pickers does for members: every client in a `<select>` while there
are few, a search box with at most SEARCH_LIMIT suggestions above that. The page's
statements do not grow with the clients: one count, then a bounded list."""
from __future__ import annotations

from flask import url_for

from collective.members.models import Collective
from collective.members.pickers import SEARCH_LIMIT
from collective.pool.clients import client_choices, count_clients, find_clients
from collective.web.member_field import ClientField, offer_choices

#: Up to this many clients a form lists them all; above, it searches.
SELECT_LIMIT = 100


def offer_clients(field: ClientField, collective: Collective, *, small: bool | None = None
                  ) -> None:
    """Offer the collective's clients in `field`: all of them as a `<select>` when few, else
    a search box (web.member_field.offer_choices). `small` forces one or the other."""
    collective_id = collective.id
    if small is None:
        small = count_clients(collective_id) <= SELECT_LIMIT
    offer_choices(
        field, small=small, everything=lambda: client_choices(collective_id),
        find=lambda text, limit: find_clients(collective_id, text, limit=limit),
        search_url=url_for("pool.search_clients", slug=collective.slug),
        script_url=url_for("static", filename="member-search.js"), limit=SEARCH_LIMIT)
