"""A form field that names one member of the collective without listing the whole directory:
a `<select>` of everyone while the collective is small, and above that a text box with
suggestions (a `<datalist>` the shipped member-search.js fills from the search endpoint as
one types; without JavaScript the form itself resolves the typed name and offers the
matches). The view sets the field up (`members.pickers.offer_members`): the database is
read there, never in the form's validation."""
from __future__ import annotations

import re

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError

#: "Maria Santos #12": the label a suggestion puts in the box, ending in the member's id.
_TRAILING_ID = re.compile(r"#([0-9]{1,40})\s*$")


def member_label(membership_id: int, name: str) -> str:
    """The text a suggestion puts in the search box for this member."""
    return f"{name} #{membership_id}"


class MemberWidget:
    """A `<select>` when the field has every member as choices, else a search box."""

    def __call__(self, field: MemberField, **kwargs) -> Markup:
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


class MemberField(Field):
    """One member, as a membership id in `data` (or `blank`'s id when left empty, if the
    field has a blank choice such as "Everyone"). `choices` are the members the view
    allows; anything else is refused with a form error."""

    widget = MemberWidget()

    def __init__(self, label=None, validators=None, *, blank: tuple[int, str] | None = None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.blank = blank
        self.choices: list[tuple[int, str]] = []
        #: Members whose names match the typed text, offered as suggestions.
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
        if self.is_search and self.text and len(self.matches) > 1 and self.data is None:
            raise ValidationError(f"Several members match “{self.text}”: pick one from "
                                  "the list.")
        if self.text or self.data is not None:
            raise ValidationError("Pick a member of this collective: no member here "
                                  f"matches “{self.text}”." if self.text else
                                  "Pick a member of this collective.")
        raise ValidationError("Pick a member.")
