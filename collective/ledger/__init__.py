"""Accounts, journal entries, postings and balances: the one source of money truth."""
