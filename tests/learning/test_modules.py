"""Learning modules: publishing with attachments, who may read a module and open its files
(another collective's member gets 404), marking done and rating (one rating per member and
module, changeable, never by the author), the author's credit, and what to learn next on a
hand-checked example."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.books.expenses.storage import receipt_storage
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.learning import modules, queries
from collective.learning.models import LearningModule, ModuleAttachment, ModuleCompletion
from collective.members import accounts
from collective.members.models import MembershipStatus
from collective.members.services import set_status
from collective.pool.models import Pitch
from tests.books.factories import PDF, pdf_upload, png_upload
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import make_pitch

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def _publish(author, title="Reconciling a bank account", skill="Bookkeeping", **kwargs):
    kwargs.setdefault("content", "# Steps\n\n1. Match each line.")
    return modules.publish_module(author, title=title, skill=skill, estimated_minutes=25,
                                  storage=receipt_storage(), now=NOW, **kwargs)


@pytest.fixture
def world(app, setup):
    """A collective (founder, author, reader) with a module carrying a PDF attachment; a
    stranger in another collective."""
    with setup():
        founder = make_collective()
        author = make_member(founder.collective)
        reader = make_member(founder.collective)
        module = _publish(author, attachments=[pdf_upload("steps.pdf")])
        stranger = make_collective()
        commit()
        return SimpleNamespace(
            slug=founder.collective.slug, stranger_slug=stranger.collective.slug,
            author=author.user.email, reader=reader.user.email,
            stranger=stranger.user.email, module_id=module.id,
            attachment_id=module.attachments[0].id, author_id=author.id,
            reader_id=reader.id, collective_id=founder.collective_id)


def test_a_published_module_keeps_its_fields_and_attachment(setup, world):
    with setup():
        module = db.session.get(LearningModule, world.module_id)
        assert (module.title, module.skill, module.estimated_minutes, module.audience) == (
            "Reconciling a bank account", "bookkeeping", 25, "collective")
        [attachment] = module.attachments
        assert (attachment.filename, attachment.content_type) == ("steps.pdf",
                                                                  "application/pdf")
        assert receipt_storage().read(attachment.storage_key) == PDF


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "  "}, "title"),
    ({"skill": ""}, "skill"),
    ({"content": " \n"}, "content"),
    ({"content": "x" * 20_001}, "content"),
    ({"estimated_minutes": 0}, "estimated_minutes"),
    ({"estimated_minutes": 601}, "estimated_minutes"),
    ({"audience": "everyone"}, "audience"),
    ({"attachments": [SimpleNamespace(filename="notes.pdf", data=b"just text")]},
     "attachments"),
    ({"attachments": [pdf_upload()] * 6}, "attachments"),
])
def test_a_module_that_cannot_be_right_is_refused_and_nothing_is_written(
        setup, world, changes, field):
    with setup():
        author = modules.db.session.get(modules.Membership, world.author_id)
        values = {"title": "T", "skill": "s", "estimated_minutes": 5, "content": "c"}
        values.update(changes)
        before = db.session.scalar(sa.select(sa.func.count(LearningModule.id)))
        with pytest.raises(DomainError) as refused:
            modules.publish_module(author, storage=receipt_storage(), now=NOW, **values)
        assert refused.value.field == field
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(LearningModule.id))) == before


def test_ratings_one_per_member_changeable_never_by_the_author(setup, world):
    with setup():
        author = db.session.get(modules.Membership, world.author_id)
        reader = db.session.get(modules.Membership, world.reader_id)
        module = db.session.get(LearningModule, world.module_id)
        with pytest.raises(DomainError) as own:
            modules.rate_module(author, module, rating=5, now=NOW)
        assert own.value.field == "rating"
        for bad in (0, 6, True, "4"):
            with pytest.raises(DomainError):
                modules.rate_module(reader, module, rating=bad, now=NOW)
        modules.rate_module(reader, module, rating=2, comment="Too short", now=NOW)
        modules.rate_module(reader, module, rating=4, comment=" Clearer now ", now=NOW)
        rows = db.session.scalars(sa.select(ModuleCompletion)
                                  .filter_by(module_id=module.id)).all()
        assert [(r.membership_id, r.rating, r.comment) for r in rows] == [
            (reader.id, 4, "Clearer now")]
        assert modules.mark_done(reader, module, now=NOW).rating == 4  # done again: same row


def test_the_author_is_credited_with_modules_written_and_their_average_rating(setup, world):
    with setup():
        author = db.session.get(modules.Membership, world.author_id)
        reader = db.session.get(modules.Membership, world.reader_id)
        second = _publish(author, title="Month-end close")
        other = make_member(author.collective)
        modules.rate_module(reader, db.session.get(LearningModule, world.module_id),
                            rating=5, now=NOW)
        modules.rate_module(other, db.session.get(LearningModule, world.module_id),
                            rating=4, now=NOW)
        modules.rate_module(reader, second, rating=2, now=NOW)
        modules.mark_done(other, second, now=NOW)  # done without a rating: no rating
        credit = modules.author_credits([author.id, reader.id])
        assert credit == {author.id: modules.Credit(modules=2, ratings=3, average=3.7)}
        assert modules.credits_of_person(author.user_id) == [
            (author.collective.name, credit[author.id])]


def test_only_members_of_the_collective_read_a_module_and_open_its_files(
        client, auth, world):
    module = f"/c/{world.slug}/learning/{world.module_id}"
    attachment = f"{module}/attachments/{world.attachment_id}"
    auth.login(world.reader)
    page = client.get(module)
    assert page.status_code == 200
    assert b"<h1>Steps</h1>" in page.data and b"steps.pdf" in page.data
    got = client.get(attachment)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "private, no-store"
    assert got.headers["Content-Disposition"].startswith("attachment")
    auth.logout()

    auth.login(world.stranger)
    assert client.get(module).status_code == 404  # not a member of that collective
    assert client.get(attachment).status_code == 404
    # Through their own collective, the other collective's module is not there either.
    own = f"/c/{world.stranger_slug}/learning/{world.module_id}"
    assert client.get(own).status_code == 404
    assert client.get(f"{own}/attachments/{world.attachment_id}").status_code == 404
    assert client.post(f"{own}/rate", data={"rate-rating": "5"}).status_code == 404
    assert b"Reconciling" not in client.get(f"/c/{world.stranger_slug}/learning/").data


def test_an_attachment_is_found_only_under_its_own_module(setup, world):
    with setup():
        author = db.session.get(modules.Membership, world.author_id)
        other = _publish(author, title="Other", attachments=[png_upload()])
        with pytest.raises(NotFound):
            modules.get_attachment(author, other.id, world.attachment_id)


def test_a_module_for_partners_is_still_read_only_where_federation_allows(setup, world):
    with setup():
        author = db.session.get(modules.Membership, world.author_id)
        shared = _publish(author, title="For partners", audience="partners")
        stranger = make_collective()
        assert modules.visible_collective_ids(stranger.collective_id) == [
            stranger.collective_id]
        with pytest.raises(NotFound):
            modules.get_module(stranger, shared.id)
        assert modules.get_module(author, shared.id).audience == "partners"


def test_a_module_for_partners_reaches_a_federated_collective_until_it_leaves(setup):
    from collective.federation import partners
    from tests.federation.factories import federate
    with setup():
        ours, theirs = make_collective(), make_collective()
        early = _publish(ours, title="Before", audience="partners")
        with pytest.raises(NotFound):  # not partners yet
            modules.get_module(theirs, early.id)
        federation = federate(ours, theirs)  # (the founders alone vote)
        assert modules.get_module(theirs, early.id).title == "Before"
        author = make_member(ours.collective)
        for_partners = _publish(author, title="For partners", audience="partners")
        ours_only = _publish(author, title="Ours only")
        reader = make_member(theirs.collective)
        assert modules.visible_collective_ids(theirs.collective_id) == [
            theirs.collective_id, ours.collective_id]
        assert modules.get_module(reader, for_partners.id).title == "For partners"
        with pytest.raises(NotFound):  # a module for its own collective stays there
            modules.get_module(reader, ours_only.id)
        partners.leave_federation(theirs, federation, reason="done", now=NOW)
        with pytest.raises(NotFound):  # leaving stops the sharing
            modules.get_module(reader, for_partners.id)


def test_publishing_marking_done_and_rating_through_the_pages(client, auth, setup, world):
    auth.login(world.reader)
    new = f"/c/{world.slug}/learning/new"
    assert client.get(new).status_code == 200
    refused = client.post(new, data={"title": "", "skill": "tax prep",
                                     "estimated_minutes": "20", "markdown": "x",
                                     "audience": "collective"})
    assert refused.status_code == 422
    response = client.post(new, data={
        "title": "Quarterly BAS", "skill": "Tax prep", "estimated_minutes": "20",
        "markdown": "Lodge it <script>alert(1)</script> on time.", "audience": "collective",
        "attachments": [(io.BytesIO(PDF), "bas.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    with setup():
        made = db.session.scalars(sa.select(LearningModule)
                                  .order_by(LearningModule.id.desc())).first()
        assert (made.title, made.skill, len(made.attachments)) == ("Quarterly BAS",
                                                                   "tax prep", 1)
    page = client.get(response.headers["Location"]).data.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "You wrote this module" in page
    auth.logout()

    auth.login(world.author)
    url = f"/c/{world.slug}/learning/{made.id}"
    assert client.post(f"{url}/done", data={}).status_code == 302
    assert client.post(f"{url}/rate", data={"rate-rating": "9"}).status_code == 422
    assert client.post(f"{url}/rate", data={"rate-rating": "4", "rate-comment": "Handy"}
                       ).status_code == 302
    page = client.get(url).data.decode()
    assert "4 of 5</strong> from" in page and "Handy" in page
    assert "Change your rating" in page
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(ModuleCompletion.id))
                                 .filter_by(module_id=made.id)) == 1


def test_what_to_learn_next_on_a_hand_checked_example(setup, app):
    """Six members; the last six months' pitches asked for bookkeeping 3 times, tax prep 2,
    copywriting 2, payroll once; an old pitch (seven months back) asked for payroll again.
    Able (level 3+, active): bookkeeping 3 members (not few), tax prep 1, copywriting 1,
    payroll 1 (plus a paused member at 5, who does not count). The viewer has copywriting
    at 4, so it is not theirs to learn. Expected: tax prep (2 pitches, 1 able), then payroll
    (1 pitch, 1 able); with the modules that teach them, most recent first."""
    with setup():
        coordinator = make_collective()
        collective = coordinator.collective
        people = [make_member(collective) for _ in range(5)]
        viewer = people[0]
        levels = {
            coordinator: {"bookkeeping": 5},
            people[0]: {"copywriting": 4, "tax prep": 2},
            people[1]: {"bookkeeping": 3, "tax prep": 3},
            people[2]: {"bookkeeping": 4, "payroll": 3},
            people[3]: {"payroll": 5, "bookkeeping": 2},
            people[4]: {"tax prep": 1},
        }
        for member, skills in levels.items():
            user = member.user
            accounts.update_profile(user, name=user.name, timezone="UTC", country=None,
                                    skills=skills)
        set_status(coordinator, people[3], MembershipStatus.PAUSED.value, "leave")
        asked = [{"bookkeeping": 3, "tax prep": 2}, {"bookkeeping": 3, "copywriting": 3},
                 {"bookkeeping": 2, "tax prep": 3, "copywriting": 2}, {"payroll": 3}]
        for skills in asked:
            make_pitch(coordinator, required_skills=skills)
        old = make_pitch(coordinator, required_skills={"payroll": 3})
        db.session.execute(sa.update(Pitch).where(Pitch.id == old.id).values(
            created_at=datetime(2026, 4, 19, tzinfo=UTC)))
        first = _publish(people[1], title="Tax prep 101", skill="tax prep")
        _publish(people[1], title="Payroll basics", skill="payroll")
        second = _publish(people[2], title="Tax prep 102", skill="Tax  Prep")
        db.session.execute(sa.update(LearningModule).where(LearningModule.id == first.id)
                           .values(created_at=datetime(2026, 11, 1, tzinfo=UTC)))
        _publish(people[2], title="Bookkeeping", skill="bookkeeping")
        elsewhere = make_collective()
        _publish(elsewhere, title="Not ours", skill="tax prep", audience="partners")

        found = queries.what_to_learn_next(viewer, TODAY)
        assert [(s.skill, s.pitches, s.able, [m.title for m in s.modules]) for s in found] == [
            ("tax prep", 2, 1, ["Tax prep 102", "Tax prep 101"]),
            ("payroll", 1, 1, ["Payroll basics"]),
        ]
        assert second.skill == "tax prep"
        # Someone without copywriting is told to learn it too: as asked for and as few able
        # (the viewer alone) as tax prep, and first by name.
        assert [(s.skill, s.pitches, s.able)
                for s in queries.what_to_learn_next(people[4], TODAY)] == [
            ("copywriting", 2, 1), ("tax prep", 2, 1), ("payroll", 1, 1)]


def test_few_means_fewer_than_three_or_a_tenth_of_a_large_collective(setup, app):
    with setup():
        founder = make_collective()
        assert queries.few_members(founder.collective_id) == 3
        for _ in range(40):
            make_member(founder.collective)
        assert queries.few_members(founder.collective_id) == 5  # 41 active: ceil(4.1)


def test_months_back_keeps_the_day_or_takes_the_months_last():
    from datetime import date

    assert queries.months_back(date(2026, 11, 20), 6) == date(2026, 5, 20)
    assert queries.months_back(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert queries.months_back(date(2026, 3, 15), 6) == date(2025, 9, 15)


def test_attachments_written_before_a_refusal_are_not_left_behind(setup, world):
    with setup():
        author = db.session.get(modules.Membership, world.author_id)
        keys_before = set(db.session.scalars(sa.select(ModuleAttachment.storage_key)))
        root = receipt_storage().root
        files_before = {p for p in root.rglob("*") if p.is_file()}
        db.session.begin_nested()
        _publish(author, title="Rolled back", attachments=[pdf_upload()])
        db.session.rollback()
        assert set(db.session.scalars(sa.select(ModuleAttachment.storage_key))) == keys_before
        assert {p for p in root.rglob("*") if p.is_file()} == files_before


def test_the_authors_profile_credits_their_modules(client, auth, setup, world):
    with setup():
        reader = db.session.get(modules.Membership, world.reader_id)
        modules.rate_module(reader, db.session.get(LearningModule, world.module_id), rating=4,
                            now=NOW)
        name = reader.collective.name
        commit()
    auth.login(world.author)
    page = client.get("/account/profile").data.decode()
    assert f"{name}: 1 module, rated 4.0 of 5 on average (1 rating)" in page
    auth.logout()
    auth.login(world.reader)
    assert "Modules you wrote" not in client.get("/account/profile").data.decode()


def test_the_author_edits_their_module_and_nobody_else_can(client, auth, setup, world):
    with setup():
        module_id = db.session.scalar(sa.select(LearningModule.id).filter_by(
            author_id=world.author_id))
    url = f"/c/{world.slug}/learning/{module_id}/edit"
    auth.login(world.reader)  # a reader of the module is not its author
    assert client.get(url).status_code == 404
    assert client.post(url, data={"title": "Mine now"}).status_code == 404
    auth.logout()

    auth.login(world.author)
    form = client.get(url).data.decode()
    assert 'value="Reconciling a bank account"' in form and "Attached already: steps.pdf" in form
    refused = client.post(url, data={"title": "New", "skill": "bookkeeping",
                                     "estimated_minutes": "601", "markdown": "x",
                                     "audience": "collective"})
    assert refused.status_code == 422
    saved = client.post(url, data={
        "title": "Reconciling, step by step", "skill": "Bookkeeping",
        "estimated_minutes": "30", "markdown": "1. Match.\n2. Check.", "audience": "partners",
        "attachments": [(io.BytesIO(PDF), "more.pdf")]}, content_type="multipart/form-data")
    assert saved.status_code == 302
    with setup():
        module = db.session.get(LearningModule, module_id)
        assert (module.title, module.estimated_minutes, module.content, module.audience,
                sorted(a.filename for a in module.attachments)) == (
            "Reconciling, step by step", 30, "1. Match.\n2. Check.", "partners",
            ["more.pdf", "steps.pdf"])
    assert "Edit it</a>" in client.get(f"/c/{world.slug}/learning/{module_id}").data.decode()
