"""Learning modules: writing one with its attachments, who may read it, marking it done,
rating it, and the credit its author gets."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.expenses.storage import ReceiptStorage, track_new_file
from collective.books.expenses.uploads import Upload, check_receipt
from collective.database import conflict_insert
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.learning.markdown import MAX_CONTENT
from collective.learning.models import (
    Audience,
    LearningModule,
    ModuleAttachment,
    ModuleCompletion,
)
from collective.members.accounts import skill_name
from collective.members.models import Membership

#: The most attachments one module carries; each is a PDF, PNG or JPEG of at most 10 MB,
#: checked as receipts are (books/expenses/uploads.py).
MAX_ATTACHMENTS = 5
#: The longest a module may say it takes, in minutes.
MAX_MINUTES = 600


def visible_collective_ids(collective_id: int) -> list[int]:
    """The collectives whose modules for partners a member of `collective_id` may read: its
    own, and those it is actively federated with ("Partners between collectives"); every
    read of modules goes through here."""
    from collective.federation.partners import partner_ids

    return [collective_id, *partner_ids(collective_id)]


def readable_by(viewer: Membership) -> sa.ColumnElement[bool]:
    """The condition on LearningModule that `viewer` may read it: their collective's, or a
    partner's module written for partners."""
    return sa.or_(
        LearningModule.collective_id == viewer.collective_id,
        sa.and_(LearningModule.audience == Audience.PARTNERS.value,
                LearningModule.collective_id.in_(visible_collective_ids(viewer.collective_id))),
    )


def get_module(viewer: Membership, module_id: int) -> LearningModule:
    """A module `viewer` may read, or NotFound (another collective's module is not there)."""
    module = db.session.scalar(sa.select(LearningModule).where(
        LearningModule.id == module_id, readable_by(viewer))
        .options(so.joinedload(LearningModule.author).joinedload(Membership.user)))
    if module is None:
        raise NotFound("no such module")
    return module


def get_attachment(viewer: Membership, module_id: int, attachment_id: int) -> ModuleAttachment:
    """An attachment of a module `viewer` may read, or NotFound."""
    module = get_module(viewer, module_id)
    attachment = db.session.get(ModuleAttachment, attachment_id)
    if attachment is None or attachment.module_id != module.id:
        raise NotFound("no such attachment")
    return attachment


def _checked_attachments(uploads: Sequence[Upload]) -> list:
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError(f"attach at most {MAX_ATTACHMENTS} files", field="attachments")
    checked = []
    for upload in uploads:
        try:
            checked.append(check_receipt(upload))
        except DomainError as exc:
            raise DomainError(exc.message, field="attachments") from exc
    return checked


def _checked_fields(title: str, skill: str, estimated_minutes: int, content: str,
                    audience: str) -> tuple[str, str, int, str, Audience]:
    """A module's fields as they are stored, or a DomainError naming the first bad one."""
    title = " ".join((title or "").split())
    if not title:
        raise DomainError("a module needs a title", field="title")
    if len(title) > 200:
        raise DomainError("the title is longer than 200 characters", field="title")
    skill = skill_name(skill)
    if not skill:
        raise DomainError("name the skill the module teaches", field="skill")
    if len(skill) > 60:
        raise DomainError("the skill's name is longer than 60 characters", field="skill")
    if isinstance(estimated_minutes, bool) or not isinstance(estimated_minutes, int) \
            or not 1 <= estimated_minutes <= MAX_MINUTES:
        raise DomainError(f"the time must be 1 to {MAX_MINUTES} minutes",
                          field="estimated_minutes")
    if not (content or "").strip():
        raise DomainError("write the module's content", field="content")
    if len(content) > MAX_CONTENT:
        raise DomainError(f"the content is longer than {MAX_CONTENT:,} characters",
                          field="content")
    try:
        audience = Audience(audience)
    except ValueError as exc:
        raise DomainError("choose who the module is for", field="audience") from exc
    return title, skill, estimated_minutes, content, audience


def _attach(actor: Membership, module: LearningModule, checked: list,
            storage: ReceiptStorage | None, now: datetime) -> None:
    """Store the checked files and attach them to the module."""
    if checked and storage is None:
        raise RuntimeError("attachments need a storage")
    for item in checked:
        key = storage.save(actor.collective_id, item.data)
        track_new_file(db.session, storage, key)
        db.session.add(ModuleAttachment(module_id=module.id, storage_key=key,
                                        filename=item.filename,
                                        content_type=item.content_type, size_bytes=item.size,
                                        sha256=item.sha256, uploaded_at=now))


def publish_module(actor: Membership, *, title: str, skill: str, estimated_minutes: int,
                   content: str, audience: str = Audience.COLLECTIVE.value,
                   attachments: Sequence[Upload] = (), storage: ReceiptStorage | None = None,
                   now: datetime) -> LearningModule:
    """A member publishes a module for their collective (or its partners too); everything,
    attachments included, is checked before anything is written."""
    title, skill, estimated_minutes, content, audience = _checked_fields(
        title, skill, estimated_minutes, content, audience)
    checked = _checked_attachments(attachments)
    if checked and storage is None:
        raise RuntimeError("attachments need a storage")
    module = LearningModule(collective_id=actor.collective_id, author_id=actor.id,
                            title=title, skill=skill, estimated_minutes=estimated_minutes,
                            content=content, audience=audience.value, created_at=now)
    db.session.add(module)
    db.session.flush()
    _attach(actor, module, checked, storage, now)
    db.session.flush()
    return module


def edit_module(actor: Membership, module: LearningModule, *, title: str, skill: str,
                estimated_minutes: int, content: str, audience: str,
                attachments: Sequence[Upload] = (), storage: ReceiptStorage | None = None,
                now: datetime) -> LearningModule:
    """The author changes their module (its ratings stay: they rated the module, which its
    author keeps up to date) and may add attachments; checked before anything is written.
    Anyone else: NotFound, as for a module they cannot read."""
    if module.author_id != actor.id:
        raise NotFound("no such module of yours")
    title, skill, estimated_minutes, content, audience = _checked_fields(
        title, skill, estimated_minutes, content, audience)
    checked = _checked_attachments(attachments)
    if len(module.attachments) + len(checked) > MAX_ATTACHMENTS:
        raise DomainError(f"a module has at most {MAX_ATTACHMENTS} attachments",
                          field="attachments")
    if checked and storage is None:
        raise RuntimeError("attachments need a storage")
    module.title, module.skill, module.estimated_minutes = title, skill, estimated_minutes
    module.content, module.audience = content, audience.value
    _attach(actor, module, checked, storage, now)
    db.session.flush()
    return module


def completion_of(member: Membership, module: LearningModule) -> ModuleCompletion | None:
    """The member's mark (done, rating) on the module, if any."""
    return db.session.scalar(sa.select(ModuleCompletion).filter_by(
        module_id=module.id, membership_id=member.id))


def mark_done(actor: Membership, module: LearningModule, *, now: datetime
              ) -> ModuleCompletion:
    """The member finished the module; marking it again changes nothing."""
    get_module(actor, module.id)
    # ON CONFLICT DO NOTHING: two clicks at once (two requests) still make one row.
    db.session.execute(
        conflict_insert(ModuleCompletion).values(module_id=module.id, membership_id=actor.id,
                                                 completed_at=now, comment="")
        .on_conflict_do_nothing(index_elements=["module_id", "membership_id"]))
    return completion_of(actor, module)


def rate_module(actor: Membership, module: LearningModule, *, rating: int, comment: str = "",
                now: datetime) -> ModuleCompletion:
    """Rate a module 1 to 5 with an optional comment (rating it marks it done); rating it
    again replaces the rating. Its author cannot rate it."""
    get_module(actor, module.id)
    if module.author_id == actor.id:
        raise DomainError("you wrote this module: others rate it", field="rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("a rating is 1 to 5", field="rating")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise DomainError("the comment is longer than 1,000 characters", field="comment")
    done = mark_done(actor, module, now=now)
    done.rating, done.comment, done.rated_at = rating, comment, now
    db.session.flush()
    return done


@dataclass(frozen=True)
class Credit:
    """What an author wrote and how it was rated."""

    modules: int
    ratings: int
    #: The average rating to one decimal, or None before anyone rated.
    average: float | None


def author_credits(membership_ids: Iterable[int]) -> dict[int, Credit]:
    """Each author's modules written, ratings received and average rating, in one grouped
    query; authors who wrote nothing are left out."""
    ids = list(membership_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(LearningModule.author_id,
                  sa.func.count(sa.distinct(LearningModule.id)),
                  sa.func.count(ModuleCompletion.rating),
                  sa.func.avg(ModuleCompletion.rating))
        .outerjoin(ModuleCompletion, ModuleCompletion.module_id == LearningModule.id)
        .where(LearningModule.author_id.in_(ids))
        .group_by(LearningModule.author_id))
    return {author: Credit(modules, ratings,
                           round(float(average), 1) if average is not None else None)
            for author, modules, ratings, average in rows}


def credits_of_person(user_id: int) -> list[tuple[str, Credit]]:
    """A person's credit as an author in each collective they wrote modules in, by the
    collective's name (their profile page shows it)."""
    from collective.members.models import Collective

    names = dict(db.session.execute(
        sa.select(Membership.id, Collective.name)
        .join(Collective, Collective.id == Membership.collective_id)
        .where(Membership.user_id == user_id)).all())
    credits = author_credits(names)
    return sorted(((names[m], credit) for m, credit in credits.items()), key=lambda c: c[0])
