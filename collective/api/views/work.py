"""Clients, pitches (with their transitions and allocations), and the caller's time, through
the pool's own services: the same rules as the pages, and the same roles."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from sqlalchemy import orm as so

from collective.api.paging import DatedPageArgs, day_range, page_body, page_of, page_schema
from collective.api.schemas import (
    AllocationIn,
    AllocationOut,
    ClientIn,
    ClientOut,
    PitchArgs,
    PitchIn,
    PitchOut,
    TimeEntryIn,
    TimeEntryOut,
    TransitionIn,
)
from collective.api.views import api_blueprint, written
from collective.api.views.auth import scoped
from collective.clock import now_utc
from collective.members.models import Role
from collective.pool import allocation, clients, pitches, time
from collective.pool.models import Allocation, Client, Pitch, TimeEntry

C, T = Role.COORDINATOR, Role.TREASURER
blp = api_blueprint("api_work", "Clients, pitches and their allocations, and the caller's time.",
                    "Clients, pitches and time")

ClientPage = page_schema(ClientOut, "ClientPage")
PitchPage = page_schema(PitchOut, "PitchPage")
AllocationPage = page_schema(AllocationOut, "AllocationPage")
TimeEntryPage = page_schema(TimeEntryOut, "TimeEntryPage")


def _time_body(entry: TimeEntry) -> dict:
    return {"id": entry.id, "allocation_id": entry.allocation_id,
            "pitch_id": entry.allocation.pitch_id, "worked_on": entry.worked_on,
            "minutes": entry.minutes, "note": entry.note}


@blp.route("/collectives/<slug>/clients")
@scoped(C, T)
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, ClientPage)
def client_list(args: dict):
    """The collective's clients; `since` and `until` filter by the day each was recorded."""
    query = sa.select(Client).where(Client.collective_id == g.collective.id,
                                    *day_range(Client.created_at, args, g.collective.timezone))
    return page_body(page_of(query, Client.id, "clients", args))


@blp.route("/collectives/<slug>/clients", methods=["POST"])
@scoped(C)
@blp.arguments(ClientIn)
@blp.response(201, ClientOut)
def create_client(data: dict):
    """Record a client (coordinators)."""
    return written(lambda: (ClientOut().dump(clients.create_client(
        g.membership, name=data["name"], country=data["country"], contact=data["contact"],
        notes=data["notes"])), 201))


@blp.route("/collectives/<slug>/clients/<int:client_id>")
@scoped(C, T)
@blp.response(200, ClientOut)
def client(client_id: int):
    """One client."""
    return clients.get_client(g.collective.id, client_id)


@blp.route("/collectives/<slug>/pitches")
@scoped()
@blp.arguments(PitchArgs, location="query")
@blp.response(200, PitchPage)
def pitch_list(args: dict):
    """The collective's pitches; filter by `state`, and by the day each was recorded."""
    query = sa.select(Pitch).where(Pitch.collective_id == g.collective.id,
                                   *day_range(Pitch.created_at, args, g.collective.timezone))
    if args.get("state"):
        query = query.where(Pitch.state == args["state"])
    return page_body(page_of(query, Pitch.id, "pitches", args))


@blp.route("/collectives/<slug>/pitches", methods=["POST"])
@scoped(C)
@blp.arguments(PitchIn)
@blp.response(201, PitchOut)
def create_pitch(data: dict):
    """Record incoming work as an open pitch (coordinators)."""
    return written(lambda: (PitchOut().dump(pitches.create_pitch(
        g.membership, **data, today=g.today, at=now_utc())), 201))


@blp.route("/collectives/<slug>/pitches/<int:pitch_id>")
@scoped()
@blp.response(200, PitchOut)
def pitch(pitch_id: int):
    """One pitch."""
    return pitches.get_pitch(g.collective.id, pitch_id)


@blp.route("/collectives/<slug>/pitches/<int:pitch_id>/transitions", methods=["POST"])
@scoped(C)
@blp.arguments(TransitionIn)
@blp.response(200, PitchOut)
def move_pitch(data: dict, pitch_id: int):
    """Move a pitch to its next state (coordinators); lost and cancelled need a note."""
    work = pitches.get_pitch(g.collective.id, pitch_id)

    def move():
        pitches.transition_pitch(g.membership, work, data["to_state"], note=data["note"],
                                 expected_version=data["version"], at=now_utc())
        return PitchOut().dump(pitches.get_pitch(g.collective.id, pitch_id)), 200

    return written(move)


@blp.route("/collectives/<slug>/pitches/<int:pitch_id>/allocations")
@scoped()
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, AllocationPage)
def allocation_list(args: dict, pitch_id: int):
    """Who has a part in a pitch; `since` and `until` filter by the day each was given."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    query = sa.select(Allocation).where(
        Allocation.pitch_id == work.id,
        *day_range(Allocation.created_at, args, g.collective.timezone))
    return page_body(page_of(query, Allocation.id, "allocations", args))


@blp.route("/collectives/<slug>/pitches/<int:pitch_id>/allocations", methods=["POST"])
@scoped(C)
@blp.arguments(AllocationIn)
@blp.response(200, AllocationOut)
def allocate(data: dict, pitch_id: int):
    """Give a member a part in won work, or change their part (coordinators)."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    return written(lambda: (AllocationOut().dump(allocation.allocate_member(
        g.membership, work, membership_id=data["membership_id"], role=data["role"],
        weight=data["weight"], weekly_hours=data["weekly_hours"],
        expected_version=data["version"])), 200))


@blp.route("/collectives/<slug>/time-entries")
@scoped()
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, TimeEntryPage)
def time_entries(args: dict):
    """The caller's own time entries; `since` and `until` filter by the day worked."""
    query = (sa.select(TimeEntry)
             .where(TimeEntry.membership_id == g.membership.id,
                    *day_range(TimeEntry.worked_on, args))
             .options(so.joinedload(TimeEntry.allocation)))
    return page_body(page_of(query, TimeEntry.id, "time-entries", args, convert=_time_body))


@blp.route("/collectives/<slug>/time-entries", methods=["POST"])
@scoped()
@blp.arguments(TimeEntryIn)
@blp.response(201, TimeEntryOut)
def log_time(data: dict):
    """Log time worked on one of the caller's own allocations."""

    def log():
        mine = time.get_allocation(g.membership, data["allocation_id"])
        entry = time.log_time(g.membership, mine, worked_on=data["worked_on"],
                              minutes=data["minutes"], note=data["note"], today=g.today)
        return TimeEntryOut().dump(_time_body(entry)), 201

    return written(log)
