"""The mutual benefits fund: plans, levels, contributions, claims, payouts, scheduled runs.

Modules
-------
- plans.py: plan versions (founding plan, changes by vote) and members' levels.
- claims.py: filing, deciding (by a treasurer or by vote) and withdrawing claims.
- runs.py: the monthly contribution and payout runs, and which months are due.
- invariants.py: the members' reserves add up to the fund; checked after every run and
  by `flask ledger check`.
- forecasts.py: the Monte Carlo forecast, computed and stored by the scheduler.
- queries.py: the read side for pages (balance, member's fund, owing, months, runs).
- compute.py: the numbers, in pandas (no database, no Flask).
- kinds.py: the named kinds (benefits, claim statuses, runs, run lines), shared by compute
  and models without a database import.
- jobs.py and cli.py: the scheduler's jobs and the `flask benefits` commands.
- views.py and forms.py: the pages.
"""

#: Why a fund run's entry cannot be reversed alone: its run lines (owed months, reserves,
#: paid claim months) describe it too, and would fall out of step.
RUN_ENTRY_LOCKED = ("this entry belongs to a fund run and cannot be reversed on its own; "
                    "correct it with a deposit or a claim instead")


def register_kinds() -> None:
    """Tell the layers below what benefits owns: the ledger's locked entry kinds and its
    check of the fund's reserves, and the proposal kinds with what adopting or rejecting
    one does and how its page shows it (called once by the app factory)."""
    from collective.benefits import claims, invariants, plans, views
    from collective.ledger.balances import register_check
    from collective.ledger.models import EntryKind
    from collective.ledger.services import register_locked_kind
    from collective.members.proposals import (
        register_adopter,
        register_excluded_voters,
        register_proposal_details,
    )
    from collective.members.terms import register_terms

    for kind in (EntryKind.CONTRIBUTION, EntryKind.BENEFIT, EntryKind.CONTRIBUTION_RETURN):
        register_locked_kind(kind, RUN_ENTRY_LOCKED)
    register_check("fund reserves", invariants.reserve_problems)
    register_terms(plans.BENEFIT_PLANS)
    register_adopter(claims.BENEFIT_CLAIM, claims.approve_by_vote, claims.reject_by_vote)
    register_excluded_voters(claims.BENEFIT_CLAIM, claims.claimant_of)
    register_proposal_details(plans.BENEFIT_PLAN, views.plan_details)
    register_proposal_details(claims.BENEFIT_CLAIM, views.claim_details)
