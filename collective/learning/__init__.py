"""Learning modules (issue 15, "Grow together"): members write short modules for a skill,
in Markdown with optional attachments; others mark them done and rate them; each member
sees what to learn next.

Modules
-------
- models.py: modules, their attachments, completions with ratings.
- markdown.py: Markdown to sanitised HTML (markdown-it-py, then nh3).
- modules.py: writing, reading rights (`visible_collective_ids`: partners once federation
  lands), marking done, rating, the authors' credit.
- queries.py: the read side, "what to learn next".
- forms.py and views.py: the pages. Attachments live in the receipt storage and are served
  the way receipts are (books/expenses/storage.py).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The learning pages, and the authors' credit that profile pages show."""
    from collective.learning import views
    from collective.learning.modules import credits_of_person

    app.register_blueprint(views.bp)
    app.jinja_env.globals["learning_credits"] = credits_of_person
