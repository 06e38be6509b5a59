"""The `[views]` section: which BI views are served and what a denied column does.

[views]
path = "/etc/crossdock/views.toml"   # CROSSDOCK_VIEWS; default: the shipped views
denied_columns = "omit"              # omit (named in Crossdock-Omitted-Columns) | error (403)
enabled = true
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gateway.settings_section import Section, Table

DeniedColumns = Literal["omit", "error"]


@dataclass(frozen=True)
class ViewSettings:
    enabled: bool = True
    path: str | None = None
    denied_columns: DeniedColumns = "omit"


def parse_views(table: Table, env: Mapping[str, str]) -> ViewSettings:
    s = Section("views", table, env)
    denied = s.choice("denied_columns", "omit", ("omit", "error"))
    result = ViewSettings(
        enabled=s.flag("enabled", True),
        path=s.optional_text("path", env="CROSSDOCK_VIEWS"),
        denied_columns="error" if denied == "error" else "omit",
    )
    s.check_unknown()
    return result
