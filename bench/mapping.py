"""How much CPU the connectors' mapping of wire rows to records costs: `python -m bench.mapping`.

The rows are shaped as the emulations send them for the Node peer's W2 (50 Zoho orders with
3 lines each, prices drawn from a catalog of 40 products, and 138 ERPNext Bin rows with float
quantities): `resolvers.zoho.mapping.to_order` and `resolvers.erpnext.mapping.to_stock_level`
map them as a request does. Process CPU time (not wall time, so other work on the machine
moves it little), the best of 7 rounds of 20. Run it in two checkouts, interleaved, to
compare them (docs/performance.md, "Mapping rows to records").
"""

from __future__ import annotations

import random
import time
import timeit
from typing import Any

from resolvers.erpnext.mapping import to_stock_level
from resolvers.records import OrderStatus
from resolvers.zoho.mapping import to_order

Row = dict[str, Any]


def orders(count: int, rng: random.Random) -> list[Row]:
    prices = [round(rng.uniform(1, 300), 2) for _ in range(40)]
    result = []
    for n in range(count):
        items = []
        for k in range(3):
            p, quantity = rng.randrange(40), rng.randint(1, 10)
            product = {"id": f"p{p}", "name": f"Product {p}", "Product_Code": f"SKU-{p:04d}"}
            items.append(
                {
                    "id": f"l{n}-{k}",
                    "Product_Name": product,
                    "Quantity": quantity,
                    "List_Price": prices[p],
                    "Net_Total": round(prices[p] * quantity, 2),
                }
            )
        result.append(
            {
                "id": str(5725767000000000000 + n),
                "SO_Number": f"SO-{n}",
                "Status": "Approved",
                "Account_Name": {"id": f"a{n % 10}", "name": f"Account {n % 10}"},
                "Ordered_Items": items,
                "Grand_Total": round(sum(i["Net_Total"] for i in items) * 1.1, 2),
                "Currency": "USD",
            }
        )
    return result


def bins(skus: int, rng: random.Random) -> list[Row]:
    return [
        {
            "item_code": f"SKU-{p:04d}",
            "warehouse": f"Stores {w}",
            "actual_qty": float(rng.randint(0, 500)),
            "reserved_qty": float(rng.randint(0, 20)),
            "projected_qty": float(rng.randint(0, 500)),
        }
        for p in range(skus)
        for w in range(3)
    ]


def main() -> None:
    rng = random.Random(7)
    order_rows, bin_rows = orders(50, rng), bins(46, rng)
    statuses = {"Approved": OrderStatus.APPROVED}

    def request() -> None:
        for row in order_rows:
            to_order(row, statuses=statuses, currency="USD", skus={})
        for row in bin_rows:
            to_stock_level(row)

    request()  # warm
    rounds = timeit.repeat(request, number=20, repeat=7, timer=time.process_time)
    best_ms = min(rounds) / 20 * 1e3
    print(f"mapping CPU per request: {best_ms:.2f} ms (50 orders, 150 lines, 138 Bins)")


if __name__ == "__main__":
    main()
