"""`python -m gateway ...` runs the crossdock CLI."""

from __future__ import annotations

import sys

from gateway.cli import main

sys.exit(main())
