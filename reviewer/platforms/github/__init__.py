"""GitHub pull requests: only what is GitHub's own (environment, API client, posting quirks).

The decisions every platform shares live in reviewer.platforms (the publishing pipeline).
"""
