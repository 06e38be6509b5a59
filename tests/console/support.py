"""What the console's browser tests share: the tab they drive, where screenshots go, and the
demo's settings for them (a failing sync change is parked at once)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.settings import Settings
from resolvers.sync.inbox import Backoff

WAIT_MS = 60_000  # an upper bound for a loaded machine, never a speed requirement
ROOT = Path(__file__).parents[2]
ARTIFACTS = Path(os.environ.get("CROSSDOCK_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "console"
ERP_AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}
ONCE = Backoff(attempts=1)


def one_attempt(settings: Settings) -> Settings:
    """A failing sync change is parked dead at once (not after four retries over minutes)."""
    return dataclasses.replace(settings, sync=dataclasses.replace(settings.sync, retry=ONCE))


@dataclass
class Tab:
    """A signed-out console tab and everything it did."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    graphql: list[Any] = field(default_factory=list)

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        print(f"console screenshot: {path}")
        return path

    def graphql_errors(self) -> list[Any]:
        answers = [r.json() for r in self.graphql]
        return [a["errors"] for a in answers if a.get("errors")]

    def assert_clean(self) -> None:
        assert self.blocked == []
        assert self.problems == []
        assert self.graphql_errors() == []
        assert self.page.locator(".error, .error-text").count() == 0


def is_graphql_json(response: Any) -> bool:
    """A /graphql answer with a JSON body (not a subscription's event stream)."""
    media_type = response.headers.get("content-type", "")
    return bool(response.url.endswith("/graphql") and "json" in media_type)
