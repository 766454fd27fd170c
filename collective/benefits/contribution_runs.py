"""A month's contribution run: each member's contribution from their payable into the fund,
arrears recorded and settled, gift debts paid back first, reserves above the cap returned in
December, and a leaver's reserve given back.

The fund is the members' money held for them (a liability), and each member's share of it
is their reserve. What a member owes the fund is a receivable of their own (receivables.py):
the contributions their payable could not cover (posted against FUND_DUE, so a reserve only
counts what was paid, and settled by an entry of its own when a later run takes them from the
payable), and gifts their reserve could not cover, paid back from their next contributions
before anything goes into their reserve.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.benefits import compute, invariants
from collective.benefits.models import RunKind, RunLineKind
from collective.benefits.plans import plan_terms
from collective.benefits.receivables import open_receivables, receivable_accounts
from collective.benefits.run_steps import (
    Posting,
    RunResult,
    finish,
    members_frame,
    payable_accounts,
    period_end,
    start_run,
)
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members.models import Membership, MembershipStatus, User
from collective.members.services import base_currency

if TYPE_CHECKING:
    import pandas as pd

#: The month whose contribution run also gives back reserves above the cap.
RETURN_MONTH = 12


def run_contributions(collective_id: int, period: date, *, today: date, dry_run: bool = False,
                      triggered_by: str = "scheduler") -> RunResult:
    """Move each member's contribution for `period` from their payable into the fund.

    A member whose balance is short is recorded as owing. A reserve below zero (left from
    before gifts were limited to reserves) is recorded as owed to the fund, and what a member
    pays goes first to what they owe. The December run also returns reserves above the
    plan's cap, and every run gives a leaver's reserve back. Posts once per (collective,
    period), whatever happens.
    """
    import pandas as pd
    kind = RunKind.CONTRIBUTIONS
    period, done, plan = start_run(collective_id, kind, period, today, dry_run)
    if done is not None:
        return done
    terms = plan_terms(plan)
    # The fund as the run finds it (taken under the collective's lock): its check, and each
    # member's reserve, gift debt and arrears, read once for both.
    before = invariants.reserve_check(collective_id)
    members = members_frame(collective_id, period, terms, before.by_member)
    members["new_debt"] = (-members["reserve"]).clip(lower=0)
    members["debt"] = members["debt"] + members["new_debt"]
    result = compute.contribution_run(members)
    result["name"] = members["name"].to_numpy()
    result["new_debt"] = members["new_debt"].to_numpy()
    accounts = _Accounts(collective_id, dry_run=dry_run)
    moves = result[["owed", "new_debt", "settled", "debt_paid"]].sum(axis=1) > 0
    accounts.open_receivables(result.loc[moves, "membership_id"])
    posting = Posting()
    posting.add_frames(*accounts.member_entries(period, result))
    if period.month == RETURN_MONTH and terms.contribution_kind != compute.EARNINGS_PCT:
        held = pd.DataFrame({"membership_id": members["membership_id"],
                             "reserve": members["reserve"] + result["paid"] + result["settled"]
                             + result["new_debt"] - result["debt_paid"],
                             "monthly": members["due"]})
        for row in compute.reserve_returns(held, terms.reserve_cap_months).itertuples():
            key = f"return:{period.year}:member:{row.membership_id}"
            accounts.entry(posting, EntryKind.CONTRIBUTION_RETURN, period, key,
                           f"Reserve above the cap returned, {period.year}",
                           payable=(row.membership_id, -int(row.returned)))
            posting.line(row.membership_id, RunLineKind.RETURN, int(row.returned), key)
    _leavers(collective_id, period, accounts, posting,
             {m: reserve for m, (reserve, _, _) in before.by_member.items()})
    return finish(collective_id, kind, period, plan, posting=posting, frame=result,
                  total=int((result["paid"] + result["settled"]).sum()),
                  shortfall=int(result["owed"].sum()), dry_run=dry_run,
                  triggered_by=triggered_by, before=before)


class _Accounts:
    """The accounts a contribution run posts to, and how one member's entry is built."""

    def __init__(self, collective_id: int, *, dry_run: bool) -> None:
        self.collective_id, self.dry_run = collective_id, dry_run
        self.base = base_currency(collective_id)
        self.fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND).id
        self.due = ledger.account_by_code(collective_id, ledger.FUND_DUE).id
        self.payable = payable_accounts(collective_id)
        self.receivable = receivable_accounts(collective_id)

    def open_receivables(self, membership_ids) -> None:
        """Open the receivables of these members that have none yet (a dry run opens none:
        its entries are shown, never posted)."""
        if not self.dry_run:
            self.receivable = open_receivables(self.collective_id, membership_ids)

    def member_entries(self, period: date, result: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Every member's entries of the month, as frames for Posting.add_frames: the
        contribution (what goes to their gift debt first, the rest to their reserve),
        arrears settled, and the month owed; with their run lines. `result` is
        compute.contribution_run's, with name and new_debt."""
        import pandas as pd
        label = f"{period:%Y-%m}"
        member = result["membership_id"].astype("int64").reset_index(drop=True)
        ids, names = member.astype(str), result["name"].astype(str).reset_index(drop=True)
        amount = {column: result[column].astype("int64").reset_index(drop=True)
                  for column in ("paid", "settled", "owed", "new_debt", "debt_paid")}
        paid, settled, owed = amount["paid"], amount["settled"], amount["owed"]
        new_debt, zero = amount["new_debt"], pd.Series(0, index=member.index, dtype="int64")
        memo = ("Benefits contribution " + label + ": " + names).where(
            (paid != 0) | (new_debt == 0), "Negative reserve of " + names
            + f" now owed to the fund ({label})")
        # Each member's three possible entries, in the order they are written: the
        # contribution, arrears settled, the month owed.
        kinds = (
            ("contribution", memo, paid, new_debt - amount["debt_paid"], zero, True),
            ("settled", "Contributions in arrears settled " + label + ": " + names,
             settled, -settled, settled, settled > 0),
            ("arrears", "Benefits contribution " + label + " owed by " + names
             + ": balance short", zero, owed, -owed, owed > 0))
        entries = pd.concat([pd.DataFrame({
            "member": member, "position": member.index, "order": order,
            "idempotency_key": f"{prefix}:{label}:member:" + ids, "memo": memo_of,
            "payable": payable, "owed": owed_of, "due": due, "wanted": wanted})
            for order, (prefix, memo_of, payable, owed_of, due, wanted) in enumerate(kinds)],
            ignore_index=True)
        entries["fund"] = -(entries["payable"] + entries["owed"] + entries["due"])
        moves = entries[["payable", "owed", "due", "fund"]].ne(0).any(axis=1)
        entries = (entries[moves & entries["wanted"]]
                   .sort_values(["position", "order"], kind="stable").reset_index(drop=True))
        entries["kind"] = EntryKind.CONTRIBUTION.value
        entries["occurred_on"] = period_end(period)
        postings = pd.concat([pd.DataFrame({
            "entry": entries.index, "order": order, "account_id": account,
            "amount": entries[column]})
            for order, (column, account) in enumerate((
                ("payable", entries["member"].map(self.payable)),
                ("owed", entries["member"].map(self.receivable)),
                ("due", self.due), ("fund", self.fund)))], ignore_index=True)
        postings = postings[postings["amount"] != 0]
        if self.dry_run:  # a dry run opens no receivables: its entries are never posted
            postings = postings.fillna({"account_id": 0})
        if postings["account_id"].isna().any():
            missing = sorted(set(entries.loc[postings.loc[postings["account_id"].isna(),
                                                          "entry"], "member"]))
            raise ledger.ForeignAccount(f"memberships {missing[:5]} have no account to post "
                                        "their contributions to", field="account")
        postings = (postings.sort_values(["entry", "order"], kind="stable")
                    .astype({"account_id": "int64"}).assign(currency=self.base)
                    [["entry", "account_id", "amount", "currency"]].reset_index(drop=True))
        lines = pd.concat([pd.DataFrame({
            "position": member.index, "order": order, "membership_id": member,
            "kind": line_kind, "amount": value,
            "key": f"{prefix}:{label}:member:" + ids})
            for order, (line_kind, value, prefix) in enumerate((
                (RunLineKind.CONTRIBUTION, paid, "contribution"),
                (RunLineKind.DEBT, new_debt, "contribution"),
                (RunLineKind.DEBT_PAID, amount["debt_paid"], "contribution"),
                (RunLineKind.SETTLED, settled, "settled"),
                (RunLineKind.OWED, owed, "arrears")))], ignore_index=True)
        lines = lines[lines["amount"] != 0].sort_values(["position", "order"], kind="stable")
        return (entries[["kind", "occurred_on", "idempotency_key", "memo"]],
                postings, lines.drop(columns=["position", "order"]).reset_index(drop=True))

    def entry(self, posting: Posting, kind: EntryKind, period: date, key: str, memo: str, *,
              payable: tuple[int, int] = (0, 0), owed: int = 0, due: int = 0) -> None:
        """One entry: `payable` (membership id, amount) debits the member's payable (a credit
        when negative), `owed` debits the member's receivable, `due` the contributions due,
        and the fund's reserves take the other side. Nothing is added when every amount is
        zero."""
        membership_id, amount = int(payable[0]), int(payable[1])
        into_fund = amount + owed + due
        lines = [ledger.Line(account, value, self.base) for account, value in (
            (self.payable.get(membership_id), amount),
            (self.receivable.get(membership_id, 0), owed), (self.due, due),
            (self.fund, -into_fund)) if value]
        if lines:
            posting.entries.append(ledger.NewEntry(
                kind=kind, occurred_on=period_end(period), idempotency_key=key, memo=memo,
                lines=lines))


def _leavers(collective_id: int, period: date, accounts: _Accounts, posting: Posting,
             reserves: dict[int, int]) -> None:
    """Give each member who left (membership removed) their reserve back, as bread funds do;
    a leaver's reserve below zero (from before gifts were limited) is recorded as owed.
    `reserves`: each member's reserve before the run."""
    removed = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id,
               Membership.status == MembershipStatus.REMOVED.value)).all())
    if not removed:
        return
    accounts.open_receivables(m for m in removed if reserves.get(m, 0) < 0)
    label = f"{period:%Y-%m}"
    for membership_id, name in sorted(removed.items()):
        reserve = int(reserves.get(membership_id, 0))
        if reserve > 0:
            key = f"leaving:{label}:member:{membership_id}"
            accounts.entry(posting, EntryKind.CONTRIBUTION_RETURN, period, key,
                           f"Reserve returned on leaving: {name}",
                           payable=(membership_id, -reserve))
            posting.line(membership_id, RunLineKind.LEAVING, reserve, key)
        elif reserve < 0:
            key = f"contribution:{label}:member:{membership_id}"
            accounts.entry(posting, EntryKind.CONTRIBUTION, period, key,
                           f"Negative reserve of {name} now owed to the fund ({label})",
                           payable=(membership_id, 0), owed=-reserve)
            posting.line(membership_id, RunLineKind.DEBT, -reserve, key)
