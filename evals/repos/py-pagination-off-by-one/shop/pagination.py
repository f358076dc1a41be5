"""Split a result list into pages for the API."""


def page(items, number, size=20):
    """Items of page `number` (1-based)."""
    if number < 1 or size < 1:
        raise ValueError("page and size start at 1")
    start = (number - 1) * size
    end = start + size - 1
    return items[start:end]


def page_count(total, size=20):
    return (total + size - 1) // size
