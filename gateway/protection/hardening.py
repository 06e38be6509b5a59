"""The hardening pieces built from Settings, for `gateway.wiring.assemble` to put in place.

    hardening = Hardening.from_settings(settings)
    create_app(..., extensions=[access, *hardening.extensions],
               rate_limiter=hardening.rate_limiter, middleware=hardening.middleware)

middleware   CORS (only with `[server] cors_origins`), then the HTTP guard around /graphql:
             body size, batch size, CSRF (`[server] csrf`), content types
extensions   trusted documents (with `[trusted_documents] manifest`), operation limits per role,
             the deadline of each query (`[graphql] operation_deadline_s`; 0 = none)
rate limiter token buckets per subject and partner, and per client address for failed
             authentications (`[rate_limits]`; None when disabled)
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.protection.http_guard import PREFLIGHT_HEADERS, HttpGuard
from gateway.protection.limits import OperationLimits
from gateway.protection.operation_deadline import OperationDeadline
from gateway.protection.ratelimit import FailedAuthLimiter, RateLimiter
from gateway.protection.trusted import TrustedDocumentsExtension
from gateway.settings import Settings
from gateway.settings.section import SettingsError
from schema.build import Extension

CORS_HEADERS = ("authorization", "content-type", "x-request-id", *PREFLIGHT_HEADERS)


@dataclass(frozen=True)
class Hardening:
    """What the gateway adds around and inside its GraphQL endpoint."""

    middleware: Sequence[Middleware]
    extensions: Sequence[Extension]
    rate_limiter: RateLimiter | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Hardening:
        return cls(
            middleware=http_middleware(settings),
            extensions=operation_extensions(settings),
            rate_limiter=rate_limiter(settings),
        )


def http_middleware(settings: Settings) -> list[Middleware]:
    """CORS (when origins are configured) outside the HTTP guard."""
    limits = settings.limits.default
    guard = Middleware(
        HttpGuard,
        max_body_bytes=limits.max_body_bytes,
        max_batch=limits.max_batch,
        csrf=settings.server.csrf,
        json_client_invalid_json_status=400,
        csrf_credentialed_only=True,
    )
    if not settings.server.cors_origins:
        return [guard]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(settings.server.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=list(CORS_HEADERS),
        expose_headers=["x-request-id", "retry-after"],
        max_age=600,
    )
    return [cors, guard]


def operation_extensions(settings: Settings) -> list[Extension]:
    """Trusted documents first (they choose the document), then the limits that measure it,
    then the deadline of the query's execution."""
    found: list[Extension] = []
    trusted = settings.trusted_documents.load()
    if trusted is not None:
        found.append(TrustedDocumentsExtension.factory(trusted))
    found.append(OperationLimits.factory(settings.limits, max_first=settings.graphql.max_first))
    if settings.graphql.operation_deadline_s > 0:
        found.append(OperationDeadline.factory(settings.graphql.operation_deadline_s))
    return found


def rate_limiter(settings: Settings) -> RateLimiter | None:
    rates = settings.rate_limits
    if not rates.enabled:
        return None
    failed = None if rates.failed_auth is None else FailedAuthLimiter(rates.failed_auth)
    return RateLimiter(rates.roles, default=rates.default, failed_auth=failed)


def backend_verify(system: str, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """httpx `verify=`: the system CAs, or a context trusting `[<system>] ca_bundle`."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(
            f"{system}.ca_bundle {ca_bundle} cannot be loaded as PEM certificates ({exc})"
        ) from None
