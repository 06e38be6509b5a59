"""Value types shared by every entity: Money and Address."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from resolvers import records
from resolvers.canonical import with_minor_units


@strawberry.type(description="An amount of money in an ISO 4217 currency.")
class Money:
    amount: Decimal = strawberry.field(description='The amount as a decimal string, "1299.50".')
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. USD.")

    @classmethod
    def of(cls, value: records.Money | None) -> Money | None:
        return None if value is None else cls.required(value)

    @classmethod
    def required(cls, value: records.Money) -> Money:
        return cls(amount=with_minor_units(value.amount, value.currency), currency=value.currency)


@strawberry.type(description="A postal address; country is ISO 3166-1 alpha-2 where known.")
class Address:
    street: str | None = strawberry.field(description="Street and house number.")
    city: str | None = strawberry.field(description="City or town.")
    region: str | None = strawberry.field(description="State, province or region.")
    postal_code: str | None = strawberry.field(description="Postal or ZIP code.")
    country: str | None = strawberry.field(
        description="ISO 3166-1 alpha-2 code where the source name is known, else as given."
    )

    @classmethod
    def of(cls, value: records.Address | None) -> Address | None:
        if value is None:
            return None
        return cls(
            street=value.street,
            city=value.city,
            region=value.region,
            postal_code=value.postal_code,
            country=value.country,
        )
