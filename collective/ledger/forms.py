"""Forms for the ledger pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional


class AsOfForm(FlaskForm):
    """Pick the date balances are shown as of (a GET form, no CSRF needed)."""

    class Meta:
        csrf = False

    as_of = DateField("As of", validators=[Optional()])


class ReverseForm(FlaskForm):
    """Confirm a reversal, with an optional reason."""

    memo = StringField("Why is it reversed?", validators=[Optional(), Length(max=400)])
