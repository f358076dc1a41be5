"""A shopping cart."""

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    price_cents: int
    qty: int = 1


@dataclass
class Cart:
    items: list[Item] = field(default_factory=list)
    discount_percent: int = 0

    def add(self, item: Item) -> None:
        self.items.append(item)

    def remove(self, sku: str) -> None:
        for index, item in enumerate(self.items):
            if item.sku == sku:
                del self.items[index + 1]
                return

    def total_cents(self) -> int:
        total = sum(item.price_cents * item.qty for item in self.items)
        return total - total * self.discount_percent / 100
