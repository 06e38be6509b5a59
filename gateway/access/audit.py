"""The audit log of sensitive reads: one JSON line per response that returned PII or finance data.

A line names who (subject, roles), what operation (name and the SHA-256 of its document) and
which fields came back (`Customer.email`, …), never their values::

    {"time": "2026-03-01T10:00:00Z", "subject": "u1", "roles": ["sales"],
     "operation": "OrderPage", "documentSha256": "…", "fields": ["Customer.email"]}
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from schema.principal import Principal


def utc_now() -> datetime:
    return datetime.now(UTC)


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class AuditLog:
    """Appends JSON lines to `path` (created with mode 0600 if missing)."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()

    def record(
        self,
        *,
        principal: Principal,
        operation_name: str | None,
        document: str,
        fields: Iterable[str],
    ) -> None:
        entry = {
            "time": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject": principal.subject,
            "roles": sorted(principal.roles),
            "operation": operation_name,
            "documentSha256": document_hash(document),
            "fields": sorted(set(fields)),
        }
        self._append(json.dumps(entry, separators=(",", ":")) + "\n")

    def _append(self, line: str) -> None:
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
