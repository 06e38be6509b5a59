"""Frappe's document lifecycle over the store: list, get, insert, save, submit, cancel, delete.

    draft (0) ──save──▶ draft (0)      validate hook, mandatory and link checks
    draft (0) ──docstatus 1──▶ submitted (1)   + on_submit effects (stock.py)
    submitted (1) ──save──▶ submitted (1)      only `allow_on_submit` fields may change
    submitted (1) ──docstatus 2──▶ cancelled (2)   + on_cancel effects
Every other transition is Frappe's 417.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bins, naming, query
from .controllers import VALIDATE, Context
from .doctypes import DOCTYPES, linked_from, meta
from .errors import FrappeError, not_found
from .meta import DocType, Field
from .stock import ON_CANCEL, ON_SUBMIT, refuse_linked
from .store import ADMIN, ErpStore, Row
from .values import blank_row, cast_row

_TRANSITIONS = {
    (0, 2): "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)",
    (1, 0): "Cannot change docstatus from 1 (Submitted) to 0 (Draft)",
}


class Documents:
    """One request's view of the site: `Documents(store, company="Acme Corp").get(...)`."""

    def __init__(self, store: ErpStore, *, company: str) -> None:
        self.store = store
        self.ctx = Context(store, company)

    @property
    def messages(self) -> list[str]:
        return self.ctx.messages

    def list(self, doctype: str, args: Mapping[str, str]) -> list[Row]:
        d = meta(doctype)
        if d.is_child and args.get("parent") not in d.parents:
            raise FrappeError(
                "PermissionError", f"Please specify a valid parent DocType for {doctype}"
            )
        sql, params = query.parse(d, args).sql(d)
        return self.store.query(sql, params)

    def get(self, doctype: str, name: str) -> Row:
        d = meta(doctype)
        if d.is_child:
            raise FrappeError(
                "PermissionError", f"Please specify a valid parent DocType for {doctype}"
            )
        doc = self.store.get(doctype, name)
        if doc is None:
            raise not_found(doctype, name)
        return doc

    def create(self, doctype: str, body: Row) -> Row:
        d = self._writable(doctype)
        target = _docstatus(body.get("docstatus", 0))
        if target == 2:
            raise FrappeError("ValidationError", _TRANSITIONS[(0, 2)])
        doc = blank_row(d)
        doc.update(cast_row(d, body))
        doc.update(docstatus=0, owner=ADMIN, creation=self.store.now())
        if d.naming == "prompt":
            doc["name"] = _prompted_name(d, body)
        doc = self._with_children(d, doc, body, {})
        with self.store.transaction():
            self._validate(d, doc)
            doc["name"] = naming.new_name(self.store, d, doc)
            self._store(d, doc, new=True)
            if target == 1:
                self._submit(d, doc)
        # Frappe's insert: after_insert, then on_update (+ on_submit), then on_change
        submitted = ("on_submit",) if target == 1 else ()
        self.ctx.fire(d.name, doc["name"], "after_insert", "on_update", *submitted, "on_change")
        return self.get(doctype, doc["name"])

    def update(self, doctype: str, name: str, body: Row) -> Row:
        d = self._writable(doctype)
        old = self.get(doctype, name)
        if "modified" in body and body["modified"] != old["modified"]:
            raise FrappeError(
                "TimestampMismatchError",
                "Error: Document has been modified after you have opened it "
                f"({body['modified']}, {old['modified']}). "
                "Please refresh to get the latest document.",
            )
        before = old["docstatus"]
        target = _docstatus(body.get("docstatus", before))
        self._check_transition(d, before, target)
        doc = self._with_children(d, {**old, **cast_row(d, body)}, body, old)
        with self.store.transaction():
            if before == 0:
                self._validate(d, doc)
                self._store(d, doc, new=False)
                if target == 1:
                    self._submit(d, doc)
            elif target == 1:
                _check_update_after_submit(d, old, doc)
                self._store(d, doc, new=False)
            else:
                self._cancel(d, old)
        self.ctx.fire(d.name, name, *_save_events(before, target), "on_change")
        return self.get(doctype, name)

    def delete(self, doctype: str, name: str) -> None:
        d = self._writable(doctype)
        doc = self.get(doctype, name)
        if doc["docstatus"] == 1:
            raise FrappeError(
                "ValidationError",
                f"{doctype} {name}: Submitted Record cannot be deleted. You must Cancel it first.",
            )
        with self.store.transaction():
            self._check_not_linked(d, name)
            bins.on_trash(self.store, d.name, name)
            self.store.delete(doctype, name)
        self.ctx.trashed[(d.name, name)] = doc  # webhooks render the document as it was
        self.ctx.fire(d.name, name, "on_trash")

    # -- steps ---------------------------------------------------------------------------------

    def _writable(self, doctype: str) -> DocType:
        d = meta(doctype)
        if d.read_only or d.is_child:
            raise FrappeError("PermissionError", f"Insufficient Permission for {doctype}")
        return d

    def _check_transition(self, d: DocType, before: int, target: int) -> None:
        if before == 2:
            raise FrappeError("ValidationError", "Cannot edit cancelled document")
        if target != 0 and not d.submittable:
            raise FrappeError("ValidationError", f"{d.name} is not a submittable DocType")
        if (before, target) in _TRANSITIONS:
            raise FrappeError("DocstatusTransitionError", _TRANSITIONS[(before, target)])

    def _with_children(self, d: DocType, doc: Row, body: Row, old: Row) -> Row:
        for table in d.tables:
            rows = body.get(table.name, old.get(table.name, []))
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise FrappeError("ValidationError", f"{table.title} must be a list of rows")
            previous = {r["name"]: r for r in old.get(table.name, [])}
            doc[table.name] = [self._child(table, r, previous, i) for i, r in enumerate(rows, 1)]
        return doc

    def _child(self, table: Field, row: Row, previous: dict[str, Row], idx: int) -> Row:
        child = DOCTYPES[table.options]
        base = previous.get(row.get("name", "")) or blank_row(child)
        merged = {**base, **cast_row(child, row)}
        merged.update(idx=idx, parentfield=table.name, parenttype=child.parents[0])
        return merged

    def _validate(self, d: DocType, doc: Row) -> None:
        self._check_links(d, doc)  # Frappe checks links before the controller's validate
        hook = VALIDATE.get(d.name)
        if hook:
            hook(self.ctx, doc)
        _check_mandatory(d, doc)

    def _check_links(self, d: DocType, doc: Row) -> None:
        seen: set[tuple[str, Any]] = set()
        rows = [(d, doc, "")] + [
            (DOCTYPES[t.options], r, f"Row #{r['idx']}: ") for t in d.tables for r in doc[t.name]
        ]
        for owner, row, prefix in rows:
            for link in owner.links:
                value = row.get(link.name)
                if value in (None, "") or (link.options, value) in seen:
                    continue
                if not self.store.exists(link.options, value):
                    message = f"Could not find {prefix}{link.title}: {value}"
                    raise FrappeError("LinkValidationError", message)
                seen.add((link.options, value))

    def _store(self, d: DocType, doc: Row, *, new: bool) -> None:
        doc.update(modified=self.store.now(), modified_by=ADMIN)
        for table in d.tables:
            for row in doc[table.name]:
                row.update(parent=doc["name"], docstatus=doc["docstatus"])
                row.update(owner=ADMIN, modified_by=ADMIN, modified=doc["modified"])
                row["creation"] = row.get("creation") or doc["modified"]
        self.store.write(d.name, doc, new=new)

    def _submit(self, d: DocType, doc: Row) -> None:
        doc["docstatus"] = 1
        self._store(d, doc, new=False)
        ON_SUBMIT[d.name](self.ctx, doc)

    def _cancel(self, d: DocType, doc: Row) -> None:
        doc["docstatus"] = 2
        self._store(d, doc, new=False)
        ON_CANCEL[d.name](self.ctx, doc)

    def _check_not_linked(self, d: DocType, name: str) -> None:
        for other, column in linked_from(d.name):
            if other.name in ("Bin", d.name):
                continue
            who = (
                "parenttype AS dt, parent AS dn"
                if other.is_child
                else f"'{other.name}' AS dt, name AS dn"
            )
            sql = f'SELECT {who} FROM {other.table} WHERE "{column}" = ? LIMIT 1'  # noqa: S608
            refuse_linked(self.ctx, sql, name, d.name)


def _save_events(before: int, target: int) -> tuple[str, ...]:
    """What Frappe's run_post_save_methods fires for a save (on_change follows each)."""
    if before == 0:
        return ("on_update", "on_submit") if target == 1 else ("on_update",)
    return ("on_update_after_submit",) if target == 1 else ("on_cancel",)


def _prompted_name(d: DocType, body: Row) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FrappeError("ValidationError", f"{d.name}: Name not set via prompt (send `name`)")
    return name.strip()


def _docstatus(value: Any) -> int:
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise FrappeError("ValidationError", f"docstatus must be 0, 1 or 2, not {value!r}")
    return int(value)


def _missing(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _check_mandatory(d: DocType, doc: Row) -> None:
    missing = [(d, f) for f in d.fields if f.reqd and _missing(doc.get(f.name))]
    for table in d.tables:
        child = DOCTYPES[table.options]
        for row in doc[table.name]:
            missing += [(child, f) for f in child.fields if f.reqd and _missing(row.get(f.name))]
    if missing:
        owner, first = missing[0]
        raise FrappeError(
            "MandatoryError",
            f"Error: Value missing for {owner.name}: {first.title}",
            detail=f"[{d.name}, {doc.get('name') or 'new'}]: "
            + ", ".join(f.name for _, f in missing),
        )


def _check_update_after_submit(d: DocType, old: Row, new: Row) -> None:
    for f in d.fields:
        if f.type == "Table":
            _check_rows(f, old[f.name], new[f.name])
        elif not f.allow_on_submit and old.get(f.name) != new.get(f.name):
            _refuse(f, old.get(f.name), new.get(f.name), "")


def _check_rows(table: Field, old: list[Row], new: list[Row]) -> None:
    if [r["name"] for r in old] != [r["name"] for r in new]:
        _refuse(table, len(old), len(new), "")
    child = DOCTYPES[table.options]
    for before, after in zip(old, new, strict=True):
        for f in child.fields:
            if not f.allow_on_submit and before.get(f.name) != after.get(f.name):
                _refuse(f, before.get(f.name), after.get(f.name), f"Row #{after['idx']}: ")


def _refuse(f: Field, old: Any, new: Any, prefix: str) -> None:
    raise FrappeError(
        "UpdateAfterSubmitError",
        f"{prefix}Not allowed to change {f.title} after submission from {old} to {new}",
    )
