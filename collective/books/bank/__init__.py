"""Bank statements: the collective's bank accounts, statement imports (CSV, OFX, CAMT.053),
matching each line to the ledger, and the reconciliation of a month."""
