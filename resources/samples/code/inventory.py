"""Track stock levels for a small warehouse and flag items to reorder."""

from dataclasses import dataclass


@dataclass
class Item:
    sku: str
    name: str
    on_hand: int
    reorder_point: int


def items_to_reorder(items: list[Item]) -> list[Item]:
    """Items whose stock fell to or below their reorder point."""
    return [item for item in items if item.on_hand <= item.reorder_point]


if __name__ == "__main__":
    stock = [Item("A-100", "Bolts M6", 40, 50), Item("B-220", "Washers", 900, 200)]
    for item in items_to_reorder(stock):
        print(f"reorder {item.sku} ({item.name})")
