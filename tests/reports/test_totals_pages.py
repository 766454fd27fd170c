"""The treasurer's pages that read the ledger totals run as many statements for a collective
of 12 members as for one of 3, whether their postings are in the totals (before the
snapshot) or after the watermark; the whole-ledger check runs only when asked; the balance
sheet sums many member accounts into one line."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from collective.extensions import db
from collective.ledger import snapshots
from tests.pool.factories import TODAY
from tests.test_query_counts import LARGE, SMALL, _count, _html, build

PAGES = [
    ("reports/balance-sheet", "founder"),
    (f"reports/balance-sheet?as_of={TODAY.replace(day=1).isoformat()}", "founder"),
    ("ledger/trial-balance", "founder"),
    (f"ledger/trial-balance?as_of={TODAY.isoformat()}", "founder"),
    ("ledger/periods", "founder"),
    ("ledger/check", "founder"),
    ("fund/", "founder"),
    ("fund/treasurer", "founder"),
    ("dashboard", "founder"),
    ("pool/payouts", "founder"),
    ("pool/shares/all", "founder"),
]


@pytest.fixture
def split_worlds(setup) -> tuple[SimpleNamespace, SimpleNamespace]:
    """The small collective's postings in the ledger totals, the large one's after them."""
    with setup():
        small = build(SMALL)
        assert snapshots.take_snapshot(every=1) is not None
        db.session.commit()
        return small, build(LARGE)


def test_the_pages_on_the_totals_run_no_more_statements_for_more_data(app, client, auth,
                                                                      split_worlds):
    small, large = split_worlds
    counts = {(page, who): (_count(client, auth, small, page, who),
                            _count(client, auth, large, page, who))
              for page, who in PAGES}
    grows = {key: value for key, value in counts.items() if value[1] > value[0]}
    assert grows == {}, grows


@pytest.fixture
def small_world(setup) -> SimpleNamespace:
    """The small collective alone."""
    with setup():
        return build(SMALL)


def test_the_whole_ledger_check_runs_on_a_post_only(client, auth, small_world):
    small = small_world
    auth.login(small.founder)
    url = f"/c/{small.slug}/ledger/check"
    page = _html(client, url)
    assert "Check now</button>" in page and "entries (" not in page
    checked = client.post(url)
    assert checked.status_code == 200
    text = checked.get_data(as_text=True)
    assert "✓ balanced" in text and "was checked" in text


def test_the_balance_sheet_sums_many_member_accounts_into_one_line(client, auth, small_world,
                                                                   monkeypatch):
    from collective.reports import services
    auth.login(small_world.founder)
    url = f"/c/{small_world.slug}/reports/balance-sheet"
    named = _html(client, url)
    assert "member accounts" not in named
    monkeypatch.setattr(services, "MEMBER_ACCOUNTS_NAMED", SMALL - 1)
    summed = _html(client, url)
    assert f"{SMALL} member accounts" in summed
    assert "✓ assets equal liabilities plus equity" in summed
    # The same totals: the liabilities section ends with the same figure.
    section = named[named.index("Liabilities"):named.index("Equity")]
    total = section[section.rindex('class="num">'):]
    assert total in summed
