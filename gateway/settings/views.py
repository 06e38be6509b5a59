"""The `[views]` section: which BI views are served and how exports behave.

[views]
path = "/etc/crossdock/views.toml"   # CROSSDOCK_VIEWS; default: the shipped views
denied_columns = "omit"              # omit (named in Crossdock-Omitted-Columns) | error (403)
csv_formulas = "escape"              # escape (`'` before =,+,-,@ text cells) | keep
watermark_overlap_s = 0              # seconds taken off the watermark (backend clock skew)
enabled = true
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gateway.settings.section import Section, Table

DeniedColumns = Literal["omit", "error"]
CsvFormulas = Literal["escape", "keep"]


@dataclass(frozen=True)
class ViewSettings:
    """The `[views]` section, validated."""

    enabled: bool = True
    path: str | None = None
    denied_columns: DeniedColumns = "omit"
    csv_formulas: CsvFormulas = "escape"
    watermark_overlap_s: int = 0


def parse_views(table: Table, env: Mapping[str, str]) -> ViewSettings:
    s = Section("views", table, env)
    denied = s.choice("denied_columns", "omit", ("omit", "error"))
    formulas = s.choice("csv_formulas", "escape", ("escape", "keep"))
    result = ViewSettings(
        enabled=s.flag("enabled", True),
        path=s.optional_text("path", env="CROSSDOCK_VIEWS"),
        denied_columns="error" if denied == "error" else "omit",
        csv_formulas="keep" if formulas == "keep" else "escape",
        watermark_overlap_s=s.integer("watermark_overlap_s", 0, low=0),
    )
    s.check_unknown()
    return result
