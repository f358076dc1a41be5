"""ai-review: AI code review for merge requests, as a step in CI."""

__version__ = "0.1.0"
