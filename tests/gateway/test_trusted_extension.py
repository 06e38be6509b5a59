from __future__ import annotations

import hashlib

import pytest
import strawberry

from gateway.protection.trusted import (
    Manifest,
    PersistedOperation,
    TrustedDocuments,
    TrustedDocumentsExtension,
)
from schema.context import GatewayContext
from schema.principal import ANONYMOUS, Principal

HELLO = "query Hello { hello }"
HELLO_HASH = hashlib.sha256(HELLO.encode()).hexdigest()
PARTNER = Principal(subject="carrier-1", roles=frozenset({"partner"}), partner_id="DHL")


def context_for(principal: Principal = ANONYMOUS) -> GatewayContext:
    """The gateway's context for `principal` (no connector: nothing here loads)."""
    return GatewayContext(crm=None, scm=None, principal=principal)  # type: ignore[arg-type]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hello"

    @strawberry.field
    def secret(self) -> str:
        return "secret"


@pytest.fixture
def schema() -> strawberry.Schema:
    manifest = Manifest([PersistedOperation(HELLO_HASH, HELLO, "Hello", "query")])
    trusted = TrustedDocuments(manifest, persisted_only_roles={"partner"})
    return strawberry.Schema(Query, extensions=[TrustedDocumentsExtension.factory(trusted)])


async def test_an_apollo_hash_runs_the_manifest_document(schema: strawberry.Schema) -> None:
    result = await schema.execute(
        None,
        context_value=context_for(PARTNER),
        operation_extensions={"persistedQuery": {"version": 1, "sha256Hash": HELLO_HASH}},
    )
    assert result.errors is None
    assert result.data == {"hello": "hello"}


async def test_a_document_id_in_extensions_runs_the_manifest_document(
    schema: strawberry.Schema,
) -> None:
    result = await schema.execute(
        None, context_value=context_for(PARTNER), operation_extensions={"documentId": HELLO_HASH}
    )
    assert result.data == {"hello": "hello"}


async def test_an_unknown_id_gets_persisted_query_not_found(schema: strawberry.Schema) -> None:
    result = await schema.execute(
        None, context_value=context_for(PARTNER), operation_extensions={"documentId": "nope"}
    )
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": "PERSISTED_QUERY_NOT_FOUND",
        "documentId": "nope",
    }


async def test_a_partner_cannot_run_an_ad_hoc_document(schema: strawberry.Schema) -> None:
    result = await schema.execute("{ secret }", context_value=context_for(PARTNER))
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "PERSISTED_QUERY_REQUIRED"}


async def test_other_roles_run_ad_hoc_documents(schema: strawberry.Schema) -> None:
    sales = Principal(subject="s", roles=frozenset({"sales"}))
    result = await schema.execute("{ secret }", context_value=context_for(sales))
    assert result.data == {"secret": "secret"}


@pytest.mark.parametrize("extensions", [["documentId"], "documentId", 7])  # not an object
async def test_extensions_that_are_not_an_object_are_ignored_not_a_crash(
    schema: strawberry.Schema, extensions: object
) -> None:
    result = await schema.execute(
        "{ hello }",
        context_value=context_for(ANONYMOUS),
        operation_extensions=extensions,  # type: ignore[arg-type]
    )
    assert result.errors is None
    assert result.data == {"hello": "hello"}
