"""`crossdock demo --crm fxiaoke`: the gateway over the Fxiaoke emulation, on real sockets."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import httpx
import pytest

from backends.fxiaoke.serve import DEFAULT_PORT, PORT_ENV, fxiaoke_port
from gateway.cli.demo import demo_running


def test_the_fxiaoke_port_is_8103_unless_the_variable_moves_it() -> None:
    assert fxiaoke_port(None, {}) == DEFAULT_PORT == 8103
    assert fxiaoke_port(None, {PORT_ENV: "9103"}) == 9103
    with pytest.raises(ValueError, match=PORT_ENV):
        fxiaoke_port(None, {PORT_ENV: "http"})


@pytest.mark.sockets
async def test_the_demo_over_fxiaoke_answers_its_printed_commands(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    async with demo_running(
        data_dir=tmp_path, scale=0.02, env=env, port=0, emulation_ports=(0, 0), crm="fxiaoke"
    ) as demo:
        assert demo.emulations.seeded is not None
        assert "Fxiaoke CRM emulation" in demo.emulations.describe()
        commands = [line.strip() for line in demo.banner.splitlines() if "curl " in line]
        async with httpx.AsyncClient(timeout=10) as http:
            for command in commands:
                words = shlex.split(command)
                token_var = next(w for w in words if w.startswith("Authorization: Bearer $"))
                role = token_var.removeprefix("Authorization: Bearer $").removesuffix("_TOKEN")
                headers = {
                    "Authorization": f"Bearer {demo.tokens[role.lower()]}",
                    "Content-Type": "application/json",
                }
                body = words[words.index("-d") + 1]
                answer = (await http.post(demo.url, headers=headers, content=body)).json()
                assert "errors" not in answer, (command, answer)
                assert answer["data"], command
    assert (tmp_path / "fxiaoke.sqlite3").exists()
