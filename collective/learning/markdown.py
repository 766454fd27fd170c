"""A module's Markdown as safe HTML: markdown-it-py renders it with raw HTML turned off
(typed tags come out as text), then nh3 keeps only the tags and attributes below, links only
to http(s) and mailto, each with rel="noopener noreferrer". Images are not kept: the pages'
content security policy would block other sites' pictures anyway, and attachments are the
way to add one."""
from __future__ import annotations

from functools import cache

from markupsafe import Markup

#: The most characters a module's Markdown may have.
MAX_CONTENT = 20_000

_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong",
         "em", "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
         "s", "del"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


def render_markdown(text: str) -> Markup:
    """The Markdown `text` as sanitised HTML, safe to put on a page as it is."""
    import nh3

    html = _parser().render(text or "")
    return Markup(nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                            link_rel="noopener noreferrer", strip_comments=True))
