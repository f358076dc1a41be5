"""GitLab merge requests: only what is GitLab's own (environment, API client, positions).

The decisions every platform shares live in reviewer.platforms (the publishing pipeline).
"""
