"""Trusted documents: a manifest of approved operations, and who may run only those.

The manifest is JSON in one of two shapes:

    {"<id>": "<document>", ...}
    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<id>", "body": "<document>", "name": "...", "type": "query"}]}

A request names an operation by `documentId` (GraphQL-over-HTTP persisted documents) or by
`extensions.persistedQuery.sha256Hash` (Apollo). Ids that look like sha256 hashes
(64 hex digits, optionally `sha256:`-prefixed) must be the hash of their document; the loader
checks this so a tampered manifest fails at startup, not at request time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.protection.limits import roles_from_context
from resolvers.errors import CrossdockError

_SHA256 = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")
APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The manifest file is unreadable or inconsistent (a startup error)."""


class PersistedQueryNotFound(CrossdockError):
    """The request named an operation id the manifest does not hold."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryRequired(CrossdockError):
    """The caller's roles may run only manifest operations, and this one is not one."""

    code = "PERSISTED_QUERY_REQUIRED"


class PersistedQueryMismatch(CrossdockError):
    """The request sent both an id and a document, and they disagree."""

    code = "PERSISTED_QUERY_MISMATCH"


@dataclass(frozen=True, slots=True)
class PersistedOperation:
    """One approved operation."""

    id: str
    document: str
    name: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to execute (None when the request carries none) and its manifest id."""

    query: str | None
    document_id: str | None = None


class Manifest:
    """Approved operations by id, and by exact document text.

    manifest = Manifest.load(Path("operations.json"))
    """

    def __init__(self, operations: Iterable[PersistedOperation], *, source: str = "manifest"):
        self._by_id: dict[str, PersistedOperation] = {}
        self._by_document: dict[str, PersistedOperation] = {}
        for original in operations:
            _verify_hash(original, source)
            op = replace(original, id=_canonical_id(original.id))
            if op.id in self._by_id:
                raise ManifestError(f"{source}: operation id {op.id!r} appears twice")
            self._by_id[op.id] = op
            self._by_document.setdefault(op.document, op)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest file; errors name the file and what to fix."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ManifestError(f"{path}: cannot read the manifest ({error.strerror})") from None
        return cls.from_json(text, source=str(path))

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "manifest") -> Manifest:
        """Parse either manifest shape."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ManifestError(f"{source}: not valid JSON ({error})") from None
        if isinstance(data, dict) and data.get("format") == APOLLO_FORMAT:
            return cls(_apollo_operations(data, source), source=source)
        if isinstance(data, dict) and "format" not in data:
            return cls(_map_operations(data, source), source=source)
        raise ManifestError(
            f"{source}: expected an object of id → document, or an {APOLLO_FORMAT!r} manifest"
        )

    def get(self, document_id: str) -> PersistedOperation | None:
        return self._by_id.get(_canonical_id(document_id))

    def find_document(self, document: str) -> PersistedOperation | None:
        return self._by_document.get(document)

    def __len__(self) -> int:
        return len(self._by_id)


class TrustedDocuments:
    """Resolves a request body to the document to run, enforcing the persisted-only roles.

    A caller is held to persisted operations when all of its roles are in
    `persisted_only_roles` ("*" there holds everyone, including callers without roles).

        trusted = TrustedDocuments(manifest, persisted_only_roles={"partner"})
        resolved = trusted.resolve(body, principal.roles)
    """

    def __init__(self, manifest: Manifest, *, persisted_only_roles: Iterable[str] = ()):
        self.manifest = manifest
        self.persisted_only_roles = frozenset(persisted_only_roles)

    def persisted_only(self, roles: Iterable[str]) -> bool:
        if "*" in self.persisted_only_roles:
            return True
        roles = frozenset(roles)
        return bool(roles) and roles <= self.persisted_only_roles

    def resolve(self, body: Mapping[str, Any], roles: Iterable[str]) -> Resolved:
        """The document for a request body (`query`, `documentId`, `extensions`)."""
        query = body.get("query")
        query = query if isinstance(query, str) else None
        document_id = _requested_id(body)
        if document_id is not None:
            op = self.manifest.get(document_id)
            if op is None:
                raise PersistedQueryNotFound(
                    f"No persisted operation has id {document_id!r}; "
                    "send an id from the published manifest.",
                    documentId=document_id,
                )
            if query is not None and query != op.document:
                raise PersistedQueryMismatch(
                    f"The query text differs from persisted operation {op.id!r}; "
                    "send the id alone.",
                    documentId=op.id,
                )
            return Resolved(op.document, op.id)
        if query is None or not self.persisted_only(roles):
            return Resolved(query)
        known = self.manifest.find_document(query)
        if known is None:
            raise PersistedQueryRequired(
                "Your role may run only persisted operations; "
                "send a documentId from the published manifest."
            )
        return Resolved(known.document, known.id)


class TrustedDocumentsExtension(SchemaExtension):
    """Strawberry extension: swaps a persisted-operation id for its manifest document.

    Reads `extensions.persistedQuery.sha256Hash` or `extensions.documentId` (strawberry's
    HTTP view drops a top-level `documentId`; move it into `extensions` when parsing).

        strawberry.Schema(Query, extensions=[TrustedDocumentsExtension.factory(trusted)])
    """

    def __init__(
        self, trusted: TrustedDocuments, *, roles_of: Callable[[Any], Iterable[str]]
    ) -> None:
        self.trusted, self.roles_of = trusted, roles_of

    @classmethod
    def factory(
        cls,
        trusted: TrustedDocuments,
        *,
        roles_of: Callable[[Any], Iterable[str]] = roles_from_context,
    ) -> Callable[[], TrustedDocumentsExtension]:
        return lambda: cls(trusted, roles_of=roles_of)

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        extensions = ctx.operation_extensions
        if not isinstance(extensions, Mapping):  # the client's JSON may hold anything there
            extensions = {}
        body = {
            "query": ctx.query,
            "extensions": extensions,
            "documentId": extensions.get("documentId"),
        }
        try:
            ctx.query = self.trusted.resolve(body, self.roles_of(ctx.context)).query
        except CrossdockError as error:
            raise GraphQLError(error.message, extensions=error.to_extensions()) from error
        yield


def _requested_id(body: Mapping[str, Any]) -> str | None:
    document_id = body.get("documentId")
    if isinstance(document_id, str) and document_id:
        return document_id
    extensions = body.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    digest = persisted.get("sha256Hash") if isinstance(persisted, Mapping) else None
    return digest if isinstance(digest, str) and digest else None


def _canonical_id(document_id: str) -> str:
    match = _SHA256.fullmatch(document_id)
    return match.group(1).lower() if match else document_id


def _verify_hash(op: PersistedOperation, source: str) -> None:
    match = _SHA256.fullmatch(op.id)
    if match is None:
        return
    actual = hashlib.sha256(op.document.encode("utf-8")).hexdigest()
    if actual != match.group(1).lower():
        raise ManifestError(
            f"{source}: operation id {op.id!r} is a sha256 hash but its document hashes to "
            f"{actual}; regenerate the manifest"
        )


def _map_operations(data: dict[str, Any], source: str) -> list[PersistedOperation]:
    operations = []
    for key, document in data.items():
        if not isinstance(document, str) or not document.strip():
            raise ManifestError(f"{source}: operation {key!r} must map to a document string")
        operations.append(PersistedOperation(key, document))
    return operations


def _apollo_operations(data: dict[str, Any], source: str) -> list[PersistedOperation]:
    if data.get("version") != 1:
        raise ManifestError(f"{source}: unsupported manifest version {data.get('version')!r}")
    entries = data.get("operations")
    if not isinstance(entries, list):
        raise ManifestError(f"{source}: 'operations' must be a list")
    return [_apollo_operation(entry, n, source) for n, entry in enumerate(entries)]


def _apollo_operation(entry: Any, n: int, source: str) -> PersistedOperation:
    if not isinstance(entry, dict):
        raise ManifestError(f"{source}: operations[{n}] must be an object")
    op_id, body = entry.get("id"), entry.get("body")
    if not isinstance(op_id, str) or not op_id or not isinstance(body, str) or not body.strip():
        raise ManifestError(f"{source}: operations[{n}] needs a string 'id' and 'body'")
    name, op_type = entry.get("name"), entry.get("type")
    return PersistedOperation(
        op_id,
        body,
        name if isinstance(name, str) else None,
        op_type if isinstance(op_type, str) else None,
    )
