"""Settings: TOML plus CROSSDOCK_* overrides, validated with errors that name the key."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.tokens import DEMO_SECRET
from gateway.cli import main
from gateway.settings import SettingsError, load_settings, parse_settings
from gateway.settings.access import PolicySettings
from resolvers.erpnext import ERPNextOptions
from resolvers.records import OrderStatus, ShipmentStatus
from resolvers.zoho import ZohoOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "crossdock.example.toml"
GOOD_SECRET = "a-production-secret-of-at-least-32-bytes-0123456789"
# the example file keeps secrets out: they come from the environment, as in production
SECRET_ENV = {"CROSSDOCK_JWT_SECRET": GOOD_SECRET}


def minimal(**sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "crm": {
            "accounts_url": "https://accounts.zoho.eu",
            "client_id": "id",
            "client_secret": "secret",
            "refresh_token": "refresh",
        },
        "scm": {"base_url": "https://erp.example", "api_key": "key", "api_secret": "secret"},
        "auth": {"hs256_secret": GOOD_SECRET},
    }
    for name, table in sections.items():
        document[name] = {**document.get(name, {}), **table}
    return document


def test_the_example_file_loads_with_the_documented_defaults() -> None:
    settings = load_settings(EXAMPLE, SECRET_ENV)
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
        **SECRET_ENV,
    }
    settings = load_settings(EXAMPLE, env)
    assert settings.crm.api_domain == "https://www.zohoapis.eu"
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
        # TOML and float() both read nan and inf: a timeout that never fires or never compares
        (minimal(crm={"read_timeout_s": math.nan}), {}, "crm.read_timeout_s must be a number"),
        (minimal(crm={"read_timeout_s": "inf"}), {}, "crm.read_timeout_s must be a number >= 0"),
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


JOURNAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
PRODUCTION = {"environment": "production"}
# production also names the issuer and the audience its tokens must carry
PRODUCTION_AUTH = {"issuer": "https://idp.example", "audience": "crossdock"}
NO_SECRET = {"auth": {}}


def test_the_example_file_configures_access_and_the_order_process() -> None:
    settings = load_settings(EXAMPLE, {"CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY, **SECRET_ENV})
    assert settings.server.environment == "development"
    assert settings.auth.algorithms == ("HS256",)
    assert settings.auth.hs256_secret == GOOD_SECRET
    assert settings.auth.max_token_lifetime_s == 86400
    assert settings.policy == PolicySettings(path=None, mode="hide", audit_log="var/audit.log")
    assert settings.saga.enabled
    assert settings.saga.journal_key == JOURNAL_KEY
    assert settings.saga.rules.max_auto_approve_total == Decimal("10000")
    assert (settings.saga.patience.settle_s, settings.saga.patience.watch_s) == (2, 900)
    assert settings.saga.resolve_interval_s == settings.saga.recovery_wait_s == 5


def test_access_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n")
    document = minimal(
        auth={
            "algorithms": ["HS256", "RS256"],
            "public_key_pem_file": str(pem),
            "issuer": "https://idp.example",
            "audience": "crossdock",
            "scope_claims": ["scp"],
            "roles_claim": "groups",
            "partner_claim": "carrier",
            "leeway_s": 5,
        },
        policy={"mode": "reject", "audit_log": ""},
    )
    settings = parse_settings(document, {"CROSSDOCK_JWT_SECRET": GOOD_SECRET})
    auth = settings.auth
    assert auth.hs256_secret == GOOD_SECRET
    assert "BEGIN PUBLIC KEY" in (auth.public_key_pem or "")
    assert (auth.issuer, auth.audience, auth.leeway_s) == ("https://idp.example", "crossdock", 5)
    assert (auth.scope_claims, auth.roles_claim, auth.partner_claim) == (
        ("scp",),
        "groups",
        "carrier",
    )
    assert settings.policy == PolicySettings(mode="reject", audit_log=None)
    assert GOOD_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("document", "env", "message"),
    [
        (minimal(auth={"secret": "x"}), {}, "unknown key(s) in [auth]: secret"),
        (minimal(auth={"hs256_secret": "short"}), {}, "auth.hs256_secret is too short"),
        (minimal(auth={"algorithms": ["none"]}), {}, "auth.algorithms ['none'] not supported"),
        (minimal(auth={"algorithms": "HS256"}), {}, "auth.algorithms must be a non-empty list"),
        (
            minimal(auth={"algorithms": ["RS256"]}),
            {},
            "auth.public_key_pem or auth.jwks_url is required",
        ),
        (
            minimal(auth={"public_key_pem_file": "/nonexistent/key.pem"}),
            {},
            "auth.public_key_pem_file /nonexistent/key.pem cannot be read",
        ),
        (
            minimal(policy={"mode": "deny"}),
            {},
            "policy.mode must be one of ['hide', 'null', 'reject']",
        ),
        (minimal(policy={"audit": "x"}), {}, "unknown key(s) in [policy]: audit"),
        (minimal(saga={"journal": "x"}), {}, "unknown key(s) in [saga]: journal"),
        (minimal(saga={"enabled": "yes"}), {}, "saga.enabled must be true or false"),
        (
            minimal(saga={"settle_s": -1}),
            {},
            "saga.settle_s must be a number of seconds in [0, 86400], got -1",
        ),
        (minimal(saga={"watch_s": "15m"}), {}, "saga.watch_s must be a number of seconds"),
        (
            minimal(saga={"approval": {"max_total": 1}}),
            {},
            "saga.approval: unknown approval rule(s) ['max_total']",
        ),
        (minimal(server={"environment": "staging"}), {}, "server.environment must be one of"),
        # no silent fallback to the demo secret, in development (the default) as in production
        (
            {**minimal(), **NO_SECRET},
            {},
            "auth.hs256_secret is missing (required when HS256 is allowed) "
            "(set CROSSDOCK_JWT_SECRET or [auth] hs256_secret to at least 32 random bytes",
        ),
        (
            {**minimal(server=PRODUCTION, auth=PRODUCTION_AUTH), **NO_SECRET},
            {"CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY},
            "auth.hs256_secret is missing (required when HS256 is allowed)",
        ),
        # the published demo secret is refused whatever the environment, from env or file
        (
            minimal(),
            {"CROSSDOCK_JWT_SECRET": DEMO_SECRET},
            "auth.hs256_secret is the published demo secret, which only `crossdock demo` may use "
            "(set CROSSDOCK_JWT_SECRET or [auth] hs256_secret",
        ),
        (
            minimal(server=PRODUCTION, auth={"hs256_secret": DEMO_SECRET, **PRODUCTION_AUTH}),
            {"CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY},
            "auth.hs256_secret is the published demo secret",
        ),
        # production: tokens must be bound to an issuer and an audience
        (
            minimal(server=PRODUCTION),
            {"CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY},
            "auth.issuer and auth.audience must be set in production",
        ),
        (
            minimal(server=PRODUCTION, auth={"issuer": "https://idp.example"}),
            {"CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY},
            "auth.audience must be set in production, so that a token from another issuer or "
            "for another service is refused (set CROSSDOCK_JWT_AUDIENCE or [auth] audience)",
        ),
        # a lifetime bound of zero would refuse every token
        (minimal(auth={"max_token_lifetime_s": 0}), {}, "auth.max_token_lifetime_s must be an"),
        # production: the order journal needs its key up front
        (
            minimal(server=PRODUCTION, auth=PRODUCTION_AUTH),
            {},
            "saga.journal_key is missing (set CROSSDOCK_JOURNAL_KEY or [saga] journal_key",
        ),
    ],
)
def test_bad_access_and_order_settings_are_refused_with_the_key_named(
    document: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(document, env)
    assert message in str(caught.value)


def test_production_starts_with_its_own_secret_and_a_journal_key() -> None:
    env = {"CROSSDOCK_JWT_SECRET": GOOD_SECRET, "CROSSDOCK_JOURNAL_KEY": JOURNAL_KEY}
    settings = parse_settings(minimal(server=PRODUCTION, auth=PRODUCTION_AUTH), env)
    assert settings.server.environment == "production"
    assert settings.auth.hs256_secret == GOOD_SECRET


def test_production_may_run_without_the_order_process_and_its_key() -> None:
    document = minimal(server=PRODUCTION, saga={"enabled": False}, auth=PRODUCTION_AUTH)
    settings = parse_settings(document, {})
    assert not settings.saga.enabled


def test_the_backend_sections_parse_straight_into_the_connectors_options() -> None:
    crm = {"base_url": "https://www.zohoapis.eu", "max_connections": 5, "ca_bundle": "/ca.pem"}
    scm = {"currency": "EUR", "company": "Acme", "ca_bundle": "/erp-ca.pem"}
    settings = parse_settings(minimal(crm=crm, scm=scm))
    assert settings.crm == ZohoOptions(
        accounts_url="https://accounts.zoho.eu",
        client_id="id",
        client_secret="secret",
        refresh_token="refresh",
        api_domain="https://www.zohoapis.eu",
        max_connections=5,
        ca_bundle="/ca.pem",
    )
    assert settings.scm == ERPNextOptions(
        base_url="https://erp.example",
        api_key="key",
        api_secret="secret",
        company_currency="EUR",
        company="Acme",
        ca_bundle="/erp-ca.pem",
    )
    assert "secret" not in repr(settings.scm).replace("api_secret", "")
