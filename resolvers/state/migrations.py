"""Versioned PostgreSQL migrations of the shared state, applied in order, each exactly once.

    applied = migrate(connection)      # at start-up of every worker, or `crossdock migrate`

`crossdock_schema_version` records each applied version. Workers starting together take a
transaction-scoped advisory lock first, so one applies and the others find it done. A
migration is never edited once released: a change is a new version appended to MIGRATIONS
(other state, e.g. the sync inbox's, adds its own versions here).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

# pg_advisory_xact_lock key: any constant the deployment does not otherwise use
_LOCK_KEY = 0x43524F5353444B  # "CROSSDK"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "order-process journal with leases",
        """
        CREATE TABLE order_processes (
            id TEXT PRIMARY KEY,
            key_digest TEXT UNIQUE,
            order_digest TEXT,
            status TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            payload BYTEA NOT NULL,
            owner TEXT,
            lease_until TIMESTAMPTZ
        );
        CREATE INDEX order_processes_order ON order_processes (order_digest);
        CREATE INDEX order_processes_status ON order_processes (status, updated_at);
        CREATE TABLE order_steps (
            process_id TEXT NOT NULL REFERENCES order_processes (id),
            seq INTEGER NOT NULL,
            step TEXT NOT NULL,
            phase TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            detail BYTEA,
            PRIMARY KEY (process_id, seq)
        );
        """,
    ),
    Migration(
        2,
        "sync inbox, applied and written versions, watermarks",
        """
        CREATE TABLE sync_inbox (
            id BIGSERIAL PRIMARY KEY,
            key TEXT NOT NULL,
            system TEXT NOT NULL,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            version TEXT,
            vsort TEXT NOT NULL,
            operation TEXT NOT NULL,
            origin TEXT NOT NULL,
            fields TEXT NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            owner TEXT,
            forced INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            finished_at DOUBLE PRECISION
        );
        CREATE UNIQUE INDEX sync_inbox_version ON sync_inbox (key, version)
            WHERE version IS NOT NULL;
        CREATE INDEX sync_inbox_open ON sync_inbox (state, key, vsort);
        CREATE TABLE sync_applied (
            key TEXT PRIMARY KEY, version TEXT NOT NULL, at DOUBLE PRECISION
        );
        CREATE TABLE sync_written (
            key TEXT PRIMARY KEY, version TEXT NOT NULL, fingerprint TEXT NOT NULL,
            at DOUBLE PRECISION
        );
        CREATE TABLE sync_watermarks (
            source TEXT PRIMARY KEY, value TEXT NOT NULL, at DOUBLE PRECISION
        );
        """,
    ),
    Migration(
        3,
        "reconciliation runs, findings, repairs and the shared schedule",
        """
        CREATE TABLE reconcile_runs (
            id BIGSERIAL PRIMARY KEY,
            trigger TEXT NOT NULL,
            categories TEXT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            seconds DOUBLE PRECISION,
            counts TEXT,
            slot TIMESTAMPTZ,
            owner TEXT
        );
        CREATE INDEX reconcile_runs_finished ON reconcile_runs (id) WHERE finished_at IS NOT NULL;
        CREATE TABLE reconcile_findings (
            run_id BIGINT NOT NULL REFERENCES reconcile_runs (id),
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            rule TEXT NOT NULL,
            category TEXT NOT NULL,
            severity INTEGER NOT NULL,
            payload BYTEA NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX reconcile_findings_id ON reconcile_findings (run_id, id);
        CREATE TABLE reconcile_repairs (
            id BIGSERIAL PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            actor TEXT NOT NULL,
            finding_id TEXT NOT NULL,
            rule TEXT NOT NULL,
            status TEXT NOT NULL,
            finished_at TIMESTAMPTZ,
            payload BYTEA
        );
        CREATE TABLE reconcile_schedule (
            name TEXT PRIMARY KEY,
            every_s DOUBLE PRECISION NOT NULL,
            next_due TIMESTAMPTZ NOT NULL,
            owner TEXT,
            lease_until TIMESTAMPTZ,
            fence BIGINT NOT NULL DEFAULT 0
        );
        """,
    ),
)

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS crossdock_schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def migrate(connection: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Apply the migrations this database lacks, in one transaction; returns those applied."""
    applied: list[Migration] = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        connection.execute(_VERSION_TABLE)
        row = connection.execute(
            "SELECT COALESCE(MAX(version), 0) FROM crossdock_schema_version"
        ).fetchone()
        current = int(str(row[0])) if row else 0
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            connection.execute(migration.sql.encode())
            connection.execute(
                "INSERT INTO crossdock_schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration)
    return applied


def current_version(connection: psycopg.Connection[tuple[object, ...]]) -> int:
    """The highest applied version (0: none)."""
    row = connection.execute(
        "SELECT to_regclass('crossdock_schema_version') IS NOT NULL"
    ).fetchone()
    if not row or not row[0]:
        return 0
    found = connection.execute("SELECT COALESCE(MAX(version), 0) FROM crossdock_schema_version")
    value = found.fetchone()
    return int(str(value[0])) if value else 0
