def total(items):
    """Sum of price times quantity over the order's items."""
    amount = 0
    for item in items:
        amount += item.price * item.quantity
    return amount
