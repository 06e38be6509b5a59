"""DocType metadata: the fields, naming rule and child tables of each emulated DocType."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

FieldType = Literal[
    "Data", "Link", "Select", "Text", "Date", "Datetime", "Time",
    "Check", "Int", "Float", "Currency", "Percent", "Table",
]  # fmt: skip

NUMERIC: frozenset[str] = frozenset({"Check", "Int", "Float", "Currency", "Percent"})
STANDARD = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_STANDARD = ("parent", "parentfield", "parenttype")


@dataclass(frozen=True)
class Field:
    """One DocField. `options` is the target DocType of a Link or Table."""

    name: str
    type: FieldType = "Data"
    label: str = ""
    reqd: bool = False
    options: str = ""
    default: Any = None
    allow_on_submit: bool = False
    indexed: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").title()

    @property
    def sql_type(self) -> str:
        if self.type in ("Check", "Int"):
            return "INTEGER"
        return "REAL" if self.type in NUMERIC else "TEXT"

    def empty(self) -> Any:
        if self.default is not None:
            return self.default
        if self.type in ("Check", "Int"):
            return 0
        return 0.0 if self.type in NUMERIC else None


@dataclass(frozen=True)
class DocType:
    """A DocType: `naming` is "field:<f>", "series:<PREFIX-.YYYY.-.#####>", "hash", "custom"
    (a rule of its own in backends.erpnext.naming) or "prompt" (the creator sends `name`)."""

    name: str
    fields: tuple[Field, ...]
    naming: str = "hash"
    is_child: bool = False
    submittable: bool = False
    read_only: bool = False
    parents: tuple[str, ...] = ()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def table(self) -> str:
        return f'"tab{self.name}"'

    @property
    def standard(self) -> tuple[str, ...]:
        return STANDARD + CHILD_STANDARD if self.is_child else STANDARD

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every stored column, standard ones first (the order of `fields=["*"]`)."""
        return self.standard + tuple(f.name for f in self.fields if f.type != "Table")

    @cached_property
    def tables(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "Table")

    @cached_property
    def links(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "Link")

    def has_column(self, name: str) -> bool:
        return name in self.standard or (
            name in self.by_name and self.by_name[name].type != "Table"
        )

    def field_type(self, name: str) -> str:
        if name in ("docstatus", "idx"):
            return "Int"
        if name in ("creation", "modified"):
            return "Datetime"
        return self.by_name[name].type if name in self.by_name else "Data"
