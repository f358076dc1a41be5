import time

import requests


def fetch(url):
    while True:
        try:
            return requests.get(url, timeout=10).json()
        except Exception:
            time.sleep(1)
