def average(values):
    """Mean of the values; 0.0 for no values."""
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


def spread(values):
    return max(values) - min(values) if values else 0.0
