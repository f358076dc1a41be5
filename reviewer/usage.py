"""The argument parser both commands share (`ai-review`, `ai-review stats`).

Its own module so that the stats command does not import the command line that dispatches
to it (no import cycle).
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from reviewer.errors import UsageError


class Parser(argparse.ArgumentParser):
    """argparse whose errors are our one-line usage errors (exit 2), not its usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")
