"""`crossdock sdl`: the standalone graph's SDL and the federation subgraph's, from the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema as parse_sdl

from gateway.cli import main
from schema.federation import FEDERATION_VERSION


def sdl(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["sdl", *args]) == 0
    return capsys.readouterr().out


def test_the_plain_sdl_is_the_standalone_graph(capsys: pytest.CaptureFixture[str]) -> None:
    printed = sdl(capsys)
    graph = parse_sdl(printed)  # valid SDL on its own: no federation vocabulary left in it
    assert {"placeOrder", "approveOrder"} <= set(graph.mutation_type.fields)  # type: ignore[union-attr]
    assert "shipmentChanged" in graph.subscription_type.fields  # type: ignore[union-attr]
    assert "_entities" not in printed
    assert "@key" not in printed


def test_the_federation_sdl_is_the_subgraph(capsys: pytest.CaptureFixture[str]) -> None:
    printed = sdl(capsys, "--federation")
    assert f"specs.apollo.dev/federation/v{FEDERATION_VERSION}" in printed
    assert "_entities(representations: [_Any!]!): [_Entity]!" in printed
    assert 'type Order @key(fields: "id", resolvable: true) @key(fields: "number"' in printed


def test_a_config_without_the_order_process_prints_no_mutations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "crossdock.toml"
    config.write_text(
        '[crm]\naccounts_url = "http://zoho.test"\nclient_id = "x"\nclient_secret = "x"\n'
        'refresh_token = "x"\n[scm]\nbase_url = "http://erp.test"\napi_key = "x"\n'
        'api_secret = "x"\n[saga]\nenabled = false\n[graphql]\nfederation = true\n'
        '[auth]\nhs256_secret = "a-test-secret-that-is-long-enough-000000"\n'
    )
    printed = sdl(capsys, "--config", str(config))
    assert "type Mutation" not in printed
    assert "_entities" in printed  # the file's [graphql] federation = true
