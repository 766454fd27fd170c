"""The mutual benefits fund: plans, levels, contributions, claims, payouts, scheduled runs."""

#: Why a fund run's entry cannot be reversed alone: its run lines (owed months, reserves,
#: paid claim months) describe it too, and would fall out of step.
RUN_ENTRY_LOCKED = ("this entry belongs to a fund run and cannot be reversed on its own; "
                    "correct it with a deposit or a claim instead")


def register_kinds() -> None:
    """Tell the layers below what benefits owns (called once by the app factory)."""
    from collective.ledger.services import register_locked_kind

    for kind in ("contribution", "benefit", "contribution-return"):
        register_locked_kind(kind, RUN_ENTRY_LOCKED)
