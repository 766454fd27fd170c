"""The work and money of a scale collective (collective/demo/scale.py), month by month:
hours on the pitches worked, each month's client payments split by
the share rule, members' deposits, the fund's contribution and payout runs, claims, and
payouts to members. Everything is written in bulk (collective/demo/bulk.py); the pitches
are planned in scale_pitches.py."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from collective.benefits import claims as claim_service
from collective.benefits.compute import add_months
from collective.benefits.models import BenefitKind, BenefitRun, RunKind, RunLine, RunLineKind
from collective.benefits.plans import plan_in_force
from collective.benefits.run_steps import period_end
from collective.benefits.runs import run_contributions, run_payouts
from collective.demo.bulk import Bulk
from collective.demo.scale_pitches import PAY_DAY, WORK_TITLES, Pitches, at
from collective.errors import DomainError
from collective.extensions import db, utcnow
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members.models import Membership
from collective.money import format_plain, minor_digits
from collective.pool import compute
from collective.pool.models import ClientPayment, TimeEntry, TimeEntryPayment
from collective.pool.rules import rule_in_force, rule_terms

if TYPE_CHECKING:
    from collective.demo.scale import People

#: Base-currency units per unit of each client currency at the start; they drift monthly.
START_RATES = {"USD": Decimal(1), "AUD": Decimal("0.6550"), "GBP": Decimal("1.2700")}


class History:
    """Writes the months one after the other, as the collective lived them."""

    def __init__(self, people: People, pitches: Pitches, start: date, today: date,
                 rng: np.random.Generator, bulk: Bulk) -> None:
        self.people, self.pitches, self.start, self.today = people, pitches, start, today
        self.rng, self.bulk = rng, bulk
        self.collective_id = people.collective_id
        #: What the collective owes each member (their payable's balance), by position.
        self.balance = np.zeros(len(people.ids), dtype=np.int64)
        self.rates = dict(START_RATES)
        self.paid_count: dict[int, int] = defaultdict(int)
        self.bank = ledger.account_by_code(self.collective_id, ledger.BANK).id
        self.fund = ledger.account_by_code(self.collective_id, ledger.BENEFITS_FUND).id
        self.accounts = {code: ledger.account_by_code(self.collective_id, code).id
                         for code in (ledger.CLIENT_INCOME, ledger.MEMBER_SHARES,
                                      ledger.FINDER_FEES)}

    def month(self, index: int) -> None:
        """One month: hours, client payments, claims, deposits, the fund's runs, payouts."""
        period = add_months(self.start, index)
        for currency in ("AUD", "GBP"):
            drift = Decimal(int(self.rng.integers(-150, 151))) / Decimal(10_000)
            self.rates[currency] = (self.rates[currency] * (1 + drift)).quantize(
                Decimal("0.0001"))
        worked = [p for p in range(len(self.pitches.state))
                  if self.pitches.first[p] <= index <= self.pitches.last[p]]
        hours = self._hours(worked, period)
        self._payments(worked, hours, period)
        self._claims(index, period)
        self._deposits(period)
        self._contributions(period)
        benefits = run_payouts(self.collective_id, period, today=self.today,
                               triggered_by="scheduler").lines
        if len(benefits):
            np.add.at(self.balance, self.people.position(benefits["membership_id"]),
                      benefits["paid"].to_numpy(dtype=np.int64))
        self._payouts(period)

    def _contributions(self, period: date) -> None:
        """The month's contribution run, as run_contributions posts it when every member's
        balance covers their contribution (the deposits saw to that) and nobody owes the
        fund: the run row, one entry per member (contribution:<month>:member:<id>) from
        their payable into the fund, and the run lines. A month where someone owes the fund
        (a gift their reserve could not cover) is left to the real run."""
        owing = db.session.scalar(
            sa.select(sa.func.count(RunLine.id)).join(BenefitRun)
            .where(BenefitRun.collective_id == self.collective_id,
                   RunLine.kind == RunLineKind.DEBT))
        if owing:
            lines = run_contributions(self.collective_id, period, today=self.today,
                                      triggered_by="scheduler").lines
            if len(lines):
                self.balance[self.people.position(lines["membership_id"])] -= (
                    lines["paid"] + lines["settled"]).to_numpy(dtype=np.int64)
            return
        people, label, day = self.people, f"{period:%Y-%m}", period_end(period)
        if (self.balance < people.dues).any():
            raise AssertionError("a member's balance does not cover their contribution")
        plan = plan_in_force(self.collective_id, period)
        run_id = self.bulk.ids(BenefitRun, [{
            "collective_id": self.collective_id, "kind": RunKind.CONTRIBUTIONS.value,
            "period": period, "plan_id": plan.id, "total_amount": int(people.dues.sum()),
            "shortfall_amount": 0, "entry_count": len(people.ids),
            "triggered_by": "scheduler", "finished_at": at(day + timedelta(days=1), 0)}])[0]
        entry_ids = self.bulk.entries(self.collective_id, [
            (EntryKind.CONTRIBUTION, day, f"contribution:{label}:member:{membership_id}",
             f"Benefits contribution {label}: {name}",
             [(int(payable), int(due)), (self.fund, -int(due))])
            for membership_id, name, payable, due in zip(
                people.ids, people.names, people.payables, people.dues, strict=True)],
            None)
        self.bulk.rows(RunLine, ({
            "run_id": run_id, "membership_id": int(membership_id),
            "kind": RunLineKind.CONTRIBUTION.value, "amount": int(due), "shortfall": 0,
            "claim_id": None, "for_period": None, "entry_id": entry_id}
            for membership_id, due, entry_id in zip(people.ids, people.dues, entry_ids,
                                                    strict=True)))
        self.balance -= people.dues

    def _hours(self, worked: list[int], period: date) -> dict[int, list[tuple[int, int, int]]]:
        """Weekly time entries of every allocation of the pitches worked this month; returns
        {pitch: [(time entry id, member position, minutes)]}."""
        rows, owners = [], []
        for p in worked:
            for k, (member, _, weekly) in enumerate(self.pitches.team[p]):
                allocation = self.pitches.allocation_ids[p][k]
                for week in range(4):
                    minutes = max(30, weekly * 60 + int(self.rng.integers(-4, 5)) * 15)
                    rows.append({"allocation_id": allocation,
                                 "membership_id": int(self.people.ids[member]),
                                 "worked_on": period + timedelta(1 + 7 * week + allocation % 6),
                                 "minutes": minutes, "note": "weekly work",
                                 "created_at": at(period + timedelta(2 + 7 * week))})
                    owners.append((p, member, minutes))
        by_pitch: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for entry_id, (p, member, minutes) in zip(self.bulk.ids(TimeEntry, rows), owners,
                                                  strict=True):
            by_pitch[p].append((entry_id, member, minutes))
        return by_pitch

    def _payments(self, worked: list[int], hours: dict, period: date) -> None:
        """Each worked pitch's payment of the month, split as record_payment splits it:
        the client payment rows, their entries (payment:<id>) and the hours they used."""
        if not worked:
            return
        rule = rule_in_force(self.collective_id, period)
        terms, people, pitches = rule_terms(rule), self.people, self.pitches
        received = period + timedelta(PAY_DAY - 1)
        rows, splits = [], []
        for p in worked:
            currency = pitches.currency(p)
            rate = self.rates[currency]
            base = compute.convert_to_base(int(pitches.monthly[p]), minor_digits(currency),
                                           rate, 2)
            team = pitches.team[p]
            minutes = defaultdict(int)
            for _, member, used in hours[p]:
                minutes[member] += used
            participants = [compute.Participant(int(people.ids[m]), weight, minutes[m])
                            for m, weight, _ in team]
            finder = int(people.ids[pitches.finder[p]]) if pitches.finder[p] >= 0 else None
            seed = compute.split_seed(pitches.ids[p], self.paid_count[p])
            self.paid_count[p] += 1
            result = compute.split_payment(base, terms, participants, finder, seed=seed)
            rows.append({
                "collective_id": self.collective_id, "pitch_id": pitches.ids[p],
                "amount": int(pitches.monthly[p]), "currency": currency, "rate": rate,
                "base_amount": base, "split_amount": base, "received_on": received,
                "reference": f"INV-{pitches.ids[p]}-{self.paid_count[p]}",
                "share_rule_id": rule.id, "split_note": result.note,
                "recorded_by_id": people.coordinator.id, "request_key": None,
                "created_at": at(received, 12)})
            splits.append((p, base, result))
        payment_ids = self.bulk.ids(ClientPayment, rows)
        entries = []
        for payment_id, row, (p, base, result) in zip(payment_ids, rows, splits, strict=True):
            client = pitches.clients[pitches.client[p]][1]
            memo = f"{client}: {WORK_TITLES[p % len(WORK_TITLES)]} #{p + 1}"
            if row["currency"] != "USD":
                memo += (f" ({row['currency']} {format_plain(row['amount'], row['currency'])}"
                         f" at {row['rate'].normalize()})")
            lines = [(self.bank, base), (self.accounts[ledger.CLIENT_INCOME], -base)]
            members_part = sum(result.members.values())
            lines += [(self.accounts[ledger.MEMBER_SHARES], members_part),
                      (self.accounts[ledger.FINDER_FEES], result.finder_fee)]
            for membership_id, share in result.by_member().items():
                position = int(people.position([membership_id])[0])
                lines.append((int(people.payables[position]), -share))
                self.balance[position] += share
            entries.append((EntryKind.PAYMENT, received, f"payment:{payment_id}",
                            f"{memo} ref {row['reference']}"[:500],
                            [(a, m) for a, m in lines if m]))
        entry_ids = self.bulk.entries(self.collective_id, entries,
                                      int(people.user_ids[0]))
        db.session.execute(sa.update(ClientPayment), [
            {"id": payment_id, "entry_id": entry_id}
            for payment_id, entry_id in zip(payment_ids, entry_ids, strict=True)])
        self.bulk.rows(TimeEntryPayment, (
            {"time_entry_id": entry_id, "payment_id": payment_id, "created_at": utcnow()}
            for payment_id, (p, _, _) in zip(payment_ids, splits, strict=True)
            for entry_id, _, _ in hours[p]))

    def _claims(self, index: int, period: date) -> None:
        """Every other month, claims filed and approved: sick leave, parental leave and
        unpaid invoices in turn (one per 10,000 members, at least one)."""
        if index % 2 == 0:
            return
        people = self.people
        count = max(1, len(people.ids) // 10_000)
        for k in range(count):
            position = int(self.rng.integers(3, len(people.ids))) if len(people.ids) > 3 else 2
            member = db.session.get(Membership, int(people.ids[position]))
            kind = [BenefitKind.SICK, BenefitKind.PARENTAL, BenefitKind.UNPAID_INVOICE][
                (index // 2 + k) % 3]
            filed = period + timedelta(days=2)
            extra = ({"months": 3} if kind == BenefitKind.SICK else
                     {"months": 3} if kind == BenefitKind.PARENTAL else
                     {"invoice_amount": int(self.rng.integers(4, 21)) * 100_00})
            try:
                with db.session.begin_nested():
                    claim = claim_service.file_claim(
                        member, kind=kind, start_period=period, today=filed, now=at(filed),
                        note="Filed with the synthetic history.", **extra)
                    claim_service.decide_claim(people.treasurer, claim, approve=True,
                                               reason="Approved under the plan.",
                                               now=at(filed + timedelta(days=1)))
            except DomainError:
                continue  # the plan refused it (e.g. one unpaid invoice a year): no claim

    def _deposits(self, period: date) -> None:
        """Members whose balance would not cover the month's contribution pay it in: a
        standing order for the contribution, received on the 20th (deposit:<key>)."""
        people = self.people
        short = np.flatnonzero(self.balance < people.dues)
        day = period + timedelta(days=19)
        entries = []
        for position in short:
            amount = int(people.dues[position] - self.balance[position])
            amount = -(-amount // 100) * 100  # whole dollars
            self.balance[position] += amount
            entries.append((EntryKind.DEPOSIT, day,
                            f"deposit:scale-{period:%Y-%m}-{people.ids[position]}",
                            f"Deposit from {people.names[position]} ref standing order",
                            [(self.bank, amount), (int(people.payables[position]), -amount)]))
        self.bulk.entries(self.collective_id, entries, int(people.user_ids[1]))

    def _payouts(self, period: date) -> None:
        """Members owed more than three contributions are paid all but two of them, in
        whole dollars, on the last day of the month (payout:<key>)."""
        people = self.people
        keep = 2 * people.dues
        due = np.flatnonzero(self.balance > 3 * people.dues + 50_00)
        day = add_months(period, 1) - timedelta(days=1)
        entries = []
        for position in due:
            amount = int(self.balance[position] - keep[position]) // 100 * 100
            self.balance[position] -= amount
            entries.append((EntryKind.PAYOUT, day,
                            f"payout:scale-{period:%Y-%m}-{people.ids[position]}",
                            f"Payout to {people.names[position]} ref BATCH-{period:%Y%m}",
                            [(int(people.payables[position]), amount), (self.bank, -amount)]))
        self.bulk.entries(self.collective_id, entries, int(people.user_ids[1]))

    def finish(self) -> None:
        """A claim still waiting for a treasurer, filed this month by the known member."""
        this_month = self.today.replace(day=1)
        try:
            with db.session.begin_nested():
                claim_service.file_claim(
                    self.people.member, kind=BenefitKind.SICK, start_period=this_month,
                    months=2, note="Doctor's note attached: two weeks off.", today=self.today,
                    now=at(self.today))
        except DomainError:
            pass
