"""The page side of terms (share rules, benefit plans): what their pages do the same way."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import abort, flash, g
from flask_wtf import FlaskForm

from collective.members.terms import TermsKind
from collective.web.transaction import committed


def found_from_form(kind: TermsKind, form: FlaskForm, parse_terms: Callable[[], Any],
                    aliases: Mapping[str, str] | None = None) -> bool:
    """A POST of a terms page's founding form: 403 without the kind's role; else the form's
    terms become the founding version in one transaction. True once committed."""
    if not g.membership.has_role(kind.role):
        abort(403)
    if not form.validate_on_submit():
        return False
    terms = None
    with committed(form, aliases) as done:
        # Parsing may raise a DomainError naming a field; None means a field error is shown.
        terms = parse_terms()
        if terms is not None:
            kind.set_founding(g.membership, terms, form.effective_on.data, today=g.today)
    if done and terms is not None:
        flash(f"The founding {kind.noun} is set.", "info")
        return True
    return False
