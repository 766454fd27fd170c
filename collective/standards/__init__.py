"""Standards (issue 15, "Grow together"): delivery checklists per kind of work, ticked when
work is marked delivered, with items a second member confirms afterwards; and the share of
deliveries per kind that met their checklist, per quarter, on the coordinator's dashboard.

Modules
-------
- models.py: checklists and their items; deliveries with a snapshot of the items.
- checklists.py: defining checklists, delivering against one, a second member's
  confirmation.
- queries.py: the read side and the quarterly shares.
- forms.py and views.py: the pages.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The standards pages."""
    from collective.standards import views

    app.register_blueprint(views.bp)
