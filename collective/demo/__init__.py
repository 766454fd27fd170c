"""The demo collective (slug `demo`): Bayanihan Remote Collective, see shared/DEMO.md."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from collective.clock import today_in
from collective.demo.books import load_books
from collective.demo.fund import DemoFund
from collective.demo.guild import GUILD_SLUG, load_guild
from collective.demo.learning import load_learning
from collective.demo.partners import archive_partner, load_partner
from collective.demo.pool import load_pool_history, months_ago
from collective.demo.skills import load_skill_evidence
from collective.extensions import db, utcnow
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members import accounts, invitations
from collective.members import services as members
from collective.members.models import Collective, MembershipStatus, Role, User
from collective.transactions import transaction
from collective.webhooks import endpoints as webhooks

DEMO_SLUG = "demo"
#: The demo's webhook endpoint: an example URL (.example is reserved), kept disabled.
DEMO_WEBHOOK_URL = "https://books.bayanihan.example/hooks/collective"
DEMO_WEBHOOK_NOTE = "Example: the accounting system's sync (disabled in the demo)"
DEMO_PASSWORD = "demo-password"

M, C, T = Role.MEMBER, Role.COORDINATOR, Role.TREASURER

#: (name, e-mail, country, timezone, roles, skills, weekly hours, paused because)
PEOPLE = [
    ("Maria Santos", "maria@demo.coop", "PH", "Asia/Manila", {C, M},
     {"customer service": 5, "scheduling": 4, "research": 3}, 25, None),
    ("Anjali Rao", "anjali@demo.coop", "IN", "Asia/Kolkata", {T, M},
     {"bookkeeping": 5, "tax prep": 4, "spreadsheets": 5}, 20, None),
    ("Kate Mitchell", "kate@demo.coop", "AU", "Australia/Sydney", {C, M},
     {"marketing": 4, "copywriting": 5, "client relations": 5}, 15, None),
    ("Joy Dela Cruz", "joy@demo.coop", "PH", "Asia/Manila", {M},
     {"bookkeeping": 3, "customer service": 4}, 30, None),
    ("Priya Nair", "priya@demo.coop", "IN", "Asia/Kolkata", {M},
     {"content writing": 5, "ghostwriting": 4, "editing": 4}, 20, None),
    ("Liza Ramos", "liza@demo.coop", "PH", "Asia/Manila", {M},
     {"research": 4, "data entry": 5}, 35, None),
    ("Sunita Sharma", "sunita@demo.coop", "IN", "Asia/Kolkata", {M},
     {"web research": 3, "social media": 4}, 15, None),
    ("Grace Villanueva", "grace@demo.coop", "PH", "Asia/Manila", {M},
     {"customer service": 5, "live chat": 5}, 30, None),
    ("Emma Clarke", "emma@demo.coop", "AU", "Australia/Perth", {M},
     {"editing": 5, "publishing": 4}, 10, None),
    ("Rhea Bautista", "rhea@demo.coop", "PH", "Asia/Manila", {M},
     {"scheduling": 4, "email management": 4}, 0, "parental leave"),
    ("Deepa Iyer", "deepa@demo.coop", "IN", "Asia/Kolkata", {T, M},
     {"accounting": 4, "payroll": 4}, 15, None),
    ("Carmen Reyes", "carmen@demo.coop", "PH", "Asia/Manila", {M},
     {"graphic design": 3, "social media": 3}, 20, None),
]

#: Each member paid USD 100 into the common fund when the collective started.
OPENING_SHARE = 100_00


def _person(name: str, email: str, country: str, tz: str, skills: dict[str, int]) -> User:
    user = db.session.scalar(sa.select(User).filter_by(email=email))
    if user is None:
        user = accounts.register_user(email, name, DEMO_PASSWORD, timezone=tz, country=country,
                                      confirmed_at=utcnow())
    accounts.update_profile(user, name=name, timezone=tz, country=country, skills=skills)
    return user


#: The demo collective lives in Manila: its "today" is Manila's.
DEMO_TIMEZONE = "Asia/Manila"


def archive_demo() -> Collective | None:
    """Rename and hide the current demo collective and the demo's other collectives (its
    partner Harambee, and Southern Cross Editors); their ledgers stay, append-only."""
    archive_partner()
    found = {}
    for slug in (DEMO_SLUG, GUILD_SLUG):
        existing = db.session.scalar(sa.select(Collective).filter_by(slug=slug))
        if existing is not None:
            existing.slug = f"{slug}-archived-{existing.id}"
            existing.archived_at = utcnow()
            db.session.flush()
        found[slug] = existing
    return found[DEMO_SLUG]


def load_demo(today: date | None = None) -> Collective:
    """Create the demo collective with its people, roles, skills and opening ledger entry."""
    today = today or today_in(DEMO_TIMEZONE)
    founder_row, *others = PEOPLE
    founder = _person(*founder_row[:4], founder_row[5])
    first = members.create_collective(founder, name="Bayanihan Remote Collective",
                                      slug=DEMO_SLUG, base_currency="USD",
                                      timezone=DEMO_TIMEZONE)
    collective = first.collective
    first.weekly_capacity_hours = founder_row[6]
    all_memberships = [first]
    for name, email, country, tz, roles, skills, hours, paused in others:
        user = _person(name, email, country, tz, skills)
        status = MembershipStatus.PAUSED if paused else MembershipStatus.ACTIVE
        all_memberships.append(members.add_member(
            collective, user, roles, weekly_capacity_hours=hours, status=status,
            status_note=paused or ""))
    members.set_roles(all_memberships[1], first, founder_row[4])  # Maria: coordinator, member
    bank = ledger.account_by_code(collective.id, ledger.BANK)
    fund = ledger.account_by_code(collective.id, ledger.COMMON_FUND)
    total = OPENING_SHARE * len(all_memberships)
    ledger.post_entry(
        collective.id, kind=EntryKind.OPENING, occurred_on=today - timedelta(days=183),
        idempotency_key="opening:common-fund",
        memo=f"Opening contributions to the common fund, USD 100 from each of "
             f"{len(all_memberships)} founding members",
        lines=[ledger.Line(bank.id, total, "USD"), ledger.Line(fund.id, -total, "USD")],
        created_by_id=founder.id,
    )
    invitations.create_invitation(first, email="nadia@example.com", roles=[M],
                                  ttl=timedelta(days=7), now=utcnow())
    people = {m.user.email.split("@")[0]: m for m in all_memberships}
    # Subscribed before the history is loaded, so its events are queued for it; disabled at
    # the end, so they wait: its URL is an example no scheduler should try.
    hook = webhooks.create_endpoint(
        people["anjali"], url=DEMO_WEBHOOK_URL, description=DEMO_WEBHOOK_NOTE,
        event_types=["payment.recorded", "payout.sent", "run.finished", "invoice.issued",
                     "invoice.paid"], allow_private=True)
    start = months_ago(today, 6)
    for membership in all_memberships:  # they founded the collective six months ago
        membership.joined_at = datetime.combine(start - timedelta(days=7), time(9),
                                                tzinfo=UTC)
    # The second collective first: its rows are older than the demo's own, which the pages
    # (and the form fuzz's newest rows) are about.
    load_guild(people, today, [months_ago(today, k) for k in range(5, -1, -1)])
    demo_fund = DemoFund(people, start, today)
    work = load_pool_history(people, today, after_month=demo_fund.after_month)
    demo_fund.finish()
    load_books(people, work, today)
    load_partner(people, _person, start, today)
    load_learning(people, today)
    load_skill_evidence(people, today)
    webhooks.set_enabled(people["anjali"], hook, False)
    return collective


#: Where loading accounts with a public password is allowed without --force.
SAFE_ENVIRONMENTS = ("development", "testing")


def refuse_outside_development(force: bool) -> None:
    """Stop with a clear message (exit 1) unless the instance runs in development or
    testing, or `--force` says loading the demo's public-password accounts is meant."""
    env = current_app.config.get("COLLECTIVE_ENV", "production")
    if env not in SAFE_ENVIRONMENTS and not force:
        raise click.ClickException(
            f"refusing to load demo data in {env} (COLLECTIVE_ENV={env}): it creates "
            f"accounts anyone can sign in to with the public password {DEMO_PASSWORD!r}. "
            "Use a development instance, or add --force if you really mean it.")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Archive the current demo collective and load anew.")
@click.option("--scale", type=click.IntRange(3, 200_000), default=None, metavar="N",
              help="Instead, build a synthetic collective of N members (slug scale-N).")
@click.option("--months", type=click.IntRange(1, 36), default=24, show_default=True,
              help="With --scale: months of history.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="With --scale: the random seed (the same seed builds the same data).")
@click.option("--force", is_flag=True,
              help="Load even though COLLECTIVE_ENV is not development or testing.")
@with_appcontext
def demo_command(reset: bool, scale: int | None, months: int, seed: int, force: bool) -> None:
    """Load the demo collective (slug 'demo'); running it again changes nothing. With
    --scale N, build a large synthetic collective instead (refused if it exists)."""
    refuse_outside_development(force)
    if scale is not None:
        _scale_command(scale, months, seed)
        return
    loaded = db.session.scalar(sa.select(Collective.id).filter_by(slug=DEMO_SLUG)) is not None
    if loaded and not reset:
        click.echo("The demo collective is already loaded (use --reset to start over).")
        return
    with transaction():  # the old demo is archived only if the new one loads
        archived = archive_demo()
        collective = load_demo()
        said = [f"Archived the previous demo collective as {archived.slug!r}."] if archived else []
        said.append(f"Loaded {collective.name} at /c/{collective.slug}/ - sign in as "
                    f"maria@demo.coop, anjali@demo.coop or priya@demo.coop "
                    f"with the password {DEMO_PASSWORD!r}.")
    for line in said:
        click.echo(line)


def _scale_command(members: int, months: int, seed: int) -> None:
    """Build the scale collective in one transaction, with progress bars, and say how."""
    from collective.demo.scale import AlreadyLoaded, build_scale, describe

    started = perf_counter()
    try:
        with transaction():
            summary = build_scale(members, months, seed, progress=True)
    except AlreadyLoaded as exc:
        raise click.ClickException(exc.message) from exc
    # What 24 months of the scheduler would have left: a balance snapshot (it takes one
    # every 20,000 postings). And fresh statistics for the planner after the bulk load:
    # until autovacuum gets there, PostgreSQL plans a million rows as if they were none
    # (a balance sheet took minutes).
    from collective.ledger.snapshots import take_snapshot
    with transaction():
        take_snapshot()
        db.session.execute(sa.text("ANALYZE"))
    for line in describe(summary):
        click.echo(line)
    click.echo(f"Built in {perf_counter() - started:.1f} s.")
