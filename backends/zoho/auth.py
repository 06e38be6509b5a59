"""Zoho OAuth: the refresh-token grant and the `Zoho-oauthtoken` header check (dialects.md §A.1)."""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backends.zoho.envelopes import ZohoError

HEADER_SCHEME = "Zoho-oauthtoken"


class TokenIssuer:
    """Issues access tokens for one client + refresh token; tokens expire after `ttl_s`."""

    def __init__(
        self, client_id: str, client_secret: str, refresh_token: str, ttl_s: float
    ) -> None:
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._ttl_s = ttl_s
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        now = time.monotonic()
        self._expiry = {t: end for t, end in self._expiry.items() if end >= now}  # stay bounded
        token = "1000." + secrets.token_hex(32)
        self._expiry[token] = now + self._ttl_s
        return token

    def expire_all(self) -> None:
        self._expiry.clear()

    def check(self, authorization: str | None) -> None:
        """Raises 401 INVALID_TOKEN unless the header carries a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        deadline = self._expiry.get(token.strip()) if scheme == HEADER_SCHEME else None
        if deadline is None or deadline < time.monotonic():
            raise ZohoError(401, "INVALID_TOKEN", "invalid oauth token")

    async def token_endpoint(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            # Parsed by hand: starlette's form parser needs python-multipart.
            params.update(parse_qsl((await request.body()).decode("latin-1")))
        # Real Zoho answers a bad grant with HTTP 200 and an "error" key.
        if params.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"})
        client = (params.get("client_id", ""), params.get("client_secret", ""))
        if not all(map(_same, client, self._client)):
            return JSONResponse({"error": "invalid_client"})
        if not _same(params.get("refresh_token", ""), self._refresh_token):
            return JSONResponse({"error": "invalid_code"})
        body = {
            "access_token": self.issue(),
            "api_domain": f"{request.url.scheme}://{request.url.netloc}",
            "token_type": "Bearer",
            "expires_in": int(self._ttl_s),
        }
        return JSONResponse(body)


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about the secret."""
    return hmac.compare_digest(given.encode(), expected.encode())
