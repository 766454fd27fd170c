"""Form fields that name one row of a long list (a member, a client) without listing it all:
a `<select>` of everyone while the list is short, and above that a text box with
suggestions (a `<datalist>` the shipped member-search.js fills from a search endpoint as
one types; without JavaScript the form itself resolves the typed name and offers the
matches). The view sets the field up (`offer_choices`, through `members.pickers` or
`pool.pickers`): the database is read there, never in the form's validation."""
from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError

from collective.web.forms import valid_id

#: "Maria Santos #12": the label a suggestion puts in the box, ending in the member's id.
_TRAILING_ID = re.compile(r"#([0-9]{1,40})\s*$")


def member_label(membership_id: int, name: str) -> str:
    """The text a suggestion puts in the search box for this member."""
    return f"{name} #{membership_id}"


class MemberWidget:
    """A `<select>` when the field has every row as choices, else a search box."""

    def __call__(self, field: NamedRowField, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        attrs = {k.rstrip("_"): v for k, v in kwargs.items()}
        if not field.is_search:
            options = "".join(
                f'<option{" selected" if value == field.data else ""} value="{value}">'
                f"{escape(label)}</option>" for value, label in field.choices)
            return Markup(f'<select name="{escape(field.name)}"{_attrs(attrs)}>'
                          f"{options}</select>")
        listed = f"{field.id}-matches"
        attrs.update(type="search", list=listed, autocomplete="off", maxlength="200")
        attrs["data-member-search"] = field.search_url or ""
        attrs.setdefault("placeholder", "Type a name")
        options = "".join(f'<option value="{escape(member_label(i, name))}"></option>'
                          for i, name in field.matches)
        return Markup(f'<input name="{escape(field.name)}" value="{escape(field._value())}"'
                      f'{_attrs(attrs)}><datalist id="{listed}">{options}</datalist>'
                      f'<script src="{escape(field.script_url or "")}" defer></script>')


def _attrs(attrs: dict) -> str:
    return "".join(f' {escape(k.replace("_", "-"))}="{escape(v)}"'
                   for k, v in attrs.items() if v is not False and v is not None)


class NamedRowField(Field):
    """One row, as its id in `data` (or `blank`'s id when left empty, if the field has a
    blank choice such as "Everyone"). `choices` are the rows the view allows; anything else
    is refused with a form error naming the `noun`."""

    widget = MemberWidget()
    #: What one row is called in the form's errors.
    noun = "row"

    def __init__(self, label=None, validators=None, *, blank: tuple[int, str] | None = None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.blank = blank
        self.choices: list[tuple[int, str]] = []
        #: Rows whose names match the typed text, offered as suggestions.
        self.matches: list[tuple[int, str]] = []
        self.is_search = False
        self.search_url: str | None = None
        self.script_url: str | None = None
        #: What was typed in the search box, as typed.
        self.text = ""

    def process_data(self, value):
        self.data = int(value) if isinstance(value, int) else None

    def process_formdata(self, valuelist):
        self.text = (valuelist[0] if valuelist else "").strip()[:200]
        found = _TRAILING_ID.search(self.text)
        if found:
            self.data = int(found.group(1))
        elif self.text.isascii() and self.text.isdigit() and len(self.text) <= 40:
            self.data = int(self.text)
        elif not self.text and self.blank is not None:
            self.data = self.blank[0]
        else:
            self.data = None

    def _value(self) -> str:
        names = dict(self.choices)
        if self.data is not None and self.data in names and self.data != (self.blank or [None])[0]:
            return member_label(self.data, names[self.data])
        return self.text

    def pre_validate(self, form):
        if self.blank is not None and self.data == self.blank[0]:
            return
        if self.data is not None and self.data in dict(self.choices):
            return
        noun = self.noun
        if self.is_search and self.text and len(self.matches) > 1 and self.data is None:
            raise ValidationError(f"Several {noun}s match “{self.text}”: pick one from "
                                  "the list.")
        if self.text or self.data is not None:
            raise ValidationError(f"Pick a {noun} of this collective: no {noun} here "
                                  f"matches “{self.text}”." if self.text else
                                  f"Pick a {noun} of this collective.")
        raise ValidationError(f"Pick a {noun}.")


class MemberField(NamedRowField):
    """One member, as a membership id."""

    noun = "member"


class ClientField(NamedRowField):
    """One client, as a client id."""

    noun = "client"


#: (id, name) rows: all of them, or those a text names or matches (at most `limit`).
Rows = list[tuple[int, str]]


def suggestions(rows: Rows) -> list[dict]:
    """Rows as a search box's script reads them (static/member-search.js)."""
    return [{"id": i, "name": name, "label": member_label(i, name)} for i, name in rows]


def offer_choices(field: NamedRowField, *, small: bool, everything: Callable[[], Rows],
                  find: Callable[[str, int | None], Rows], search_url: str, script_url: str,
                  limit: int) -> None:
    """Set `field` up: when `small`, a `<select>` of `everything`; else a search box, whose
    choices are the row its text names (by id from a suggestion, or by a name only one row
    has) and whose suggestions are the rows the text matches (`find(text, limit)`; "#12"
    finds row 12). The statements do not grow with the list: the caller's count, then at
    most one bounded query."""
    blank = [field.blank] if field.blank is not None else []
    if small:
        field.is_search = False
        field.choices = [*blank, *everything()]
        return
    field.is_search = True
    field.search_url = search_url
    field.script_url = script_url
    field.choices = blank
    if field.data is not None and field.data != (field.blank or [None])[0]:
        if not valid_id(field.data):
            return  # past a database integer: nothing, and never a query
        field.choices = [*blank, *find(f"#{field.data}", None)]
        return
    if field.text:
        field.matches = find(field.text, limit)
        named = [m for m in field.matches if m[1].casefold() == field.text.casefold()]
        if len(named) == 1:
            field.data = named[0][0]
            field.choices = [*blank, *named]
