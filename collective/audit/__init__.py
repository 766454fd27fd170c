"""The audit log (docs/audit.md): who did what, when and from where, for the treasurers.

A service calls `record(action, collective=..., subject=..., **details)` next to the change
it records; the row is added to the same session, so it is committed with the change or
rolled back with it. Failed sign-ins and downloads (GET requests, which otherwise never
write) are recorded by `record_apart`, in a transaction of their own.

The table is append-only in the database itself: the ledger's triggers
(collective/ledger/guards.py) refuse UPDATE and DELETE on it, and the runtime role may only
read and insert (collective/ledger/grants.py).

Modules
-------
- actions.py: every action code, with the words the page shows for it.
- models.py: the audit_events table.
- log.py: `record`, `record_apart`, and who is acting (the request's signed-in account, or
  the user of an API token, named by `act_as`).
- queries.py: a collective's events, filtered and paged, and their CSV.

The package sits below the ledger in the layers, so every domain may record into it; it
knows users and collectives only by id. The treasurers' page is members/audit_views.py.
"""
from __future__ import annotations

from collective.audit.log import act_as, record, record_apart

__all__ = ["act_as", "record", "record_apart"]
