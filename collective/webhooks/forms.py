"""The form that subscribes a URL to events."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from collective.web.forms import MultiCheckboxField
from collective.webhooks.addresses import MAX_URL_LENGTH
from collective.webhooks.events import EVENT_LABELS


class EndpointForm(FlaskForm):
    url = StringField("URL", description="Where the events are POSTed: https://, on a public "
                      "address", validators=[Length(max=MAX_URL_LENGTH)],
                      render_kw={"inputmode": "url", "autocomplete": "off",
                                 "spellcheck": "false", "placeholder": "https://"})
    description = StringField("Note", description="What it is for, e.g. accounting sync",
                              validators=[Optional(), Length(max=200)])
    event_types = MultiCheckboxField(
        "Events", choices=[(kind.value, label) for kind, label in EVENT_LABELS.items()])
