"""Pages of a long list: which page a request asks for. Every list a page shows is bounded;
the ones that grow with the collective go a page at a time (`?page=N`)."""
from __future__ import annotations

from flask import request

#: The highest page number taken at its word; past it (or not a number) is page 1.
MAX_PAGE = 100_000


def page_number() -> int:
    """The page the request asks for (`?page=N`, from 1); what is not a page number is 1."""
    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= MAX_PAGE else 1
