"""`crossdock sdl`: print the schema the gateway serves, plain or as a federation subgraph.

    crossdock sdl                           the standalone graph (what introspection shows)
    crossdock sdl --federation              the Federation v2 subgraph SDL (`_service { sdl }`)
    crossdock sdl --config crossdock.toml   the roots that configuration serves

Without `--config` the roots are the demo's: the order process and subscriptions on. It needs
no backend and no secret: the SDL is built from the code alone.
"""

from __future__ import annotations

import argparse
from typing import Any

from gateway.settings import load_settings
from schema.build import CrossdockSchema, build_schema
from schema.root import Mutation, Query, QueryWithOrderProcess
from schema.subscriptions import Subscription


def served_schema(*, order_process: bool, subscriptions: bool, federation: bool) -> CrossdockSchema:
    """The schema with the roots the gateway serves for those features."""
    return build_schema(
        query=QueryWithOrderProcess if order_process else Query,
        mutation=Mutation if order_process else None,
        subscription=Subscription if subscriptions else None,
        federation=federation,
    )


def _run_sdl(args: argparse.Namespace) -> int:
    order_process = subscriptions = True
    federation = bool(args.federation)
    if args.config:
        settings = load_settings(args.config)
        order_process = settings.saga.enabled
        subscriptions = settings.subscriptions.enabled
        federation = federation or settings.graphql.federation
    schema = served_schema(
        order_process=order_process, subscriptions=subscriptions, federation=federation
    )
    print(schema.sdl())
    return 0


def add_sdl(sub: Any) -> None:
    p = sub.add_parser("sdl", help="print the schema's SDL (--federation: the subgraph SDL)")
    p.add_argument(
        "--federation", action="store_true", help="the Apollo Federation v2 subgraph SDL"
    )
    p.add_argument("--config", metavar="FILE", help="the roots this configuration serves")
    p.set_defaults(run=_run_sdl)
