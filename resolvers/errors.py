"""The one error hierarchy of Crossdock.

    CrossdockError                  base of everything raised on purpose; has a stable `code`
    ├── BackendError                a backing system (CRM or SCM) could not answer as asked
    │   ├── BackendUnavailable      connect error, 5xx or 429 after the retries: BACKEND_UNAVAILABLE
    │   ├── BackendTimeout          no answer within the configured timeout: BACKEND_TIMEOUT
    │   ├── BackendAuthError        the backend refused our credentials (401/403): BACKEND_AUTH
    │   └── BackendRejected         the backend refused the request itself (4xx, validation):
    │                               BACKEND_REJECTED, with the backend's own code and message
    ├── NotFound                    a named entity does not exist (or may not be seen): NOT_FOUND
    └── InvalidInput                the caller's arguments are wrong: BAD_USER_INPUT

`code` is what reaches clients as `extensions.code`; `system` names the backing system
("crm" or "scm"). Messages say what, where and what next, and never carry secrets.
Anything not derived from CrossdockError is unexpected: the gateway masks it for clients
("Unexpected error.") and logs it with the request id.
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
        **extensions: Any,
    ) -> None:
        super().__init__(message, system=system, **extensions)
        self.system = system
        self.status = status
        self.backend_code = backend_code
        if backend_code is not None:
            self.extensions["backendCode"] = backend_code


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
