"""Helpers for the tests under tests/views/ (fixtures: its conftest.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import httpx

from tests.support.stack import token_for


def token(
    role: str | None = None, *, scopes: Sequence[str] = (), partner: str | None = None
) -> str:
    return token_for(role, scopes=tuple(scopes), partner_id=partner)


class ViewsClient:
    """Calls the gateway with a bearer token; `graphql` posts the same documents to /graphql."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def get(self, url: str, *, bearer: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return await self.http.get(url, params=params, headers=headers)

    async def graphql(self, bearer: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    """The rows of an NDJSON export: every line is a row (no trailer, no error record)."""
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
