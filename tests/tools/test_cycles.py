"""tools/cycles.py: module counts per folder and import cycles, on a small package and on ours."""

from __future__ import annotations

from pathlib import Path

from tools.cycles import PACKAGES, find_modules, import_edges, report, strongly_connected

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def cycles_of(root: Path, *packages: str) -> list[list[str]]:
    modules = find_modules(root, packages)
    return [c for c in strongly_connected(modules, import_edges(modules)) if len(c) > 1]


def test_a_function_level_import_back_is_a_cycle(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "thing = 1\ndef f():\n    from pkg import a\n    return a\n",
            "pkg/c.py": "from . import b\n",  # imports b, nothing imports it back
        },
    )
    assert cycles_of(tmp_path, "pkg") == [["pkg.a", "pkg.b"]]


def test_a_type_only_import_back_is_a_cycle_unless_left_out(tmp_path: Path) -> None:
    back = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n"
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": back})
    modules = find_modules(tmp_path, ["pkg"])
    assert [e.where for e in import_edges(modules)] == ["top-level", "type-only"]
    runtime = import_edges(modules, type_only=False)
    assert all(len(c) == 1 for c in strongly_connected(modules, runtime))
    assert cycles_of(tmp_path, "pkg") == [["pkg.a", "pkg.b"]]


def test_the_report_counts_modules_per_folder(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "", "pkg/sub/__init__.py": ""})
    lines = report(tmp_path, ["pkg"], show_edges=False)
    assert "     2  pkg/" in lines
    assert "     1  pkg/sub/" in lines
    assert lines[-1] == "import cycles: 0"


def test_no_two_modules_of_the_packages_import_each_other() -> None:
    # a cycle is one concept in two modules: merge them, or move what both need lower
    # (`python tools/cycles.py --edges` lists the imports of each cycle)
    assert cycles_of(ROOT, *PACKAGES) == []
