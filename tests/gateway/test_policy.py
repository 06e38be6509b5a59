"""Loading the policy file and checking it against the schema at startup."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import strawberry

from gateway.access.policy import AUTHENTICATED, NEVER, Policy, PolicyError, Requirement, mask_email
from gateway.access.policy_check import check_policy, problems_of
from schema.build import build_schema
from schema.order_mutations import OrderMutations
from tests.gateway.contract_schema import contract_schema


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return contract_schema()


@pytest.fixture
def default_data() -> dict[str, Any]:
    text = resources.files("gateway.access").joinpath("policy_default.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_shipped_default_validates_against_the_contract_schema(
    schema: strawberry.Schema,
) -> None:
    assert problems_of(Policy.load(None), schema._schema) == []


def test_the_shipped_default_validates_against_the_real_schema_with_and_without_orders() -> None:
    policy = Policy.load(None)
    assert problems_of(policy, build_schema()._schema) == []
    assert problems_of(policy, build_schema(mutation=OrderMutations)._schema) == []


def test_roles_map_to_the_scopes_the_issue_lists() -> None:
    policy = Policy.load(None)
    assert policy.roles["partner"] == {"shipments:read", "catalog:read", "address:read"}
    assert policy.roles["admin"] == policy.scopes
    assert policy.scopes_of_roles(["analyst", "nobody"]) == {
        "crm:read",
        "finance:read",
        "catalog:read",
        "stock:read",
        "shipments:read",
    }


def test_requirements_combine_as_alternatives_of_all_of_sets() -> None:
    either = Requirement((frozenset({"pii:read"}), frozenset({"address:read"})))
    crm = Requirement((frozenset({"crm:read"}),))
    both = crm.both(either)
    assert both.as_lists() == [["address:read", "crm:read"], ["crm:read", "pii:read"]]
    assert both.satisfied_by({"crm:read", "address:read"})
    assert not both.satisfied_by({"address:read"})
    assert AUTHENTICATED.satisfied_by(set())
    assert not NEVER.satisfied_by({"crm:read"})


def test_a_policy_file_path_overrides_the_default(
    tmp_path: Path, default_data: dict[str, Any]
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        resources.files("gateway.access").joinpath("policy_default.toml").read_text("utf-8")
    )
    assert Policy.load(path).roles == Policy.load(None).roles
    with pytest.raises(PolicyError, match="cannot be read"):
        Policy.load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[roles\n")
    with pytest.raises(PolicyError, match="not valid TOML"):
        Policy.load(tmp_path / "bad.toml")


def _break(data: dict[str, Any], how: str) -> None:
    if how == "missing type":
        data["types"]["Invoice"] = {"requires": [["crm:read"]]}
    elif how == "missing field":
        data["types"]["Customer"]["fields"]["fax"] = {"requires": [["pii:read"]]}
    elif how == "type without rule":
        del data["types"]["Warehouse"]
    elif how == "root field without rule":
        del data["types"]["Query"]["fields"]["warehouses"]
    elif how == "unknown scope in role":
        data["roles"]["partner"].append("shipments:write")
    elif how == "unknown scope in rule":
        data["types"]["Product"]["fields"]["unitCost"]["requires"] = [["finanse:read"]]
    elif how == "unknown mask":
        data["types"]["Customer"]["fields"]["email"]["mask"] = "scramble"
    elif how == "mask on a non-string":
        data["types"]["Customer"]["fields"]["creditLimit"]["mask"] = "redact"
    elif how == "row rule on a missing field":
        data["row_rules"][0]["field"] = "courier"
    elif how == "audit of a missing field":
        data["audit"]["fields"].append("Customer.iban")
    elif how == "exact inherit name missing":
        data["inherit"]["types"].append("Invoice")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing type", "types.Invoice names a type the schema does not have"),
        ("missing field", "types.Customer.fields.fax: Customer has no field 'fax'"),
        ("type without rule", "type Warehouse has no rule (default deny); add [types.Warehouse]"),
        ("root field without rule", "root field Query.warehouses has no rule"),
        ("unknown scope in role", "role 'partner' grants unknown scope 'shipments:write'"),
        (
            "unknown scope in rule",
            "types.Product.fields.unitCost requires unknown scope 'finanse:read'",
        ),
        ("unknown mask", "unknown mask 'scramble'; use email, redact"),
        ("mask on a non-string", "masks apply to String fields only"),
        ("row rule on a missing field", "row rule Shipment.courier: no such type or field"),
        ("audit of a missing field", "[audit] fields names 'Customer.iban'"),
        ("exact inherit name missing", "[inherit] types names 'Invoice'"),
    ],
)
def test_validation_names_the_offending_rule_and_the_fix(
    schema: strawberry.Schema, default_data: dict[str, Any], how: str, message: str
) -> None:
    data = copy.deepcopy(default_data)
    _break(data, how)
    policy = Policy.from_mapping(data, source="test.toml")
    with pytest.raises(PolicyError) as caught:
        check_policy(policy, schema._schema)
    assert caught.value.message.startswith("test.toml: ")
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"types": {"Customer": {"fields": {}}}}, "types.Customer needs requires"),
        ({"types": {"Customer": {"requires": "crm:read"}}}, 'must be "authenticated" or a list'),
        ({"surprise": {}}, "unknown top-level keys ['surprise']"),
        # lists where tables belong once escaped as a bare AttributeError
        ({"roles": ["sales"]}, "[roles] must be a table, not list"),
        ({"inherit": ["Money"]}, "[inherit] must be a table, not list"),
        ({"audit": ["Customer.email"]}, "[audit] must be a table, not list"),
        ({"row_rules": ["Shipment.carrier"]}, "each [[row_rules]] entry must be a table, not str"),
        # a KeyError once reached the message as a bare "'claim'"
        (
            {"row_rules": [{"type": "Shipment", "field": "carrier"}]},
            "a [[row_rules]] entry lacks claim; give type, field, claim",
        ),
        (
            {"types": {"Customer": {"requires": [["crm:read"]], "fields": ["email"]}}},
            "types.Customer.fields must be a table, not list",
        ),
        (
            {
                "types": {
                    "Customer": {"requires": [["crm:read"]], "fields": {"email": {"mask_as": "x"}}}
                }
            },
            "unknown keys ['mask_as']",
        ),
    ],
)
def test_malformed_policy_files_fail_at_load_with_a_precise_message(
    default_data: dict[str, Any], patch: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(default_data)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    with pytest.raises(PolicyError, match=None) as caught:
        Policy.from_mapping(data)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),  # the issue's example
        ("x@y.z", "x***@y.z"),  # one-letter local part
        ("not-an-email", "***"),  # no @: reveal nothing
        ("@example.com", "***"),  # empty local part
    ],
)
def test_the_email_mask_keeps_only_the_first_letter_and_the_domain(value: str, masked: str) -> None:
    assert mask_email(value) == masked
