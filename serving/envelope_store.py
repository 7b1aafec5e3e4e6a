"""A content-addressed directory of encrypted envelopes: ``MsgUploadScope.envelope_ref`` is ``sha256:<hex>`` of the bytes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from veid.errors import InputError

REF_PREFIX = "sha256:"
_REF = re.compile(r"^sha256:[0-9a-f]{64}$")


def envelope_ref(data: bytes) -> str:
    """The content address of ``data``: ``sha256:`` and 64 lowercase hex characters."""
    return REF_PREFIX + hashlib.sha256(data).hexdigest()


class EnvelopeStore:
    """Envelopes stored as ``DIR/<2 hex>/<62 hex>``; written atomically, verified on read.

    Only ciphertext is stored here (envelopes are encrypted to the validators), so the store
    can be shared or replicated without exposing personal data.

    Args:
        root: the directory (created on first write).
        max_bytes: largest envelope :meth:`get` will read.
    """

    def __init__(self, root: str | Path, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise InputError(f"envelope reference must be sha256:<64 hex>, got {ref[:80]!r}")
        digest = ref[len(REF_PREFIX):]
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its reference."""
        ref = envelope_ref(data)
        path = self._path(ref)
        if path.exists():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def exists(self, ref: str) -> bool:
        """Whether an envelope with this reference is stored."""
        return self._path(ref).is_file()

    def get(self, ref: str) -> bytes:
        """The envelope bytes for ``ref``.

        Raises:
            InputError: bad reference, not stored, too large, or the bytes do not hash to ``ref``.
        """
        path = self._path(ref)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise InputError(f"envelope {ref[:19]}... is {size} bytes, more than {self.max_bytes}")
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"envelope {ref[:19]}... is not in the store {self.root}") from None
        if envelope_ref(data) != ref:
            raise InputError(f"stored envelope {ref[:19]}... does not hash to its reference (corrupted)")
        return data

    def count(self) -> int:
        """Number of stored envelopes."""
        if not self.root.is_dir():
            return 0
        return sum(1 for p in self.root.glob("??/*") if p.is_file() and not p.name.startswith("."))
