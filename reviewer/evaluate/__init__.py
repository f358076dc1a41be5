"""`ai-review eval`: run the normal review over cases with known answers and measure it.

cases (load and check a cases file) ─► runner (review every case per variant, through a
recording or replaying gateway) ─► matching (location gate, judge, one-to-one) ─► metrics
(precision, recall, F1, F0.5, cost, latency per variant) ─► report (text, json, markdown).
"""
