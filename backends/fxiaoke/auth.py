"""Both generations of Fxiaoke authentication, with the documented token lifetimes.

Legacy: `POST /cgi/corpAccessToken/get/V2` {appId, appSecret, permanentCode} →
corpAccessToken + corpId; calls carry corpAccessToken, corpId and currentOpenUserId in the
JSON body. New: `POST /oauth2.0/token` {…, grantType: app_secret} → accessToken + ea; calls
carry `authorization: Bearer …`, `x-fs-ea` and `x-fs-userid` headers (integration-notes §1.1).

A token lives `ttl_s` (7,200 s). Asked again within `reuse_s` (6,600 s) the endpoint returns
the same token; later, a new one while the old stays valid until it expires. Time comes from
the emulator's clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.envelopes import FxError

Clock = Callable[[], float]


@dataclass(frozen=True)
class Credentials:
    app_id: str
    app_secret: str
    permanent_code: str
    corp_id: str
    ea: str
    open_user_id: str
    employee_id: str


@dataclass
class _Token:
    value: str
    issued: float


class TokenIssuer:
    """Issues and checks the tokens of one tenant; `expire_all` makes every token unknown."""

    def __init__(self, creds: Credentials, clock: Clock, ttl_s: float, reuse_s: float) -> None:
        self.creds, self.clock, self.ttl_s, self.reuse_s = creds, clock, ttl_s, reuse_s
        self._issued: dict[str, list[_Token]] = {"legacy": [], "oauth": []}
        self.issued_count = 0

    def legacy(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check_app(body)
        token = self._token("legacy")
        expires = int(self.ttl_s - (self.clock() - token.issued))
        return {"corpAccessToken": token.value, "corpId": self.creds.corp_id, "expiresIn": expires}

    def oauth(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check_app(body)
        if body.get("grantType") != "app_secret":
            raise fx.bad_param("grantType must be app_secret")
        token = self._token("oauth")
        return {
            "accessToken": token.value,
            "expiresIn": int(self.ttl_s - (self.clock() - token.issued)),
            "ea": self.creds.ea,
            "openUserId": self.creds.open_user_id,
            "appId": self.creds.app_id,
        }

    def check_body(self, body: Mapping[str, Any]) -> None:
        """Legacy auth: corpAccessToken, corpId, currentOpenUserId at the top of the body."""
        token = body.get("corpAccessToken")
        if not token:
            raise FxError(fx.MISSING_TOKEN, "corpAccessToken为必填项 corpAccessToken is required")
        if not self._valid("legacy", token):
            raise FxError(fx.TOKEN_EXPIRED, "corpAccessToken已过期或不存在 expired or unknown")
        if body.get("corpId") != self.creds.corp_id:
            raise FxError(fx.CORP_NOT_FOUND, "corpId不存在 corpId not found")
        if body.get("currentOpenUserId") != self.creds.open_user_id:
            raise FxError(fx.USER_NOT_FOUND, "openUserId不存在 openUserId not found")

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """New-style auth: `authorization: Bearer <accessToken>`, x-fs-ea, x-fs-userid."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not self._valid("oauth", token):
            raise FxError(fx.ACCESS_TOKEN_EXPIRED, "accessToken已过期或不存在 expired or unknown")
        if headers.get("x-fs-ea") != self.creds.ea:
            raise FxError(fx.CORP_NOT_FOUND, "x-fs-ea不存在 enterprise account not found")
        if headers.get("x-fs-userid") != self.creds.employee_id:
            raise FxError(fx.USER_NOT_FOUND, "x-fs-userid不存在 employee not found")

    def expire_all(self) -> None:
        for tokens in self._issued.values():
            tokens.clear()

    def _check_app(self, body: Mapping[str, Any]) -> None:
        c = self.creds
        given = (body.get("appId"), body.get("appSecret"), body.get("permanentCode"))
        if given != (c.app_id, c.app_secret, c.permanent_code):
            raise FxError(fx.UNKNOWN_PATH, "appId, appSecret or permanentCode is wrong")

    def _token(self, kind: str) -> _Token:
        now, tokens = self.clock(), self._issued[kind]
        tokens[:] = [t for t in tokens if now - t.issued < self.ttl_s]
        if tokens and now - tokens[-1].issued < self.reuse_s:
            return tokens[-1]
        token = _Token(secrets.token_hex(16), now)
        tokens.append(token)
        self.issued_count += 1
        return token

    def _valid(self, kind: str, value: str) -> bool:
        now = self.clock()
        return any(t.value == value and now - t.issued < self.ttl_s for t in self._issued[kind])
