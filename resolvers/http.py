"""The one request helper both connectors use: timeouts, bounded retries, error mapping.

Idempotent reads are retried on connect errors, read timeouts, 5xx and 429 with exponential
backoff plus jitter (a 429's `Retry-After` wins, capped). Writes are retried only when the
backend cannot have processed them: a connect error (nothing was sent) or a 429 (refused
before processing). Exhaustion becomes BackendUnavailable / BackendTimeout with a message
naming what, where and how many retries. Other statuses are returned to the connector,
which alone knows its system's envelopes. Request headers are never put into messages.

Each attempt (connect, send and read the whole response) runs under an asyncio timeout:
`Timeouts.attempt`, or what is left of the operation's deadline (`resolvers.deadline`) when
that is sooner. httpx's read timeout only bounds the gap between reads, so a backend dripping
its reply would otherwise hold a request for as long as it likes. A deadline hit is a
BackendTimeout and a breaker failure; no attempt starts, and no retry waits, past the
operation's deadline.

Each Requester owns one circuit breaker and one retry budget (`Protection`), shared by every
request to its backend. Connect errors, timeouts, 5xx and 429 count as failures, any other
status as a success. While the circuit is open a call fails fast with BackendUnavailable and
no HTTP request; a retry is sent only while the budget allows it. For Zoho the OAuth token
refresh goes through the same Requester and so counts too: a CRM whose accounts server
fails cannot be reached either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

import httpx

from resolvers.breaker import CircuitBreaker, Clock, Protection, RetryBudget
from resolvers.deadline import time_left
from resolvers.errors import BackendError, BackendTimeout, BackendUnavailable
from resolvers.transport import Reply, Transport, as_transport
from resolvers.transport import (
    Timeouts as Timeouts,  # defined with the client port; imported from here
)

Sleep = Callable[[float], Awaitable[None]]
logger = logging.getLogger("crossdock.backend")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; `attempts` counts the first try."""

    attempts: int = 3
    backoff_s: float = 0.1
    backoff_max_s: float = 2.0
    retry_after_max_s: float = 5.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds before retry number `retry` (1-based): Retry-After if given, else backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_s * 2.0 ** (retry - 1))
        jitter: float = random.uniform(0, ceiling / 2)
        return ceiling / 2 + jitter


class Limit(NamedTuple):
    """How long one attempt may take, and which deadline says so (for messages)."""

    seconds: float
    deadline: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP try to a backend, as observers see it (metrics, traces): the route is the
    path with record ids folded (`/crm/v8/Sales_Orders/{id}`), so its values stay few; the
    outcome is the HTTP status, or `timeout` / `unreachable` when no answer came."""

    system: str
    method: str
    route: str
    outcome: str
    seconds: float
    retry: int  # 0 for the first try


Observe = Callable[[Attempt], None]


def route_template(path: str) -> str:
    """`path` with its record ids folded: Zoho's numeric ids become `{id}`, a Frappe document
    name after `/api/resource/<DocType>/` becomes `{name}`."""
    parts = path.split("/")
    if parts[1:3] == ["api", "resource"] and len(parts) > 4:
        return "/".join([*parts[:4], "{name}"])
    return "/".join("{id}" if part.isdigit() else part for part in parts)


@dataclass(frozen=True, slots=True)
class Try:
    """One HTTP try as the requester makes it: the request, where it goes (`where`, for
    messages), how many retries came before, whether it may be repeated, and its deadline."""

    method: str
    url: str
    request: dict[str, Any]
    where: str
    retries: int
    safe: bool
    limit: Limit


Outcome = Reply | tuple[BackendError, bool]  # a response, or a failure and retryable
Send = Callable[[Try], Awaitable[Outcome]]
# Wraps one try (the gateway's traces: a span around it, `traceparent` added to its headers).
Trace = Callable[[str, Try, Send], Awaitable[Outcome]]


class Requester:
    """Sends requests for one backend; `system` is "crm" or "scm", `label` a human name.
    `observe`, when set (the gateway's metrics), is told of every HTTP try; `trace`, when
    set (the gateway's traces), wraps every HTTP try. `client` is an httpx client (tests,
    ASGI apps) or any `Transport` (`crossdock serve`: `AiohttpTransport`); `self.client` is
    the Transport either way."""

    observe: Observe | None = None
    trace: Trace | None = None

    def __init__(
        self,
        client: httpx.AsyncClient | Transport,
        *,
        system: str,
        label: str,
        timeouts: Timeouts,
        retry: RetryPolicy,
        protection: Protection | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = as_transport(client)
        self.system = system
        self.label = label
        self.timeouts = timeouts
        self.attempt_s = timeouts.attempt
        self.retry = retry
        self.sleep = sleep
        guard = Protection() if protection is None else protection
        self.breaker: CircuitBreaker | None = guard.breaker(system, clock)
        self.budget: RetryBudget | None = guard.budget(clock)

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """The backend's response, or a BackendError (retries exhausted, or circuit open)."""
        safe = method in IDEMPOTENT if idempotent is None else idempotent
        where = f"{method} {unquote(urlsplit(url).path) or '/'}"  # as httpx.URL(url).path
        if params:
            url = with_query(url, params)
        request = {"headers": headers, "json": json, "data": data}
        retries = 0
        if self.budget is not None:
            self.budget.record_request()
        while True:
            limit = self._limit()
            if limit.seconds <= 0:  # nothing sent: not the backend's failure
                raise self._out_of_time(where, retries)
            one = Try(method, url, request, where, retries, safe, limit)
            outcome = await self._guarded(one)
            retry_after = None
            if isinstance(outcome, Reply):
                if not _retryable(outcome.status_code, safe):
                    return outcome
                failure, may_retry = self._status_error(outcome, where, retries), True
                retry_after = _retry_after(outcome)
            else:
                failure, may_retry = outcome
            if not may_retry or retries + 1 >= self.retry.attempts:
                raise failure
            delay = self._next_delay(failure, retries, retry_after)
            retries += 1
            await self._pause(
                where, failure.status or type(failure.__cause__).__name__, retries, delay
            )

    def _next_delay(self, failure: BackendError, retries: int, retry_after: float | None) -> float:
        """Seconds before the next try; raises `failure` (or a budget error) if none may follow."""
        delay = self.retry.delay(retries + 1, retry_after)
        left = time_left()
        if left is not None and delay >= left[0]:  # the operation ends before a retry could
            raise failure
        if self.budget is not None and not self.budget.can_retry():
            raise self._budget_exhausted(failure)
        return delay

    def _limit(self) -> Limit:
        """This attempt's deadline: the backend's, or the rest of the operation's if sooner."""
        left = time_left()
        if left is None or left[0] >= self.attempt_s:
            return Limit(self.attempt_s, f"the attempt deadline of {self.attempt_s:g}s")
        return Limit(left[0], f"the operation deadline of {left[1]:g}s")

    def _out_of_time(self, where: str, retries: int) -> BackendError:
        left = time_left()
        whole = f" of {left[1]:g}s" if left is not None else ""
        return BackendTimeout(
            f"{self.label} was not called for {where}: the operation deadline{whole} had "
            f"passed; {_retried(retries)}",
            system=self.system,
        )

    async def _guarded(self, one: Try) -> Outcome:
        """One try through the breaker: raises while it is open, else records the outcome."""
        if self.breaker is None:
            return await self._traced(one)
        self.breaker.before_call()
        outcome = await self._traced(one)
        ok = isinstance(outcome, Reply) and not _struggling(outcome.status_code)
        self.breaker.record(success=ok)
        return outcome

    async def _traced(self, one: Try) -> Outcome:
        """`_observed`, wrapped by the tracer (if any)."""
        trace = self.trace
        if trace is None:
            return await self._observed(one)
        return await trace(self.system, one, self._observed)

    async def _observed(self, one: Try) -> Outcome:
        """`_attempt`, told to the observer (if any) with its route, outcome and duration."""
        observe = self.observe
        if observe is None:
            return await self._attempt(one)
        started = time.perf_counter()
        outcome = await self._attempt(one)
        seconds = time.perf_counter() - started
        route = route_template(one.where.partition(" ")[2])
        observe(Attempt(self.system, one.method, route, _outcome(outcome), seconds, one.retries))
        return outcome

    async def _attempt(self, one: Try) -> Outcome:
        """One try within its limit: the response, or the failure and whether it may be
        retried."""
        where, retries, safe, limit = one.where, one.retries, one.safe, one.limit
        try:
            async with asyncio.timeout(limit.seconds):
                return await self.client.send(
                    one.method, one.url, **one.request, timeouts=self.timeouts
                )
        except TimeoutError as exc:  # only asyncio's: httpx's own timeouts are not TimeoutError
            message = f"{self.label} did not finish {where} within {limit.deadline}"
            failure = BackendTimeout(f"{message}; {_retried(retries)}", system=self.system)
            return _caused(failure, exc), safe
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return _caused(self._unreachable(exc, where, retries), exc), True  # nothing was sent
        except httpx.TimeoutException as exc:
            message = f"{self.label} did not answer {where} within {self.timeouts.read}s"
            failure = BackendTimeout(f"{message}; {_retried(retries)}", system=self.system)
            return _caused(failure, exc), safe
        except httpx.TransportError as exc:
            return _caused(self._unreachable(exc, where, retries), exc), safe

    async def _pause(self, where: str, reason: object, retry: int, delay: float) -> None:
        logger.warning("%s %s: %s; retry %d in %.2fs", self.label, where, reason, retry, delay)
        await self.sleep(delay)

    def _unreachable(self, exc: Exception, where: str, retries: int) -> BackendError:
        kind = type(exc).__name__
        return BackendUnavailable(
            f"{self.label} could not be reached for {where} ({kind}); {_retried(retries)}",
            system=self.system,
        )

    def _budget_exhausted(self, failure: BackendError) -> BackendError:
        logger.warning("%s: retry budget exhausted, not retrying", self.label)
        exhausted = type(failure)(
            f"{failure.message}; not retried further: the retry budget of {self.label} is "
            "exhausted (too many retries lately)",
            system=failure.system,
            status=failure.status,
        )
        return _caused(exhausted, failure)

    def _status_error(self, response: Reply, where: str, retries: int) -> BackendError:
        status = response.status_code
        return BackendUnavailable(
            f"{self.label} returned {status} for {where}; {_retried(retries)}",
            system=self.system,
            status=status,
        )


# What must be escaped in a query value for it to read back as itself: the query's own
# delimiters and `%`, plus ASCII controls (which httpx refuses raw); and what the query
# percent-encode set of httpx (WHATWG's) escapes on the wire anyway: space, `"`, `<`, `>`,
# non-ASCII as UTF-8. One `translate` pass, so the query leaves here as it goes on the wire
# and no client re-quotes it character by character (cheaper than httpx's `params=`, whose
# every `%xx` it re-scans: a 200-name Frappe `in` filter took ~0.9 ms to put into a URL).
_QUERY_ESCAPES = str.maketrans(
    {c: f"%{ord(c):02X}" for c in '%&=#+; "<>' + "".join(map(chr, [*range(32), 127]))}
)
_PRINTABLE_ASCII = "".join(map(chr, range(33, 127)))


def _query_escaped(text: str) -> str:
    escaped = text.translate(_QUERY_ESCAPES)
    return escaped if escaped.isascii() else quote(escaped, safe=_PRINTABLE_ASCII)


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` as its query, each key and value read back exactly by a server."""
    query = "&".join(f"{_query_escaped(k)}={_query_escaped(v)}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _caused(failure: BackendError, exc: Exception) -> BackendError:
    failure.__cause__ = exc
    return failure


def _outcome(outcome: Outcome) -> str:
    if isinstance(outcome, Reply):
        return str(outcome.status_code)
    return "timeout" if isinstance(outcome[0], BackendTimeout) else "unreachable"


def _retryable(status: int, safe: bool) -> bool:
    return status == 429 or (safe and status >= 500)


def _struggling(status: int) -> bool:
    """A status that says the backend itself is in trouble (a breaker failure)."""
    return status == 429 or status >= 500


def _retried(retries: int) -> str:
    return f"retried {retries} time{'' if retries == 1 else 's'}"


def _retry_after(response: Reply) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # float() also reads "nan" and "inf", which no sleep should get
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
