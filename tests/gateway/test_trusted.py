from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gateway.protection.trusted import (
    Manifest,
    ManifestError,
    PersistedQueryMismatch,
    PersistedQueryNotFound,
    PersistedQueryRequired,
    Resolved,
    TrustedDocuments,
)

SHIPMENTS = "query MyShipments { shipments(first: 10) { nodes { id status } } }"
VIEWER = "query Me { viewer { subject } }"
SHIPMENTS_HASH = hashlib.sha256(SHIPMENTS.encode()).hexdigest()


def apollo_manifest(*operations: dict[str, str]) -> str:
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": list(operations)}
    )


@pytest.fixture
def manifest() -> Manifest:
    return Manifest.from_json(
        apollo_manifest(
            {"id": SHIPMENTS_HASH, "body": SHIPMENTS, "name": "MyShipments", "type": "query"},
            {"id": "me-v1", "body": VIEWER, "name": "Me", "type": "query"},
        )
    )


@pytest.fixture
def trusted(manifest: Manifest) -> TrustedDocuments:
    return TrustedDocuments(manifest, persisted_only_roles={"partner"})


def test_apollo_manifest_loads_with_names_and_types(manifest: Manifest) -> None:
    op = manifest.get(SHIPMENTS_HASH)
    assert op is not None
    assert (op.name, op.type, op.document) == ("MyShipments", "query", SHIPMENTS)
    assert len(manifest) == 2


def test_plain_id_to_document_map_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "ops.json"
    path.write_text(json.dumps({"me-v1": VIEWER, f"sha256:{SHIPMENTS_HASH}": SHIPMENTS}))
    manifest = Manifest.load(path)
    assert manifest.get("me-v1") is not None
    assert manifest.get(SHIPMENTS_HASH.upper()) is not None
    assert manifest.get(f"sha256:{SHIPMENTS_HASH}") is not None


# Each row is a broken manifest and a phrase the startup error must contain.
BROKEN_MANIFESTS = [
    # a hash id whose body was edited afterwards: tampering or a stale manifest
    (json.dumps({SHIPMENTS_HASH: VIEWER}), f"{SHIPMENTS_HASH!r} is a sha256 hash"),
    # same, in the Apollo format
    (apollo_manifest({"id": SHIPMENTS_HASH, "body": VIEWER}), "regenerate the manifest"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected an object"),
    (json.dumps({"me": 42}), "'me' must map to a document string"),
    (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "version 2"),
    (apollo_manifest({"id": "x"}), "operations[0] needs a string 'id' and 'body'"),
    (apollo_manifest({"id": "x", "body": VIEWER}, {"id": "x", "body": VIEWER}), "appears twice"),
]


@pytest.mark.parametrize(("text", "phrase"), BROKEN_MANIFESTS)
def test_a_broken_manifest_is_a_startup_error_saying_what_is_wrong(text: str, phrase: str) -> None:
    with pytest.raises(ManifestError, match=r"ops\.json") as caught:
        Manifest.from_json(text, source="ops.json")
    assert phrase in str(caught.value)


def test_a_missing_manifest_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"nowhere\.json: cannot read"):
        Manifest.load(tmp_path / "nowhere.json")


def test_document_id_resolves_to_the_manifest_document(trusted: TrustedDocuments) -> None:
    assert trusted.resolve({"documentId": "me-v1"}, {"partner"}) == Resolved(VIEWER, "me-v1")


def test_apollo_sha256_hash_resolves_to_the_manifest_document(trusted: TrustedDocuments) -> None:
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": SHIPMENTS_HASH}}}
    assert trusted.resolve(body, {"partner"}) == Resolved(SHIPMENTS, SHIPMENTS_HASH)


def test_an_unknown_id_is_persisted_query_not_found(trusted: TrustedDocuments) -> None:
    with pytest.raises(PersistedQueryNotFound) as caught:
        trusted.resolve({"documentId": "nope"}, {"admin"})
    assert caught.value.to_extensions() == {
        "code": "PERSISTED_QUERY_NOT_FOUND",
        "documentId": "nope",
    }


def test_a_persisted_only_role_cannot_send_its_own_document(trusted: TrustedDocuments) -> None:
    with pytest.raises(PersistedQueryRequired) as caught:
        trusted.resolve({"query": "{ customers { nodes { email } } }"}, {"partner"})
    assert caught.value.code == "PERSISTED_QUERY_REQUIRED"
    assert "documentId" in caught.value.message


def test_a_persisted_only_role_may_send_the_text_of_an_approved_document(
    trusted: TrustedDocuments,
) -> None:
    assert trusted.resolve({"query": VIEWER}, {"partner"}) == Resolved(VIEWER, "me-v1")


def test_other_roles_may_send_any_document(trusted: TrustedDocuments) -> None:
    query = "{ customers { nodes { email } } }"
    assert trusted.resolve({"query": query}, {"sales"}) == Resolved(query)
    assert trusted.resolve({"query": query}, {"partner", "sales"}) == Resolved(query)


def test_a_star_holds_everyone_including_callers_without_roles(manifest: Manifest) -> None:
    strict = TrustedDocuments(manifest, persisted_only_roles={"*"})
    with pytest.raises(PersistedQueryRequired):
        strict.resolve({"query": "{ viewer { subject } }"}, set())


def test_an_id_with_different_query_text_is_refused(trusted: TrustedDocuments) -> None:
    with pytest.raises(PersistedQueryMismatch):
        trusted.resolve({"documentId": "me-v1", "query": "{ viewer { roles } }"}, {"admin"})


def test_a_body_without_query_or_id_resolves_to_nothing(trusted: TrustedDocuments) -> None:
    assert trusted.resolve({"extensions": {"persistedQuery": "junk"}}, {"partner"}) == Resolved(
        None
    )
