"""The opt-in public profile: a member publishes the skills they choose, with the evidence
behind them and the endorsements they received, at /p/<random slug>, for anyone to see.

Off by default. It shows nothing about money and nothing the member did not choose: the
chosen skills, their level, hours of delivered work, pitches named where the client allows,
and the endorsements for those skills (their notes, without the givers' names).
Unpublishing makes the address a 404; publishing again gives a new address.
"""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, MembershipStatus
from collective.pool.evidence.models import PublicProfile
from collective.pool.evidence.queries import skill_evidence

#: Skills a public profile can show.
MAX_SHOWN = 20


def profile_of(membership: Membership) -> PublicProfile | None:
    """The member's public profile settings, if they ever saved any."""
    return db.session.scalar(sa.select(PublicProfile).filter_by(membership_id=membership.id))


def offered_skills(membership: Membership) -> list[str]:
    """The skills a member can show: the ones they listed and the ones work credited."""
    return [e.skill for e in skill_evidence(membership)]


def save_public_profile(actor: Membership, *, skills: list[str], publish: bool,
                        at: datetime) -> PublicProfile:
    """Choose the skills one's public profile shows, and publish it or take it down."""
    chosen = list(dict.fromkeys(" ".join((s or "").lower().split()) for s in skills))
    offered = set(offered_skills(actor))
    unknown = [s for s in chosen if s not in offered]
    if unknown:
        raise DomainError(f"{unknown[0]!r} is not one of your skills", field="skills")
    if len(chosen) > MAX_SHOWN:
        raise DomainError(f"choose at most {MAX_SHOWN} skills", field="skills")
    if publish and not chosen:
        raise DomainError("choose at least one skill to show", field="skills")
    profile = profile_of(actor)
    if profile is None:
        profile = PublicProfile(membership_id=actor.id, is_published=False, skills=[])
        db.session.add(profile)
    if publish and not profile.is_published:
        profile.slug = secrets.token_urlsafe(12)
    profile.is_published = publish
    profile.skills = chosen
    profile.updated_at = at
    db.session.flush()
    return profile


def published_profile(slug: str) -> PublicProfile:
    """The published profile at this address, or NotFound (unpublished, never published,
    or its member no longer in the collective)."""
    profile = db.session.scalar(sa.select(PublicProfile).filter_by(slug=slug,
                                                                   is_published=True))
    if profile is None or profile.membership.status == MembershipStatus.REMOVED:
        raise NotFound("no such profile")
    return profile
