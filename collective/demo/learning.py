"""Learning modules in the demo collective: three members teach what they know best, and
others finished and rated their modules."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from collective.learning.modules import mark_done, publish_module, rate_module
from collective.members.models import Membership

RECONCILING = """\
A bank feed that matches the ledger line by line is the base of every clean-up.

## Steps
1. Export the statement as **CSV** for the whole month.
2. Sort both sides by amount, then by date.
3. Tick each pair; anything left over goes on the *open items* list.

| Left over | What to do |
|---|---|
| Bank fee | Book it to bank charges |
| Unknown deposit | Ask the client before booking it |

Our own guide to the bank page: [bank statements](https://docs.example.org/bank).
"""

SOURCES = """\
Case-law and market research both start from the same habit: find the **primary source**
before quoting anyone.

1. Search the court's or the regulator's own site first.
2. Keep a log: what you searched, where, and what you found.
3. Cite every claim with a link the client can open.

`site:` and `filetype:pdf` in a search engine find most public filings.
"""

BRIEF = """\
Clients say yes to a brief they can read in two minutes.

- Start with **the outcome**, not the tasks.
- Name the deadline and who signs off.
- Keep the price in one line, with what is not included.

> A brief is a promise: write only what the collective can keep.
"""


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_learning(people: dict[str, Membership], today: date) -> None:
    """Anjali's bookkeeping module, done and rated by Joy and Carmen; Liza's research
    module, rated by Sunita; Kate's copywriting module for partner collectives too, rated
    by Priya."""
    reconciling = publish_module(people["anjali"], title="Reconciling a bank feed in 20 minutes",
                                 skill="bookkeeping", estimated_minutes=20, content=RECONCILING,
                                 now=_at(today - timedelta(days=40)))
    brief = publish_module(people["kate"], title="Writing a client brief that gets a yes",
                           skill="copywriting", estimated_minutes=15, content=BRIEF,
                           audience="partners", now=_at(today - timedelta(days=20)))
    sources = publish_module(people["liza"], title="Finding primary sources fast",
                             skill="research", estimated_minutes=30, content=SOURCES,
                             now=_at(today - timedelta(days=25)))
    rate_module(people["sunita"], sources, rating=4, comment="The search log is a keeper.",
                now=_at(today - timedelta(days=12)))
    rate_module(people["joy"], reconciling, rating=5,
                comment="The open-items list saved my month-end.",
                now=_at(today - timedelta(days=35)))
    rate_module(people["carmen"], reconciling, rating=4, comment="Clear steps.",
                now=_at(today - timedelta(days=30)))
    rate_module(people["priya"], brief, rating=5, now=_at(today - timedelta(days=10)))
    mark_done(people["sunita"], brief, now=_at(today - timedelta(days=5)))
