"""The [inbound] section: defaults off, secrets from the environment, mistakes named."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.settings import SettingsError
from gateway.settings.inbound import parse_inbound

GOOD = {"enabled": True, "public_url": "https://gw.example.com"}
ENV = {
    "CROSSDOCK_INBOUND_ZOHO_TOKEN": "t" * 24,
    "CROSSDOCK_INBOUND_ERPNEXT_SECRET": "s" * 32,
}


def test_off_by_default() -> None:
    assert parse_inbound({}, {}).enabled is False


def test_secrets_come_from_the_environment_and_stay_out_of_repr() -> None:
    settings = parse_inbound(GOOD, ENV)
    assert settings.zoho_token == "t" * 24
    assert "s" * 32 not in repr(settings)
    assert settings.erpnext_hook_url == "https://gw.example.com/hooks/erpnext"


# each row: a wrong setting and the words naming it
BAD = [
    ({"public_url": "gw.example.com"}, {}, "inbound.public_url"),  # no scheme
    ({}, {"CROSSDOCK_INBOUND_ZOHO_TOKEN": "short"}, "inbound.zoho_token must be 16 to 50"),
    ({}, {"CROSSDOCK_INBOUND_ZOHO_TOKEN": "t" * 51}, "inbound.zoho_token"),  # Zoho allows 50
    ({"channel_ttl_s": 8 * 86400}, {}, "exceeds a week"),  # Zoho would make it one hour
    ({"zoho_channel_id": "abc"}, {}, "zoho_channel_id must be digits"),
    ({"poll_from": "yesterday"}, {}, "inbound.poll_from must be one of"),
    ({"pol_interval_s": 5}, {}, "unknown key(s) in [inbound]: pol_interval_s"),  # a typo
]


@pytest.mark.parametrize(("table", "env", "words"), BAD)
def test_a_wrong_setting_is_named(table: dict[str, Any], env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(words)):
        parse_inbound({**GOOD, **table}, {**ENV, **env})


def test_polling_alone_needs_no_url_and_no_secrets() -> None:
    settings = parse_inbound({"enabled": True, "notifications": False}, {})
    assert settings.poll_interval_s == 60.0
