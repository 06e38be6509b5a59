"""`[crm] auth`: the legacy body generation (the default) and the Bearer-header one.

What each puts on the wire (a spy on the connector's HTTP client: requests are recorded, not
changed), that the emulation accepts each and refuses them mixed, and the settings. The
connector's token caching, single-flight refresh and retry on expiry run for both
generations in test_fxiaoke_connector_errors.py (the `options` fixture is parametrised).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from gateway.settings import SettingsError, parse_settings
from resolvers.errors import BackendAuthError
from resolvers.fxiaoke import FxiaokeCRM
from tests.support.fxiaoke_emulation import FXIAOKE_URL, ClockedSleep, FakeClock, fxiaoke_options
from tests.support.stack import JWT_SECRET

EMPLOYEE = FxiaokeSettings().employee_id


async def wire_of(emulator: FxiaokeEmulator, clock: FakeClock, **options: Any) -> list[Any]:
    """The requests of one connector read (the token call and a query), as sent."""
    sent: list[httpx.Request] = []

    async def spy(request: httpx.Request) -> None:
        sent.append(request)

    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(
        transport=transport, base_url=FXIAOKE_URL, event_hooks={"request": [spy]}
    ) as client:
        crm = FxiaokeCRM(
            client, fxiaoke_options(**options), sleep=ClockedSleep(clock), clock=clock, wall=clock
        )
        await crm.ping()
    return [(r.url.path, dict(r.headers), json.loads(r.content)) for r in sent]


async def test_the_legacy_generation_authenticates_in_the_body(
    emulator: FxiaokeEmulator, clock: FakeClock
) -> None:
    [(token_path, _, _), (path, headers, body)] = await wire_of(emulator, clock)
    assert token_path == "/cgi/corpAccessToken/get/V2"
    assert path == "/cgi/crm/v2/data/query"
    assert {"corpAccessToken", "corpId", "currentOpenUserId"} <= set(body)
    assert "authorization" not in headers


async def test_the_header_generation_sends_bearer_and_the_fs_headers_only(
    emulator: FxiaokeEmulator, clock: FakeClock
) -> None:
    sent = await wire_of(emulator, clock, auth="header", user_id=EMPLOYEE)
    [(token_path, _, token_body), (path, headers, body)] = sent
    assert token_path == "/oauth2.0/token"
    assert token_body["grantType"] == "app_secret"
    assert headers["authorization"].startswith("Bearer ")
    assert headers["x-fs-ea"] == FxiaokeSettings().ea  # from the token's reply
    assert headers["x-fs-userid"] == EMPLOYEE
    assert not {"corpAccessToken", "corpId", "currentOpenUserId"} & set(body)  # never mixed
    assert path == "/cgi/crm/v2/data/query"


async def test_a_wrong_employee_id_is_an_auth_error_naming_the_settings(
    emulator: FxiaokeEmulator, clock: FakeClock
) -> None:
    with pytest.raises(BackendAuthError, match=r"crm\.user_id"):
        await wire_of(emulator, clock, auth="header", user_id="9999")


CRM = {
    "kind": "fxiaoke",
    "base_url": FXIAOKE_URL,
    "app_id": "FSAID_x",
    "app_secret": "s",
    "permanent_code": "p",
}
DOCUMENT = {
    "scm": {"base_url": "http://erp.test", "api_key": "k", "api_secret": "s"},
    "auth": {"hs256_secret": JWT_SECRET},
}


def _crm(crm: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    return parse_settings({**DOCUMENT, "crm": crm}, env or {}).crm


def test_the_default_is_the_legacy_body_generation() -> None:
    options = _crm(CRM | {"open_user_id": "FSUID_x"})
    assert (options.auth, options.open_user_id) == ("legacy_body", "FSUID_x")


def test_the_header_generation_reads_the_employee_id() -> None:
    options = _crm(CRM | {"auth": "header"}, {"CROSSDOCK_CRM_USER_ID": "1000"})
    assert (options.auth, options.user_id) == ("header", "1000")


@pytest.mark.parametrize(
    ("crm", "words"),
    [
        (CRM | {"auth": "header"}, r"crm\.user_id is missing .*CROSSDOCK_CRM_USER_ID"),
        (CRM, r"crm\.open_user_id is missing"),
        (CRM | {"auth": "header", "user_id": "1", "open_user_id": "F"}, "is for crm.auth"),
        (CRM | {"open_user_id": "F", "user_id": "1"}, r"crm\.user_id is for crm\.auth = 'header'"),
        (CRM | {"auth": "oauth"}, r"crm\.auth must be one of \['legacy_body', 'header'\]"),
    ],
)
def test_a_wrong_auth_setting_is_named(crm: dict[str, Any], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        _crm(crm)
