"""What a receipt may be: a PDF, PNG or JPEG of at most 10 MB, its type read from its
content (never from its name or the browser's word), and an image that really parses.

A PNG named 'receipt.pdf' is accepted as the PNG it is: its stored name gets '.png' and it
is served as image/png. A text file named 'receipt.pdf' is refused.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from collective.errors import DomainError

#: The largest receipt, in bytes.
MAX_RECEIPT_BYTES = 10 * 1024 * 1024
#: The most receipts one expense carries (the request size limit follows from it).
MAX_RECEIPTS = 5
#: Content type -> the extension a stored receipt's name gets.
ALLOWED_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
#: Pillow's name of each image type.
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
FIELD = "receipts"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as it arrived: the name the uploader gave it and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CheckedReceipt:
    """A receipt that passed every check, with what its content says it is."""

    filename: str
    data: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def uploads_from(files: Sequence) -> list[Upload]:
    """The files a form's file field received (werkzeug FileStorage objects), each read up
    to one byte past the size limit, so the check can say which one is too large; a
    browser's empty file part is no file."""
    chosen = [f for f in (files or []) if f and getattr(f, "filename", "")]
    return [Upload(filename=f.filename, data=f.read(MAX_RECEIPT_BYTES + 1)) for f in chosen]


def clean_filename(name: str, extension: str) -> str:
    """The uploader's name made safe to show and to send in a header: its last path part,
    letters, digits, spaces, dots, dashes and underscores only, at most 100 characters, with
    the extension of the type found in the content."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9 ._-]+", "_", stem).strip(" ._")[:100] or "receipt"
    return stem + extension


def content_type_of(data: bytes) -> str | None:
    """The type the bytes' signature names, if it is one a receipt may be."""
    import puremagic

    if data.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        found = puremagic.from_string(data[:8192], mime=True)
    except (puremagic.PureError, ValueError):
        return None
    return found if found in ALLOWED_TYPES else None


def _image_parses(data: bytes, content_type: str) -> bool:
    """True when Pillow reads the image's structure as that type (a PNG's checksums, a
    JPEG's markers) without decoding every pixel."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != _PIL_FORMATS[content_type]:
                return False
            image.verify()
    except Exception:  # noqa: BLE001  (Pillow raises many kinds for a damaged file)
        return False
    return True


def check_receipt(upload: Upload) -> CheckedReceipt:
    """The upload as a receipt, or DomainError(field='receipts') saying why not."""
    shown = clean_filename(upload.filename, "") or "the file"
    if not upload.data:
        raise DomainError(f"{shown} is empty", field=FIELD)
    if len(upload.data) > MAX_RECEIPT_BYTES:
        raise DomainError(f"{shown} is larger than {MAX_RECEIPT_BYTES // (1024 * 1024)} MB; "
                          "send a smaller scan or photo", field=FIELD)
    content_type = content_type_of(upload.data)
    if content_type is None:
        raise DomainError(f"{shown} is not a PDF, PNG or JPEG file (whatever its name says)",
                          field=FIELD)
    if content_type in _PIL_FORMATS and not _image_parses(upload.data, content_type):
        raise DomainError(f"{shown} looks like a {ALLOWED_TYPES[content_type][1:].upper()} "
                          "image but is damaged", field=FIELD)
    return CheckedReceipt(filename=clean_filename(upload.filename, ALLOWED_TYPES[content_type]),
                          data=upload.data, content_type=content_type,
                          sha256=hashlib.sha256(upload.data).hexdigest())


def check_receipts(uploads: Sequence[Upload]) -> list[CheckedReceipt]:
    """Every upload checked, before anything is stored: one to MAX_RECEIPTS receipts."""
    if not uploads:
        raise DomainError("attach at least one receipt (PDF, PNG or JPEG)", field=FIELD)
    if len(uploads) > MAX_RECEIPTS:
        raise DomainError(f"attach at most {MAX_RECEIPTS} receipts", field=FIELD)
    return [check_receipt(upload) for upload in uploads]
