"""Bank statements: the collective's bank accounts, statement imports (CSV, OFX, CAMT.053),
matching each line to the ledger, and the reconciliation of a month."""


def register_checks() -> None:
    """Tell the ledger's periods what a reconciled month is (from the app factory)."""
    from collective.books.bank.queries import month_problems, months_problems
    from collective.ledger.periods import register_reconciliation_check

    register_reconciliation_check(month_problems, months_problems)
