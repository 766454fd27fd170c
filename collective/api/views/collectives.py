"""Collectives (the caller's) and their memberships."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from sqlalchemy import orm as so

from collective.api.paging import PageArgs, page_body, page_of, page_schema
from collective.api.schemas import CollectiveOut, MembershipArgs, MembershipOut, MeOut
from collective.api.views import api_blueprint
from collective.api.views.auth import caller, scoped
from collective.members.models import Collective, Membership, MembershipStatus
from collective.members.services import get_membership

blp = api_blueprint("api_collectives", "The caller's collectives and their members.",
                    "Collectives and members")

CollectivePage = page_schema(CollectiveOut, "CollectivePage")
MembershipPage = page_schema(MembershipOut, "MembershipPage")


def collective_body(membership: Membership) -> dict:
    """A collective as the API shows it, with the caller's membership there."""
    collective = membership.collective
    return {"slug": collective.slug, "name": collective.name,
            "base_currency": collective.base_currency, "timezone": collective.timezone,
            "membership_id": membership.id, "roles": sorted(membership.roles)}


def membership_body(membership: Membership) -> dict:
    """A member as the API shows them."""
    return {"id": membership.id, "name": membership.user.name,
            "roles": sorted(membership.roles), "status": str(membership.status),
            "weekly_capacity_hours": membership.weekly_capacity_hours,
            "joined_at": membership.joined_at}


@blp.route("/me")
@blp.response(200, MeOut)
def me():
    """Who the caller is, and the token they came with."""
    user, token = caller(), g.api_token
    return {"id": user.id, "name": user.name, "email": user.email, "timezone": user.timezone,
            "weekly_capacity_hours": user.weekly_capacity_hours,
            "display_currency": user.display_currency,
            "token": None if token is None else {
                "id": token.id, "name": token.name, "prefix": token.prefix,
                "collective": token.collective.slug if token.collective else None,
                "read_only": token.is_read_only, "expires_at": token.expires_at}}


@blp.route("/collectives")
@blp.arguments(PageArgs, location="query")
@blp.response(200, CollectivePage)
def collectives(args: dict):
    """The collectives the caller belongs to (the token's one, if it is limited to one)."""
    query = (sa.select(Membership).join(Collective)
             .where(Membership.user_id == caller().id,
                    Membership.status != MembershipStatus.REMOVED.value,
                    Collective.archived_at.is_(None))
             .options(so.contains_eager(Membership.collective),
                      so.selectinload(Membership.role_rows)))
    if g.api_token is not None and g.api_token.collective_id is not None:
        query = query.where(Membership.collective_id == g.api_token.collective_id)
    return page_body(page_of(query, Membership.id, "collectives", args,
                             convert=collective_body))


@blp.route("/collectives/<slug>")
@scoped()
@blp.response(200, CollectiveOut)
def collective():
    """One collective of the caller's."""
    return collective_body(g.membership)


@blp.route("/collectives/<slug>/memberships")
@scoped()
@blp.arguments(MembershipArgs, location="query")
@blp.response(200, MembershipPage)
def memberships(args: dict):
    """The collective's members, by when they joined (their ids' order)."""
    query = (sa.select(Membership).where(Membership.collective_id == g.collective.id)
             .options(so.joinedload(Membership.user), so.selectinload(Membership.role_rows)))
    if args.get("status"):
        query = query.where(Membership.status == args["status"])
    return page_body(page_of(query, Membership.id, "memberships", args,
                             convert=membership_body))


@blp.route("/collectives/<slug>/memberships/<int:membership_id>")
@scoped()
@blp.response(200, MembershipOut)
def membership(membership_id: int):
    """One member of the collective."""
    return membership_body(get_membership(g.collective.id, membership_id))
