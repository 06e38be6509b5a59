"""`gateway.tokens`: where tools that mint tokens import `mint` from (the peer bench's runner,
operators' scripts). The code moved to `gateway.auth.tokens` with the authentication package;
this name stays importable because external callers depend on it."""

from gateway.auth.tokens import mint, parse_ttl

__all__ = ["mint", "parse_ttl"]
