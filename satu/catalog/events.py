from dataclasses import dataclass


@dataclass(frozen=True)
class ProductCreated:
    product_id: int


@dataclass(frozen=True)
class ProductArchived:
    product_id: int
    archived: bool


@dataclass(frozen=True)
class PricesChanged:
    """Items of a price list were added, changed or removed."""

    price_list_id: int
