"""Typed reads from one TOML table of the settings, with env overrides and key-naming errors.

s = Section("server", table, env)
port = s.integer("port", 8000, env="CROSSDOCK_PORT", low=1)
s.check_unknown()          # SettingsError naming every key nobody read
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Table = Mapping[str, Any]


class SettingsError(ValueError):
    """The configuration is wrong; the message names the key and how to fix it."""


class Section:
    """Typed reads from one TOML table, with env overrides and key-naming errors."""

    def __init__(self, name: str, table: Table, env: Mapping[str, str]) -> None:
        self.name = name
        self.table = table
        self.env = env
        self.used: set[str] = set()

    def _where(self, key: str, env_key: str | None) -> str:
        return f"set {env_key} or [{self.name}] {key}" if env_key else f"set [{self.name}] {key}"

    def raw(self, key: str, env_key: str | None = None) -> Any:
        self.used.add(key)
        if env_key is not None and env_key in self.env:
            return self.env[env_key]
        return self.table.get(key)

    def text(self, key: str, default: str | None = None, *, env: str | None = None) -> str:
        value = self.raw(key, env)
        if value is None or value == "":
            if default is not None:
                return default
            raise SettingsError(f"{self.name}.{key} is missing ({self._where(key, env)})")
        if not isinstance(value, str):
            raise SettingsError(f"{self.name}.{key} must be a string, got {value!r}")
        return value

    def optional_text(self, key: str, *, env: str | None = None) -> str | None:
        value = self.raw(key, env)
        return None if value in (None, "") else self.text(key, env=env)

    def number(self, key: str, default: float, *, env: str | None = None) -> float:
        value = self.raw(key, env)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{self.name}.{key} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not 0 <= number < math.inf:  # also refuses nan (TOML has it)
            raise SettingsError(f"{self.name}.{key} must be a number >= 0, got {value!r}")
        return number

    def integer(self, key: str, default: int, *, env: str | None = None, low: int = 0) -> int:
        value = self.raw(key, env)
        if value is None:
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{self.name}.{key} must be an integer, got {value!r}") from None
        if isinstance(value, (bool, float)) or number < low:
            raise SettingsError(f"{self.name}.{key} must be an integer >= {low}, got {value!r}")
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise SettingsError(f"{self.name}.{key} must be true or false, got {value!r}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise SettingsError(f"{self.name}.{key} must be one of {list(choices)}, got {value!r}")
        return value

    def table_of(self, key: str) -> Table:
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise SettingsError(f"[{self.name}.{key}] must be a table")
        return value

    def check_unknown(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise SettingsError(
                f"unknown key(s) in [{self.name}]: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(self.used))})"
            )
