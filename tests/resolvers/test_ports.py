"""Each connector implements its port: every method of the Protocol, with its parameters.

mypy proves the same statically (the typed `_PORT` assignment in each connector package);
this test says which method drifted, and runs where mypy does not. A new connector (another
CRM) adds a row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CrmPort, ErpPort
from resolvers.zoho import ZohoCRM

CONNECTORS = [
    (CrmPort, ZohoCRM),  # the Zoho CRM v8 connector
    (CrmPort, FxiaokeCRM),  # the Fxiaoke (纷享销客) OpenAPI connector
    (ErpPort, ERPNext),  # the ERPNext (Frappe REST) connector
]


def port_methods(port: type[Any]) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in vars(port).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def drift(port_method: Callable[..., Any], method: Callable[..., Any]) -> list[str]:
    """How `method` fails to accept every call the port's signature allows."""
    wanted = inspect.signature(port_method).parameters
    offered = inspect.signature(method).parameters
    problems = [f"lacks parameter {name!r}" for name in wanted if name not in offered]
    for name, parameter in wanted.items():
        found = offered.get(name)
        if found is not None and found.kind != parameter.kind:
            problems.append(
                f"{name!r} is {found.kind.description}, not {parameter.kind.description}"
            )
        elif found is not None and found.default != parameter.default:
            problems.append(f"{name!r} defaults to {found.default!r}, not {parameter.default!r}")
    if _positional(wanted) != _positional(offered)[: len(_positional(wanted))]:
        problems.append(f"takes {_positional(offered)} in order, not {_positional(wanted)}")
    for name, parameter in offered.items():
        if name not in wanted and parameter.default is inspect.Parameter.empty:
            problems.append(f"requires {name!r}, which the port does not pass")
    if not inspect.iscoroutinefunction(method) and inspect.iscoroutinefunction(port_method):
        problems.append("is not async")
    return problems


def _positional(parameters: Mapping[str, inspect.Parameter]) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [name for name, p in parameters.items() if p.kind in kinds]


@pytest.mark.parametrize(("port", "connector"), CONNECTORS)
def test_the_connector_has_every_method_of_its_port_with_its_parameters(
    port: type[Any], connector: type[Any]
) -> None:
    methods = port_methods(port)
    assert methods, f"{port.__name__} declares no methods"
    problems = []
    for name, port_method in methods.items():
        method = getattr(connector, name, None)
        if method is None:
            problems.append(f"{connector.__name__}.{name} is missing")
            continue
        problems += [f"{connector.__name__}.{name} {p}" for p in drift(port_method, method)]
    assert problems == []


def test_the_drift_check_names_what_differs() -> None:
    async def wanted(self: Any, ids: list[str], *, with_email: bool = True) -> None: ...
    async def offered(self: Any, ids: list[str], *, with_email: bool = False) -> None: ...
    async def narrower(self: Any, ids: list[str]) -> None: ...
    async def swapped(ids: list[str], self: Any, *, with_email: bool = True) -> None: ...
    def blocking(self: Any, ids: list[str], *, with_email: bool = True) -> None: ...

    assert drift(wanted, offered) == ["'with_email' defaults to False, not True"]
    assert drift(wanted, narrower) == ["lacks parameter 'with_email'"]
    assert drift(wanted, swapped) == ["takes ['ids', 'self'] in order, not ['self', 'ids']"]
    assert drift(wanted, blocking) == ["is not async"]
    assert drift(wanted, wanted) == []
