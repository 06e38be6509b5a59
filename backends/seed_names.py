"""The seed generator's vocabulary: word lists, places, carriers, and the records it plans with.

The plan records (`Account`, `Product`, `Line`, `Order`) are mutable working state of one
`seed()` run: the CRM writer fills in the ids Zoho assigns, the ERP writer the mirror names.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

T = TypeVar("T")
CHUNK = 2_000
COMPANY, ABBR = "Acme Corp", "AC"
GROUP_WAREHOUSE = "All Warehouses - AC"
LEAF_WAREHOUSES = ("Stores - AC", "Finished Goods - AC", "Transit Hub - AC")
UNMATCHED_SKU = "SKU-00999"
MISMATCH_SHIPMENT = "SHIPMENT-00001"
ORPHAN_CUSTOMER = "Lost Horizon Imports Ltd"
ORPHAN_ACCOUNT_ID = "5725767000999999999"
EUR_PER_USD = Decimal("0.92")
TAX_RATE = {"USD": Decimal("0.08"), "EUR": Decimal("0.19")}


@dataclass(frozen=True)
class Place:
    """A city with the address parts both systems store (country as a full name, as Zoho does)."""

    city: str
    state: str
    postcode: str
    country: str
    currency: str
    phone_prefix: str


PLACES: tuple[Place, ...] = (
    Place("Hamburg", "Hamburg", "20095", "Germany", "EUR", "+49 40"),
    Place("Munich", "Bavaria", "80331", "Germany", "EUR", "+49 89"),
    Place("Berlin", "Berlin", "10115", "Germany", "EUR", "+49 30"),
    Place("Lyon", "Auvergne-Rhône-Alpes", "69001", "France", "EUR", "+33 4"),
    Place("Paris", "Île-de-France", "75002", "France", "EUR", "+33 1"),
    Place("Rotterdam", "South Holland", "3011", "Netherlands", "EUR", "+31 10"),
    Place("Milan", "Lombardy", "20121", "Italy", "EUR", "+39 02"),
    Place("Madrid", "Madrid", "28013", "Spain", "EUR", "+34 91"),
    Place("Chicago", "IL", "60601", "United States", "USD", "+1 312"),
    Place("Austin", "TX", "73301", "United States", "USD", "+1 512"),
    Place("Seattle", "WA", "98101", "United States", "USD", "+1 206"),
    Place("Newark", "NJ", "07102", "United States", "USD", "+1 973"),
    Place("Toronto", "ON", "M5H 2N2", "Canada", "USD", "+1 416"),
    Place("Pune", "Maharashtra", "411001", "India", "USD", "+91 20"),
    Place("Bengaluru", "Karnataka", "560001", "India", "USD", "+91 80"),
    Place("Osaka", "Osaka", "530-0001", "Japan", "USD", "+81 6"),
    Place("Yokohama", "Kanagawa", "220-0011", "Japan", "USD", "+81 45"),
    Place("Singapore", "Singapore", "018989", "Singapore", "USD", "+65"),
    Place("Sydney", "NSW", "2000", "Australia", "USD", "+61 2"),
    Place("São Paulo", "SP", "01310-100", "Brazil", "USD", "+55 11"),
)

_NAME_HEADS = (
    "Alder", "Baltic", "Beacon", "Birch", "Blue Harbor", "Cedar", "Cobalt", "Copper", "Delta",
    "Evergreen", "Falcon", "Granite", "Harbor", "Ironwood", "Juniper", "Keystone", "Lakeside",
    "Maple", "Meridian", "Northwind", "Oakridge", "Pioneer", "Quarry", "Redwood", "Riverbend",
    "Saffron", "Silverline", "Summit", "Tidewater", "Union", "Vantage", "Westfield", "Zenith",
)  # fmt: skip
_NAME_TRADES = (
    "Logistics", "Manufacturing", "Retail", "Foods", "Engineering", "Supply", "Electronics",
    "Hardware", "Packaging", "Distribution", "Industries", "Trading", "Machinery", "Pharma",
)  # fmt: skip
_NAME_FORMS = ("GmbH", "Inc.", "Ltd", "SARL", "S.p.A.", "Pvt Ltd", "K.K.", "LLC", "B.V.", "Co.")
INDUSTRIES = (
    "Manufacturing", "Retail", "Distribution", "Food & Beverage", "Automotive",
    "Electronics", "Healthcare", "Construction", "Consumer Goods", "Chemicals",
)  # fmt: skip
_STREETS = (
    "Harbour Road", "Industriestraße", "Rue de la Gare", "Main Street", "Station Road",
    "Canal Street", "Market Square", "Mill Lane", "Dock Avenue", "Park Boulevard",
)  # fmt: skip
FIRST_NAMES = (
    "Anna", "Ben", "Chloé", "David", "Elena", "Farah", "Georg", "Hana", "Ivan", "Julia",
    "Kenji", "Lena", "Marco", "Nina", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "García", "Hoffmann",
    "Ito", "Jensen", "Kumar", "Laurent", "Müller", "Novak", "Okafor", "Patel", "Rossi",
    "Schmidt", "Tanaka", "Weber",
)  # fmt: skip

_MATERIALS = ("Steel", "Aluminium", "Oak", "Polymer", "Carbon", "Copper", "Nylon", "Glass")
_THINGS = (
    ("Pallet Jack", "Equipment"), ("Shelf Unit", "Storage"), ("Tote Bin", "Storage"),
    ("Hand Truck", "Equipment"), ("Label Printer", "Electronics"), ("Barcode Scanner",
    "Electronics"), ("Stretch Wrap", "Packaging"), ("Carton Sealer", "Packaging"),
    ("Safety Gate", "Safety"), ("Work Bench", "Equipment"), ("Cable Reel", "Electronics"),
    ("Strapping Kit", "Packaging"), ("Hard Hat", "Safety"), ("Dock Bumper", "Safety"),
)  # fmt: skip
USAGE_UNITS = ("Each", "Box", "Pack", "Pieces")

# Carrier → (services, AWB maker, tracking URL template). AWB shapes follow each carrier's format.
CARRIERS: dict[str, tuple[tuple[str, ...], str]] = {
    "DHL": (
        ("Express Worldwide", "Paket"),
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={awb}",
    ),
    "UPS": (("Standard", "Express Saver"), "https://www.ups.com/track?tracknum={awb}"),
    "FedEx": (
        ("International Priority", "Ground"),
        "https://www.fedex.com/fedextrack/?trknbr={awb}",
    ),
    "DPD": (("Classic", "Express"), "https://tracking.dpd.de/status/en_US/parcel/{awb}"),
}


def company_name(rng: random.Random) -> str:
    form = _NAME_FORMS[rng.randrange(len(_NAME_FORMS))]
    return f"{rng.choice(_NAME_HEADS)} {rng.choice(_NAME_TRADES)} {form}"


def street(rng: random.Random) -> str:
    return f"{rng.randint(1, 240)} {rng.choice(_STREETS)}"


def phone(rng: random.Random, place: Place) -> str:
    return f"{place.phone_prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def product_name(rng: random.Random, number: int) -> tuple[str, str]:
    """A product name (unique through its model number) and its category."""
    thing, category = _THINGS[number % len(_THINGS)]
    return f"{rng.choice(_MATERIALS)} {thing} M{number:03d}", category


def awb_number(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    digits = {"DHL": 10, "FedEx": 12, "DPD": 14}[carrier]
    return str(rng.randrange(10 ** (digits - 1), 10**digits))


def money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Account:
    number: int
    id: str
    name: str
    place: Place
    created: datetime
    industry: str
    contact_id: str = ""
    contact_name: str = ""
    street: str = ""  # the CRM's street, which the ERP's customer address repeats

    @property
    def currency(self) -> str:
        return self.place.currency

    @property
    def domain(self) -> str:
        return "".join(c for c in self.name.split()[0].lower() if c.isalnum()) + ".example"

    def price_of(self, product: Product) -> Decimal:
        rate = EUR_PER_USD if self.currency == "EUR" else Decimal(1)
        return money(product.price * rate)


@dataclass
class Product:
    sku: str
    name: str
    category: str
    price: Decimal
    unit: str
    id: str = ""


@dataclass
class Line:
    product: Product
    qty: int
    rate: Decimal
    delivered: int = 0
    row: str = ""

    @property
    def amount(self) -> Decimal:
        return self.rate * self.qty


@dataclass
class Order:
    number: int
    external_ref: str
    status: str
    account: Account
    lines: list[Line]
    created: datetime
    modified: datetime
    warehouse: str
    id: str = ""
    mirror: str = ""

    @property
    def due(self) -> datetime:
        return self.created + timedelta(days=14)

    @property
    def sub_total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return money(self.sub_total * TAX_RATE[self.account.currency])

    @property
    def grand_total(self) -> Decimal:
        return self.sub_total + self.tax


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """Slices of at most CHUNK items, so big loads go to SQLite in bounded batches."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
