"""`[crm] kind` chooses the CRM; Fxiaoke's own keys; wiring builds the chosen connector."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import SettingsError, parse_settings
from gateway.wiring import build_backends
from resolvers.fxiaoke import FxiaokeCRM, FxiaokeOptions
from resolvers.records import OrderStatus
from resolvers.zoho import ZohoCRM
from tests.support.stack import JWT_SECRET

FXIAOKE = {
    "kind": "fxiaoke",
    "base_url": "http://127.0.0.1:8103",
    "app_id": "FSAID_crossdock_demo",
    "app_secret": "crossdock-demo-secret",
    "permanent_code": "crossdock-demo-permanent",
    "open_user_id": "FSUID_CROSSDOCK_ADMIN",
}
SCM = {"base_url": "http://127.0.0.1:8102", "api_key": "k", "api_secret": "s"}
ZOHO = {"accounts_url": "http://z", "client_id": "c", "client_secret": "s", "refresh_token": "r"}


def _settings(crm: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    document = {"crm": crm, "scm": SCM, "auth": {"hs256_secret": JWT_SECRET}}
    return parse_settings(document, env or {})


def test_kind_fxiaoke_reads_fxiaokes_own_keys() -> None:
    crm = _settings(FXIAOKE | {"daily_quota": 5000, "fields": {"credit_limit": ""}}).crm
    assert isinstance(crm, FxiaokeOptions)
    assert crm.daily_quota == 5000
    assert crm.credit_limit_field is None
    assert crm.external_ref_field == "field_external_ref__c"
    assert "crossdock-demo-secret" not in repr(crm)


def test_the_default_kind_is_zoho() -> None:
    crm = _settings(ZOHO).crm
    assert not isinstance(crm, FxiaokeOptions)
    assert crm.client_id == "c"


def test_an_unknown_kind_names_the_key_and_the_choices() -> None:
    with pytest.raises(SettingsError, match=r"crm\.kind must be one of \['zoho', 'fxiaoke'\]"):
        _settings(FXIAOKE | {"kind": "salesforce"})


def test_a_missing_fxiaoke_key_names_the_key_and_its_variable() -> None:
    crm = {k: v for k, v in FXIAOKE.items() if k != "permanent_code"}
    with pytest.raises(SettingsError, match=r"permanent_code is missing.*CROSSDOCK_CRM_PERMANENT"):
        _settings(crm)
    assert _settings(crm, {"CROSSDOCK_CRM_PERMANENT_CODE": "x"}).crm.permanent_code == "x"


def test_a_zoho_key_under_kind_fxiaoke_is_unknown() -> None:
    with pytest.raises(SettingsError, match=r"unknown key.*refresh_token"):
        _settings(FXIAOKE | {"refresh_token": "r"})


def test_an_unknown_custom_field_key_is_named() -> None:
    with pytest.raises(SettingsError, match=r"\[crm.fields\]: status"):
        _settings(FXIAOKE | {"fields": {"status": "x"}})


def test_status_labels_map_onto_the_enum() -> None:
    crm = _settings(FXIAOKE | {"order_statuses": {"已确认": "APPROVED"}}).crm
    assert crm.order_statuses["已确认"] is OrderStatus.APPROVED


async def test_wiring_builds_the_connector_the_kind_names() -> None:
    fx = build_backends(_settings(FXIAOKE))
    zoho = build_backends(_settings(ZOHO))
    try:
        assert isinstance(fx.crm, FxiaokeCRM)
        assert isinstance(zoho.crm, ZohoCRM)
    finally:
        await fx.aclose()
        await zoho.aclose()


@pytest.mark.parametrize("crm", [ZOHO, FXIAOKE], ids=["zoho", "fxiaoke"])
async def test_http_client_picks_the_crms_client_and_defaults_to_aiohttp(
    crm: dict[str, Any],
) -> None:
    from resolvers.fast_transport import AiohttpTransport
    from resolvers.transport import HttpxTransport

    assert _settings(crm).crm.http_client == "aiohttp"
    chosen = build_backends(_settings(crm | {"http_client": "httpx"}))
    default = build_backends(_settings(crm))
    try:
        assert isinstance(chosen.clients[0], HttpxTransport)
        assert isinstance(chosen.clients[1], AiohttpTransport)  # [scm] keeps its own default
        assert isinstance(default.clients[0], AiohttpTransport)
    finally:
        await chosen.aclose()
        await default.aclose()
    with pytest.raises(SettingsError, match=r"crm\.http_client must be one of"):
        _settings(crm | {"http_client": "urllib"})
