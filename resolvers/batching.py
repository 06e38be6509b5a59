"""Splitting key sets into as few backend calls as each system allows.

A batch is bounded by a count (Zoho's 100 `ids=`/`in` values) and by a size budget (Zoho's
3,000-character criteria, a URL that proxies will accept), so long keys never overflow a
limit that short test keys would never reach. Duplicate keys are fetched once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def batches(
    keys: Sequence[str], *, size: int, budget: int, cost: Callable[[str], int] = len
) -> list[list[str]]:
    """Unique keys in order, cut into runs of at most `size` keys and `budget` total cost."""
    result: list[list[str]] = []
    current: list[str] = []
    spent = 0
    for key in dict.fromkeys(keys):
        price = cost(key) + 1  # the separator
        if current and (len(current) >= size or spent + price > budget):
            result.append(current)
            current, spent = [], 0
        current.append(key)
        spent += price
    if current:
        result.append(current)
    return result
