"""A synthetic collective at scale (`flask demo --scale N`): N members with skills, levels
and roles, clients, about 0.3 pitches per member with allocations and hours, and `months`
months of client payments and their splits, deposits, payouts, claims and the fund's runs.

Rows are written in bulk (Core `insert()` with many rows at once; the postings through COPY
on PostgreSQL), never one ORM object at a time. The entries mirror what the app posts:
the same accounts, entry kinds and idempotency keys (`payment:<id>`, `deposit:...`,
`payout:...`), and the fund's months are run by the app's own contribution and payout runs,
so their run keys are the real ones and a later real run continues from them. The month by
month work is in scale_months.py, the pitches in scale_pitches.py, the bulk writes in
bulk.py.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import click
import numpy as np
import sqlalchemy as sa

from collective.benefits.compute import PlanTerms
from collective.benefits.models import MemberLevel
from collective.benefits.plans import set_founding_plan
from collective.clock import today_in
from collective.demo.bulk import Bulk
from collective.demo.fund import BREAD_FUND, LEVELS
from collective.demo.pool import months_ago
from collective.demo.scale_months import History
from collective.demo.scale_pitches import Pitches
from collective.errors import Conflict, DomainError
from collective.extensions import db, utcnow
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType, EntryKind, JournalEntry, Posting
from collective.members import accounts
from collective.members import services as members_service
from collective.members.models import (
    Collective,
    Membership,
    MembershipRole,
    MembershipStatus,
    Role,
    Skill,
    User,
)
from collective.pool.models import Client
from collective.pool.rules import set_founding_rule, terms_from

#: Every account the command creates signs in with this (public) password.
SCALE_PASSWORD = "demo-password"
SCALE_TIMEZONE = "Asia/Manila"
#: The three known logins, one per role (the same people in every scale collective).
LOGINS = {"coordinator": ("coordinator@scale.demo", "Corazon Aquino-Reyes"),
          "treasurer": ("treasurer@scale.demo", "Tomas Villareal"),
          "member": ("member@scale.demo", "Mira Castillo")}

FIRST = ["Maria", "Jose", "Ana", "Juan", "Liza", "Mark", "Grace", "Paolo", "Joy", "Carlo",
         "Priya", "Arjun", "Deepa", "Rahul", "Sunita", "Vikram", "Anjali", "Rohan", "Kate",
         "Liam", "Emma", "Noah", "Olivia", "Jack", "Chloe", "Ethan", "Amara", "Tunde"]
LAST = ["Santos", "Reyes", "Cruz", "Bautista", "Ramos", "Garcia", "Mendoza", "Torres", "Rao",
        "Nair", "Iyer", "Sharma", "Gupta", "Menon", "Patel", "Mitchell", "Clarke", "Wilson",
        "Nguyen", "Brown", "Taylor", "Okafor", "Adeyemi", "Villanueva", "Dela Cruz"]
#: (country, timezone) the members work from, with how many of them do.
PLACES = [("PH", "Asia/Manila", 45), ("IN", "Asia/Kolkata", 30), ("AU", "Australia/Sydney", 15),
          ("NG", "Africa/Lagos", 10)]
SKILLS = ["customer service", "scheduling", "research", "bookkeeping", "tax prep",
          "spreadsheets", "marketing", "copywriting", "content writing", "editing",
          "data entry", "social media", "live chat", "graphic design", "payroll",
          "web research", "email management", "translation", "transcription", "qa testing"]
CLIENT_WORDS = ["Harbour", "Summit", "Brightline", "Oakfield", "Koala", "Northwind", "Bluegum",
                "Redwood", "Silverlake", "Granite", "Maple", "Coral", "Evergreen", "Pioneer"]
CLIENT_KINDS = ["Dental", "Legal", "Publishing", "Realty", "Cafe Group", "Logistics",
                "Accounting", "Clinics", "Studios", "Outfitters", "Travel", "Insurance"]
#: (country, currency) of the clients.
CLIENT_PLACES = [("US", "USD"), ("US", "USD"), ("AU", "AUD"), ("GB", "GBP")]


@dataclass
class ScaleSummary:
    """What build_scale made: the collective, the known logins and the row counts."""

    collective_id: int
    slug: str
    name: str
    #: role -> e-mail of a login holding it; every login's password is `password`.
    logins: dict[str, str]
    password: str
    counts: dict[str, int] = field(default_factory=dict)


class AlreadyLoaded(Conflict):
    """A scale collective of this size exists already."""


def scale_slug(members: int) -> str:
    """The slug of the scale collective with `members` members."""
    return f"scale-{members}"


@contextmanager
def _phase(label: str, length: int, progress: bool) -> Iterator:
    """A progress bar on stderr for one phase (or a silent stand-in)."""
    if not progress:
        class _Silent:
            def update(self, steps: int) -> None:
                pass
        yield _Silent()
        return
    with click.progressbar(length=length, label=label.ljust(12), file=sys.stderr,
                           show_pos=True) as bar:
        yield bar


def build_scale(members: int, months: int = 24, seed: int = 0, progress: bool = True, *,
                today: date | None = None) -> ScaleSummary:
    """Build one synthetic collective of `members` members with `months` months of history
    up to last month (flushed; the caller commits). Refused with AlreadyLoaded when a scale
    collective of that size exists."""
    if not 3 <= members <= 200_000:
        raise DomainError("a scale collective has 3 to 200,000 members", field="scale")
    if not 1 <= months <= 36:
        raise DomainError("the history is 1 to 36 months long", field="months")
    slug = scale_slug(members)
    if db.session.scalar(sa.select(Collective.id).filter_by(slug=slug)) is not None:
        raise AlreadyLoaded(f"the collective {slug!r} is loaded already; load another size, "
                            "or use another database", field="scale")
    today = today or today_in(SCALE_TIMEZONE)
    start = months_ago(today, months)
    rng = np.random.default_rng(seed)
    bulk = Bulk()
    with _phase("members", members, progress) as bar:
        people = _people(members, slug, start, rng, bulk, bar)
    collective_id = people.collective_id
    with _phase("pitches", 1, progress) as bar:
        clients = _clients(collective_id, max(5, members // 50), rng, bulk)
        pitches = Pitches.plan(people, clients, months, rng)
        pitches.write(collective_id, start, bulk)
        bar.update(1)
    history = History(people, pitches, start, today, rng, bulk)
    with _phase("months", months, progress) as bar:
        for index in range(months):
            history.month(index)
            bar.update(1)
    history.finish()
    db.session.flush()
    return ScaleSummary(collective_id, slug, f"Scale {members}",
                        {role: email for role, (email, _) in LOGINS.items()}, SCALE_PASSWORD,
                        counts(collective_id))


@dataclass
class People:
    """The members of a scale collective, by position: the three known logins first."""

    collective_id: int
    #: Membership ids, ascending; payable account ids and names alongside.
    ids: np.ndarray
    payables: np.ndarray
    names: list[str]
    user_ids: np.ndarray
    #: Monthly benefit level and contribution, in cents.
    levels: np.ndarray
    dues: np.ndarray
    is_active: np.ndarray
    coordinator: Membership
    treasurer: Membership
    member: Membership

    def position(self, membership_ids) -> np.ndarray:
        """Positions of these membership ids in `ids`."""
        return np.searchsorted(self.ids, np.asarray(membership_ids, dtype=np.int64))


def _known_user(email: str, name: str) -> User:
    """One of the known logins: the existing account, or a new one with the demo password."""
    user = db.session.scalar(sa.select(User).filter_by(email=email))
    if user is None:
        user = accounts.register_user(email, name, SCALE_PASSWORD, timezone=SCALE_TIMEZONE,
                                      country="PH", confirmed_at=utcnow())
    return user


def _people(count: int, slug: str, start: date, rng: np.random.Generator, bulk: Bulk,
            bar) -> People:
    """The collective, its three known members through the app's services (chart, rules,
    plan), then everyone else in bulk: users, skills, memberships, roles, payables, levels."""
    known = {role: _known_user(email, name) for role, (email, name) in LOGINS.items()}
    founder = members_service.create_collective(
        known["coordinator"], name=f"Scale {count}", slug=slug, base_currency="USD",
        timezone=SCALE_TIMEZONE)
    collective = founder.collective
    treasurer = members_service.add_member(collective, known["treasurer"],
                                           {Role.TREASURER, Role.MEMBER}, weekly_capacity_hours=20)
    member = members_service.add_member(collective, known["member"], {Role.MEMBER},
                                        weekly_capacity_hours=25)
    members_service.set_roles(treasurer, founder, {Role.COORDINATOR, Role.MEMBER})
    founder.weekly_capacity_hours = 30
    joined = datetime.combine(start - timedelta(days=7), time(9), tzinfo=UTC)
    for membership in (founder, treasurer, member):
        membership.joined_at = joined
    set_founding_rule(treasurer, terms_from(1000, 500, "hours"), start, today=start)
    set_founding_plan(treasurer, PlanTerms.from_json(BREAD_FUND), start, today=start)
    db.session.flush()
    bar.update(3)

    others = count - 3
    first = rng.integers(0, len(FIRST), others)
    last = rng.integers(0, len(LAST), others)
    weights = np.array([p[2] for p in PLACES], dtype=float)
    place = rng.choice(len(PLACES), others, p=weights / weights.sum())
    names = [f"{FIRST[f]} {LAST[n]}" for f, n in zip(first, last, strict=True)]
    password_hash = _hash()
    now = utcnow()
    user_ids = bulk.ids(User, ({
        "email": f"m{i:06d}@{slug}.scale.demo", "name": names[i],
        "password_hash": password_hash, "timezone": PLACES[place[i]][1],
        "country": PLACES[place[i]][0], "created_at": now, "email_confirmed_at": now,
    } for i in range(others)))
    bar.update(others // 3)
    _skills(known, user_ids, rng, bulk)
    paused = rng.random(others) < 0.02
    capacity = np.where(paused, 0, rng.integers(1, 9, others) * 5)
    membership_ids = bulk.ids(Membership, ({
        "collective_id": collective.id, "user_id": int(user_ids[i]),
        "status": (MembershipStatus.PAUSED if paused[i] else MembershipStatus.ACTIVE).value,
        "status_note": "parental leave" if paused[i] else "",
        "weekly_capacity_hours": int(capacity[i]), "joined_at": joined,
    } for i in range(others)))
    bar.update(others // 3)
    roles = [{"membership_id": int(m), "role": Role.MEMBER.value} for m in membership_ids]
    roles += [{"membership_id": int(m), "role": Role.COORDINATOR.value}
              for m in membership_ids[::250]]
    roles += [{"membership_id": int(m), "role": Role.TREASURER.value}
              for m in membership_ids[125::500]]
    bulk.rows(MembershipRole, roles)
    bulk.rows(Account, ({
        "collective_id": collective.id, "code": ledger.member_account_code(int(m)),
        "name": f"Payable to {name}"[:120], "type": AccountType.LIABILITY.value,
        "membership_id": int(m), "created_at": now,
    } for m, name in zip(membership_ids, names, strict=True)))
    all_ids = np.concatenate([np.array([founder.id, treasurer.id, member.id], dtype=np.int64),
                              np.asarray(membership_ids, dtype=np.int64)])
    payable = dict(db.session.execute(
        sa.select(Account.membership_id, Account.id)
        .where(Account.collective_id == collective.id, Account.membership_id.is_not(None))
    ).all())
    levels = rng.choice(np.array(LEVELS, dtype=np.int64), count, p=[0.3, 0.35, 0.25, 0.1])
    bulk.rows(MemberLevel, ({"membership_id": int(m), "benefit_amount": int(level),
                             "from_period": start, "chosen_at": joined}
                            for m, level in zip(all_ids, levels, strict=True)))
    _opening(collective.id, count, start, known["treasurer"].id)
    bar.update(others - 2 * (others // 3))
    return People(
        collective_id=collective.id, ids=all_ids,
        payables=np.array([payable[int(m)] for m in all_ids], dtype=np.int64),
        names=[known[r].name for r in ("coordinator", "treasurer", "member")] + names,
        user_ids=np.concatenate([np.array([known[r].id for r in
                                           ("coordinator", "treasurer", "member")]),
                                 np.asarray(user_ids, dtype=np.int64)]),
        levels=levels, dues=levels * 45 // 1000,
        is_active=np.concatenate([np.ones(3, dtype=bool), ~paused]),
        coordinator=founder, treasurer=treasurer, member=member)


def _hash() -> str:
    """The demo password's hash, made once and shared by every generated account."""
    user = User(email="", name="", password_hash="")
    user.set_password(SCALE_PASSWORD, accounts.password_method())
    return user.password_hash


def _skills(known: dict[str, User], user_ids: list[int], rng: np.random.Generator,
            bulk: Bulk) -> None:
    """One to three skills a person, each with a level from 1 to 5."""
    for user, skills in zip(known.values(), (
            {"customer service": 5, "scheduling": 4}, {"bookkeeping": 5, "payroll": 4},
            {"content writing": 4, "editing": 3}), strict=True):
        accounts.update_profile(user, name=user.name, timezone=user.timezone,
                                country=user.country, skills=skills)
    how_many = rng.integers(1, 4, len(user_ids))
    rows = []
    for user_id, k in zip(user_ids, how_many, strict=True):
        for skill in rng.choice(len(SKILLS), int(k), replace=False):
            rows.append({"user_id": int(user_id), "name": SKILLS[skill],
                         "level": int(rng.integers(1, 6))})
    bulk.rows(Skill, rows)


def _opening(collective_id: int, count: int, start: date, user_id: int) -> None:
    """USD 100 from each founding member into the common fund, as the demo's opening."""
    bank = ledger.account_by_code(collective_id, ledger.BANK).id
    fund = ledger.account_by_code(collective_id, ledger.COMMON_FUND).id
    total = 100_00 * count
    ledger.post_entry(collective_id, kind=EntryKind.OPENING,
                      occurred_on=start - timedelta(days=7),
                      idempotency_key="opening:common-fund",
                      memo=f"Opening contributions to the common fund, USD 100 from each of "
                           f"{count} founding members",
                      lines=[ledger.Line(bank, total, "USD"), ledger.Line(fund, -total, "USD")],
                      created_by_id=user_id)


def _clients(collective_id: int, count: int, rng: np.random.Generator, bulk: Bulk
             ) -> list[tuple[int, str, str]]:
    """`count` clients with unique names: [(client id, name, currency)]."""
    rows, currencies = [], []
    for i in range(count):
        word = CLIENT_WORDS[i % len(CLIENT_WORDS)]
        kind = CLIENT_KINDS[(i // len(CLIENT_WORDS)) % len(CLIENT_KINDS)]
        round_ = i // (len(CLIENT_WORDS) * len(CLIENT_KINDS))
        name = f"{word} {kind}" + (f" {round_ + 1}" if round_ else "")
        country, currency = CLIENT_PLACES[int(rng.integers(0, len(CLIENT_PLACES)))]
        rows.append({"collective_id": collective_id, "name": name, "country": country,
                     "contact": f"Accounts, {name}", "notes": "",
                     "billing_email": f"accounts@client{i}.example",
                     "created_at": utcnow()})
        currencies.append(currency)
    ids = bulk.ids(Client, rows)
    return [(int(i), row["name"], cur) for i, row, cur in zip(ids, rows, currencies,
                                                               strict=True)]


def counts(collective_id: int) -> dict[str, int]:
    """Row counts of a collective: members, pitches, payments, entries, postings, ..."""
    from collective.benefits.models import BenefitRun, Claim, RunLine
    from collective.pool.models import Allocation, ClientPayment, Pitch, TimeEntry

    def count(column, *where) -> int:
        return int(db.session.scalar(sa.select(sa.func.count(column)).where(*where)) or 0)

    return {
        "members": count(Membership.id, Membership.collective_id == collective_id),
        "clients": count(Client.id, Client.collective_id == collective_id),
        "pitches": count(Pitch.id, Pitch.collective_id == collective_id),
        "allocations": count(Allocation.id, Allocation.pitch_id.in_(
            sa.select(Pitch.id).where(Pitch.collective_id == collective_id))),
        "time_entries": count(TimeEntry.id, TimeEntry.membership_id.in_(
            sa.select(Membership.id).where(Membership.collective_id == collective_id))),
        "payments": count(ClientPayment.id, ClientPayment.collective_id == collective_id),
        "claims": count(Claim.id, Claim.collective_id == collective_id),
        "fund_runs": count(BenefitRun.id, BenefitRun.collective_id == collective_id),
        "run_lines": count(RunLine.id, RunLine.run_id.in_(
            sa.select(BenefitRun.id).where(BenefitRun.collective_id == collective_id))),
        "entries": count(JournalEntry.id, JournalEntry.collective_id == collective_id),
        "postings": int(db.session.scalar(
            sa.select(sa.func.count(Posting.id)).join(JournalEntry)
            .where(JournalEntry.collective_id == collective_id)) or 0),
    }


def describe(summary: ScaleSummary) -> Iterable[str]:
    """What the command says when it is done."""
    yield (f"Loaded {summary.name} at /c/{summary.slug}/: "
           + ", ".join(f"{value:,} {name.replace('_', ' ')}"
                       for name, value in summary.counts.items()))
    logins = ", ".join(f"{email} ({role})" for role, email in summary.logins.items())
    yield f"Sign in as {logins} with the password {summary.password!r}."
