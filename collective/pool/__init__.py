"""Clients, pitches, allocation, time entries, client payments and agreed share rules."""
