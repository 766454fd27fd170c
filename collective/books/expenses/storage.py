"""Where receipts' bytes live: a small storage interface, and its one implementation, a
folder under the instance folder (docs/expenses.md).

Settings
--------
RECEIPT_STORAGE      'local' (the default). Another backend, such as an S3-compatible
                     bucket, implements ReceiptStorage and is named here.
RECEIPT_STORAGE_DIR  the local folder (default: <instance>/receipts).

Files get random names (never the uploader's) and are only ever read back through the
access-checked receipt view. A file written in a transaction that then rolls back is
deleted again (see `track_new_file`), so a refused or failed expense leaves no file.
"""
from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from flask import Flask, abort, current_app, send_file
from sqlalchemy import orm as so

_EXTENSION_KEY = "collective.receipt_storage"
#: A storage key: 'c<collective id>/<two characters>/<43 random characters>'.
_KEY = re.compile(r"^c[0-9]{1,10}/[A-Za-z0-9_-]{2}/[A-Za-z0-9_-]{43}$")
#: session.info key of the files written in the session's current transaction.
_NEW_FILES = "receipt_files_written"


class ReceiptStorage(Protocol):
    """Keeps receipts' bytes under keys it makes up itself."""

    def save(self, collective_id: int, data: bytes) -> str:
        """Store the bytes under a new random key, and return the key."""

    def read(self, key: str) -> bytes:
        """The bytes stored under `key` (FileNotFoundError when there are none)."""

    def delete(self, key: str) -> None:
        """Remove what is stored under `key`, if anything."""


class LocalStorage:
    """Receipts as files in a folder: <root>/c<collective>/<xx>/<random>, readable by the
    app's user alone."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise ValueError("not a receipt storage key")
        return self.root / key

    def save(self, collective_id: int, data: bytes) -> str:
        token = secrets.token_urlsafe(32)
        key = f"c{int(collective_id)}/{token[:2]}/{token}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"<LocalStorage {self.root}>"


def storage_from_config(app: Flask) -> ReceiptStorage:
    """The storage the app's settings name."""
    kind = (app.config.get("RECEIPT_STORAGE") or "local").strip().lower()
    if kind != "local":
        raise RuntimeError(f"RECEIPT_STORAGE={kind!r} is not available; 'local' is the one "
                           "backend so far (docs/expenses.md)")
    folder = app.config.get("RECEIPT_STORAGE_DIR") or Path(app.instance_path) / "receipts"
    return LocalStorage(Path(folder))


def init_app(app: Flask) -> None:
    """Set up the app's receipt storage, and the clean-up of files whose transaction
    rolled back."""
    app.extensions[_EXTENSION_KEY] = storage_from_config(app)
    if not sa.event.contains(so.Session, "after_rollback", _delete_files_rolled_back):
        sa.event.listen(so.Session, "after_commit", _forget_files_committed)
        sa.event.listen(so.Session, "after_rollback", _delete_files_rolled_back)


def receipt_storage() -> ReceiptStorage:
    """The current app's receipt storage."""
    return current_app.extensions[_EXTENSION_KEY]


def stored_file_response(key: str, *, content_type: str, filename: str):
    """The file stored under `key` as a download (404 when it is gone): never cached by a
    shared cache, never sniffed into another type, never run as a page."""
    try:
        data = receipt_storage().read(key)
    except FileNotFoundError:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True,
                         download_name=filename, conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def track_new_file(session: so.Session, storage: ReceiptStorage, key: str) -> None:
    """Remember a file written in the session's transaction: if the transaction rolls back
    (a later refusal, a failed commit), the file is deleted, so it never outlives its row."""
    session.info.setdefault(_NEW_FILES, []).append((storage, key))


def _forget_files_committed(session: so.Session) -> None:
    # A savepoint's release is no commit yet: the outer transaction may still roll back.
    if not session.in_nested_transaction():
        session.info.pop(_NEW_FILES, None)


def _delete_files_rolled_back(session: so.Session) -> None:
    # A savepoint rolled back inside the transaction (a lost race on a unique key) leaves
    # the outer transaction, and its files, going on; no file is written inside one.
    if not session.in_nested_transaction():
        for storage, key in session.info.pop(_NEW_FILES, []):
            storage.delete(key)
