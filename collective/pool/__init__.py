"""Clients, pitches, allocation, time entries, client payments and agreed share rules.

Services by capability: clients, pitches, allocation, time, payments (with participation:
who shares a payment), payouts and rules; the read side in queries; pandas in compute;
the checks they share in checks. Pages in views/.
"""


def register_kinds() -> None:
    """Tell the layers below what the pool owns (called once by the app factory): the
    share-rule proposal kind, how it is adopted, and what its proposal page shows; and that
    reversing a client payment's entry gives back the hours it used, takes back the skill
    credit of work no longer paid, and tells the webhooks."""
    from collective.ledger.models import EntryKind
    from collective.ledger.services import register_reversal_follow_up
    from collective.members.proposals import register_proposal_details
    from collective.members.terms import register_terms
    from collective.pool.payments import follow_payment_reversal
    from collective.pool.rules import SHARE_RULE, SHARE_RULES
    from collective.pool.views.share_rules import share_rule_details

    register_terms(SHARE_RULES)
    register_proposal_details(SHARE_RULE, share_rule_details)
    register_reversal_follow_up(EntryKind.PAYMENT, follow_payment_reversal)
