"""The `[console]` section: whether the gateway serves its browser console at `/console`.

[console]
enabled = false   # true: /console serves the single-page console (gateway.console); on in the demo

The console is a page, a script and a stylesheet shipped in the package; it talks only to
/graphql and /views with the token the user pastes, so it adds no access of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.settings.section import Section, Table


@dataclass(frozen=True)
class ConsoleSettings:
    """`enabled`: serve /console (off by default; `crossdock demo` turns it on)."""

    enabled: bool = False


def parse_console(table: Table, env: Mapping[str, str]) -> ConsoleSettings:
    s = Section("console", table, env)
    result = ConsoleSettings(enabled=s.flag("enabled", False))
    s.check_unknown()
    return result
