"""The side-by-side run against the Node peer (GraphQL Mesh + Hive Gateway over the same
emulations), when its runner is on this machine: `python -m bench --peer [DIR]`.

The peer and its runner live outside this project (`../shared/peer-bench/` beside the
checkout, or DIR, or CROSSDOCK_PEER_BENCH): they are not copied in. This module only finds
the runner, checks node and npm, runs `run_sidebyside.sh` on this checkout (its `--quick`
with `--quick`, else `FULL`) and returns its Markdown summary, or one line saying why it was
skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "peer-bench"
TIMEOUT_S = 40 * 60
# Both comparisons in one run (about 13 min): one process against one, and the
# best configuration of each (`--workers 2` against the peer's `--fork 2 --jit`).
FULL = ["--systems", "cd1,peer1,cdw2,peer-f2-jit", "--pairs", "cd1:peer1,cdw2:peer-f2-jit"]


def find_runner(given: Path | None) -> Path | None:
    for candidate in (given, os.environ.get("CROSSDOCK_PEER_BENCH"), DEFAULT):
        if candidate and (Path(candidate) / "run_sidebyside.sh").is_file():
            return Path(candidate) / "run_sidebyside.sh"
    return None


def side_by_side(given: Path | None, *, quick: bool) -> str:
    """The runner's Markdown summary, or why there is none."""
    runner = find_runner(given)
    if runner is None:
        return (
            "Side by side with the peer: skipped (no run_sidebyside.sh in --peer DIR, "
            f"CROSSDOCK_PEER_BENCH or {DEFAULT}).\n"
        )
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return f"Side by side with the peer: skipped ({' and '.join(missing)} not installed).\n"
    argv = [str(runner), *(["--quick"] if quick else FULL)]
    env = {**os.environ, "CROSSDOCK_CHECKOUT": str(ROOT)}
    try:
        done = subprocess.run(  # noqa: S603 (the runner the operator pointed at)
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return f"Side by side with the peer: {runner} ran past {TIMEOUT_S // 60} min; stopped.\n"
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        failed = f"Side by side with the peer: {runner} failed ({done.returncode})"
        return f"{failed}:\n\n```\n{tail}\n```\n"
    return f"## Side by side with the peer ({' '.join(argv[1:])})\n\n{done.stdout}"
