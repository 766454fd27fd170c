"""What a browser would send for a page's forms, unchanged: for tests that post a form as
it is shown, to prove its defaults pass the service's own rules."""
from __future__ import annotations

import re
from html.parser import HTMLParser

_ONCE_ONLY_VALUE = re.compile(r'(name="[^"]*(?:csrf_token|request_key)"[^>]* value=)"[^"]*"')


class _Form(HTMLParser):
    """Each input's value (a checkbox or radio only when checked, no submit buttons), each
    textarea's text, and each select's chosen option (the first when none is marked)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value") or "on"
            elif kind != "submit":
                self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.pop(name, None)
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self.values:
                self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag in ("textarea", "select"):
            self._textarea = self._select = None

    def handle_data(self, data):
        if self._textarea:
            # A browser drops the line break that starts a textarea's text.
            first = not self.values[self._textarea]
            self.values[self._textarea] += data.lstrip("\r\n") if first else data


def form_values(html: str) -> dict[str, str]:
    """name -> value of everything the page's forms would send as shown."""
    parser = _Form()
    parser.feed(html)
    return parser.values


def without_csrf_tokens(html: str) -> str:
    """The page with each CSRF token and form request key blanked: a token is signed with
    the second it was made in and a key is new each time, so two renderings of the same page
    differ only there."""
    assert "csrf_token" in html, "the page carries no CSRF token"
    return _ONCE_ONLY_VALUE.sub(r'\1""', html)
