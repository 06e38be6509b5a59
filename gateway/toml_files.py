"""Reading a TOML configuration file, or the default shipped inside a package.

    data, source = read_toml(
        path, ("gateway.access", "policy_default.toml"), PolicyError, "policy file"
    )

`source` names where the data came from (the path, or `package/file` for the shipped default),
for error messages; an unreadable file or invalid TOML raises `error` saying which and why.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any


def read_toml(
    path: str | Path | None,
    default: tuple[str, str],
    error: type[Exception],
    what: str,
) -> tuple[dict[str, Any], str]:
    """The parsed file at `path`, or the `(package, file name)` default when `path` is None."""
    if path is None:
        package, name = default
        text = resources.files(package).joinpath(name).read_text("utf-8")
        source = f"{package.replace('.', '/')}/{name}"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise error(f"{what} {path} cannot be read: {err.strerror}") from err
        source = str(path)
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as err:
        raise error(f"{source} is not valid TOML: {err}") from err
