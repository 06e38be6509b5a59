"""`crossdock migrate`: apply the shared state's PostgreSQL migrations and say where it stands.

    crossdock migrate --config crossdock.toml     # or CROSSDOCK_POSTGRES_URL / _REDIS_URL

Workers also apply them at start-up (resolvers.state.migrations); this runs them ahead of a
deploy, e.g. from a release job, and prints one line per version applied.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from gateway.settings import SettingsError, load_settings


def run_migrate(args: argparse.Namespace) -> int:
    from psycopg import Error as PostgresError

    from resolvers.state.layer import StateStartError, postgres_pool
    from resolvers.state.migrations import MIGRATIONS, current_version, migrate

    settings = load_settings(args.config, os.environ).state
    if settings.postgres_url is None:
        raise SettingsError(
            "state.postgres_url is not set: the embedded state (SQLite) needs no migration; "
            "set CROSSDOCK_POSTGRES_URL or [state] postgres_url"
        )
    try:
        pool = postgres_pool(settings, migrate=False)
    except StateStartError as exc:
        raise SettingsError(str(exc)) from None
    try:
        with pool.connection() as conn:
            applied = migrate(conn)
            version = current_version(conn)
    except PostgresError as exc:
        raise SettingsError(f"state.postgres_url: migration failed ({exc})") from None
    finally:
        pool.close()
    for migration in applied:
        print(f"applied {migration.version}: {migration.name}")
    latest = MIGRATIONS[-1].version
    print(f"PostgreSQL state schema at version {version} (this release: {latest})")
    return 0


def add_migrate(sub: Any) -> None:
    p = sub.add_parser("migrate", help="apply the shared state's PostgreSQL migrations")
    p.add_argument("--config", metavar="FILE", help="TOML settings file ([state] postgres_url)")
    p.set_defaults(run=run_migrate)
