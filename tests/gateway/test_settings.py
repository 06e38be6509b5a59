"""Settings: TOML plus CROSSDOCK_* overrides, validated with errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.settings import SettingsError, load_settings, parse_settings
from resolvers.records import OrderStatus, ShipmentStatus

EXAMPLE = Path(__file__).resolve().parents[2] / "crossdock.example.toml"


def minimal(**sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "crm": {
            "accounts_url": "https://accounts.zoho.eu",
            "client_id": "id",
            "client_secret": "secret",
            "refresh_token": "refresh",
        },
        "scm": {"base_url": "https://erp.example", "api_key": "key", "api_secret": "secret"},
    }
    for name, table in sections.items():
        document[name] = {**document.get(name, {}), **table}
    return document


def test_the_example_file_loads_with_the_documented_defaults() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.server.port == 8000
    assert settings.graphql.max_first == 200
    assert settings.graphql.default_first == 20
    assert settings.crm.order_statuses["Pending Approval"] is OrderStatus.PENDING_APPROVAL
    assert settings.scm.tracking_statuses["Lost"] is ShipmentStatus.EXCEPTION
    assert settings.crm.retry.attempts == 3


def test_environment_overrides_the_file() -> None:
    env = {
        "CROSSDOCK_CRM_URL": "https://www.zohoapis.eu",
        "CROSSDOCK_SCM_URL": "https://erp.internal",
        "CROSSDOCK_CRM_CLIENT_SECRET": "from-env",
        "CROSSDOCK_SCM_API_SECRET": "also-from-env",
        "CROSSDOCK_PORT": "9000",
    }
    settings = load_settings(EXAMPLE, env)
    assert settings.crm.base_url == "https://www.zohoapis.eu"
    assert settings.scm.base_url == "https://erp.internal"
    assert settings.crm.client_secret == "from-env"
    assert settings.scm.api_secret == "also-from-env"
    assert settings.server.port == 9000


def test_secrets_do_not_appear_in_the_settings_repr() -> None:
    settings = parse_settings(minimal(crm={"client_secret": "hush-crm"}))
    assert "hush-crm" not in repr(settings)
    assert "refresh" not in repr(settings.crm).replace("refresh_token", "")


@pytest.mark.parametrize(
    ("document", "env", "message"),
    [
        # the example from the style guide: a missing URL names the env var and the key
        (
            minimal(scm={"base_url": ""}),
            {},
            "scm.base_url is missing (set CROSSDOCK_SCM_URL or [scm] base_url)",
        ),
        # a typo must not pass silently
        (minimal(server={"prot": 80}), {}, "unknown key(s) in [server]: prot"),
        # a whole misspelt section too
        (minimal(grapql={"max_first": 5}), {}, "unknown section(s) [grapql]"),
        # numbers from the environment are checked like numbers from the file
        (minimal(), {"CROSSDOCK_PORT": "eighty"}, "server.port must be an integer"),
        # a picklist mapped to a value the enum lacks
        (
            minimal(crm={"order_statuses": {"Open": "OPEN"}}),
            {},
            "crm.order_statuses.'Open' must be one of",
        ),
        # closed choices are closed
        (minimal(server={"graphiql": "playground"}), {}, "server.graphiql must be one of"),
        # a default page bigger than the cap cannot be served
        (
            minimal(graphql={"max_first": 10, "default_first": 20}),
            {},
            "graphql.default_first (20) exceeds",
        ),
        # Frappe's naive datetimes need a real zone
        (
            minimal(scm={"site_tz": "Mars/Olympus"}),
            {},
            "scm.site_tz 'Mars/Olympus' is not an IANA time zone",
        ),
        # negative timeouts make no sense
        (minimal(crm={"read_timeout_s": -1}), {}, "crm.read_timeout_s must be a number >= 0"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(
    document: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(document, env)
    assert message in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_invalid_toml_is_reported_as_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[crm\naccounts_url=", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path)


def test_settings_are_frozen() -> None:
    settings = parse_settings(minimal())
    with pytest.raises(AttributeError):
        settings.server.port = 1  # type: ignore[misc]


def test_serve_with_a_broken_config_exits_2_and_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crossdock.toml"
    path.write_text('[scm]\nbase_url = "http://erp"\n', encoding="utf-8")
    assert main(["serve", "--config", str(path)]) == 2
    assert "crm.accounts_url is missing" in capsys.readouterr().err
