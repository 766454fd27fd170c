"""Partners between collectives (issue 15): federations agreed by each side's vote, the
search of a partner's members, pitches shared under a split in basis points (a partner
that helps deliver, or a supplier the host subcontracts: the same mechanism, a label
apart), and the money between the two ledgers.

Modules: models; partners (federations: propose, vote, leave); sharing (shared pitches,
partner allocations and time); search (a partner's members by skill and free hours); money
(each shared payment posted in both ledgers, settlements, balances); views and forms.
"""


def register_kinds() -> None:
    """Tell the layers below what federation owns (called once by the app factory, after
    the pool): the 'federation' proposal kind, the partner's part of a shared pitch's
    payment, the reversal of that part with the host's payment, and the ledger check that
    both sides agree on what one owes the other."""
    from collective.federation import money, partners, sharing, views
    from collective.ledger.balances import register_check
    from collective.ledger.models import EntryKind
    from collective.ledger.services import register_reversal_follow_up
    from collective.members.proposals import register_adopter, register_proposal_details
    from collective.pool.notices import register_partner_link
    from collective.pool.payments import register_partner_part
    from collective.pool.time import register_partner_work

    register_adopter(partners.FEDERATION, partners.adopt_federation,
                     partners.decline_federation)
    register_proposal_details(partners.FEDERATION, views.federation_details)
    register_partner_part(money.partner_part)
    register_partner_work(sharing.check_partner_work)
    register_partner_link(sharing.partner_pitch_link)
    # After the pool's own follow-up (registered first by the app factory).
    register_reversal_follow_up(EntryKind.PAYMENT, money.reverse_partner_share)
    register_check("partner balances", money.mismatched_partner_balances)
