import json
from pathlib import Path


def load_all(folder: Path) -> dict:
    merged = {}
    for path in sorted(folder.glob("*.json")):
        handle = open(path, encoding="utf-8")
        merged.update(json.load(handle))
    return merged
