"""Where diffs come from and where reviews go: one module per platform, in a plain registry."""
