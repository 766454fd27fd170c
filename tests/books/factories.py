"""Receipts of every kind, made here (no files shipped), and a collective where expenses
can be submitted and decided: two treasurers and a member."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image

from collective.books.expenses import categories
from collective.books.expenses.storage import LocalStorage
from collective.books.expenses.uploads import Upload
from collective.members.models import Membership, Role
from tests.factories import make_collective, make_member

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(out, "JPEG")
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
       b"trailer <</Root 1 0 R>>\n%%EOF\n")


def pdf_upload(name: str = "receipt.pdf") -> Upload:
    return Upload(filename=name, data=PDF)


def png_upload(name: str = "receipt.png") -> Upload:
    return Upload(filename=name, data=png_bytes())


@dataclass
class Books:
    """A collective (USD) with the founder (every role), a second treasurer and a member."""

    founder: Membership
    treasurer: Membership
    member: Membership
    storage: LocalStorage

    @property
    def slug(self) -> str:
        return self.founder.collective.slug

    def category(self, name: str = "Travel"):
        return next(c for c in categories.categories_of(self.founder.collective_id)
                    if c.name == name)


def make_books(root: Path, currency: str = "USD") -> Books:
    founder = make_collective(currency=currency)
    collective = founder.collective
    treasurer = make_member(collective, roles=(Role.MEMBER, Role.TREASURER))
    member = make_member(collective)
    return Books(founder=founder, treasurer=treasurer, member=member,
                 storage=LocalStorage(root))
