"""The one error hierarchy of Crossdock, and the error-code vocabulary clients see.

    CrossdockError                  base of everything raised on purpose; has a stable `code`
    ├── BackendError                a backing system (CRM or SCM) could not answer as asked
    │   ├── BackendUnavailable      connect error, 5xx or 429 after the retries, or the circuit
    │   │                           breaker is open: BACKEND_UNAVAILABLE
    │   ├── BackendTimeout          no answer within the configured timeout, or by the deadline
    │   │                           of the attempt or the operation: BACKEND_TIMEOUT
    │   ├── BackendAuthError        the backend refused our credentials (401/403): BACKEND_AUTH
    │   └── BackendRejected         the backend refused the request itself (4xx, validation):
    │                               BACKEND_REJECTED, with the backend's own code and message
    ├── NotFound                    a named entity does not exist (or may not be seen): NOT_FOUND
    ├── InvalidInput                the caller's arguments are wrong: BAD_USER_INPUT
    │   └── BadCursor               a cursor the gateway did not issue for this connection and
    │                               these arguments (altered, foreign, garbage): BAD_CURSOR
    │
    │   defined beside the feature that raises them:
    ├── gateway.auth.AuthError              bad or missing token: UNAUTHENTICATED (HTTP 401)
    ├── gateway.auth.jwks.JWKSError              the key set cannot be fetched: JWKS_UNAVAILABLE
    ├── gateway.access.Forbidden            the policy denies a field: FORBIDDEN (+ requiredScopes)
    ├── gateway.access.policy.PolicyError          the policy file is wrong (startup): POLICY_ERROR
    ├── gateway.protection.trusted.PersistedQuery* PERSISTED_QUERY_NOT_FOUND / _REQUIRED / _MISMATCH
    ├── resolvers.saga.state.IdempotencyConflict   same key, other input: IDEMPOTENCY_CONFLICT
    ├── resolvers.saga.state.InvalidTransition     approve/cancel in the wrong state: INVALID_STATE
    ├── resolvers.saga.state.StepFailed            a step failed for a business reason: STEP_FAILED
    └── resolvers.saga.sealing.JournalKeyError / JournalCorrupted: CONFIGURATION / JOURNAL_CORRUPTED

Refusals made before execution are GraphQL errors with the same `extensions.code` shape:
GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QUERY_TOO_DEEP, TOO_MANY_ALIASES,
TOO_MANY_ROOT_FIELDS, QUERY_TOO_LARGE, QUERY_TOO_COMPLEX (each with `limit` and `measured`),
REQUEST_TOO_LARGE, BATCH_TOO_LARGE, CSRF_REJECTED, RATE_LIMITED, OPERATION_FORBIDDEN,
BAD_REQUEST (a malformed request: not a JSON object, parameters of the wrong type, several
operations without operationName), OPERATION_NOT_FOUND.

`code` is what reaches clients as `extensions.code`; `system` names the backing system
("crm" or "scm"). Messages say what, where and what next, and never carry secrets.
A BackendError's message quotes the backend (paths, its own error text): it is for the log.
Clients get `neutral_message` instead (with the request id the detail is logged under),
unless the error is `public` (the gateway's own advice, e.g. "narrow the filter").
Anything not derived from CrossdockError is unexpected: the gateway masks it for clients
("Unexpected error.", INTERNAL_SERVER_ERROR, with the request id) and logs it.
"""

from __future__ import annotations

from typing import Any


class CrossdockError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = extensions

    def to_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class BackendError(CrossdockError):
    code = "BACKEND_ERROR"

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        backend_code: str | None = None,
        public: bool = False,
        **extensions: Any,
    ) -> None:
        super().__init__(message, system=system, **extensions)
        self.system = system
        self.status = status
        self.backend_code = backend_code
        self.public = public  # True: the message is the gateway's own, fit for any caller
        if backend_code is not None:
            self.extensions["backendCode"] = backend_code


BACKEND_CODES = frozenset(
    {"BACKEND_ERROR", "BACKEND_UNAVAILABLE", "BACKEND_TIMEOUT", "BACKEND_AUTH", "BACKEND_REJECTED"}
)
_SYSTEMS = {"crm": "The CRM", "scm": "The ERP"}
_NEUTRAL = {
    "BACKEND_UNAVAILABLE": "{system} is unavailable; retry later",
    "BACKEND_TIMEOUT": "{system} did not answer in time; retry later",
    "BACKEND_AUTH": "{system} refused the gateway's credentials; tell the operator",
    "BACKEND_REJECTED": "{system} refused the request",
}


def neutral_message(code: str, system: str | None, request_id: str) -> str:
    """What any caller is told of a backend failure: who failed, how, and the request id
    under which the backend's own message is logged."""
    who = _SYSTEMS.get(system or "", "A backend system")
    what = _NEUTRAL.get(code, "{system} could not answer").format(system=who)
    return f"{what} (details are logged under request id {request_id})."


class BackendUnavailable(BackendError):
    code = "BACKEND_UNAVAILABLE"


class BackendTimeout(BackendError):
    code = "BACKEND_TIMEOUT"


class BackendAuthError(BackendError):
    code = "BACKEND_AUTH"


class BackendRejected(BackendError):
    code = "BACKEND_REJECTED"


class NotFound(CrossdockError):
    code = "NOT_FOUND"


class InvalidInput(CrossdockError):
    code = "BAD_USER_INPUT"


class BadCursor(InvalidInput):
    code = "BAD_CURSOR"

    def __init__(self, message: str, argument: str = "after") -> None:
        super().__init__(message, argument=argument)
