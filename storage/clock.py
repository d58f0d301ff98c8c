"""Unix time in whole seconds: every timestamp column uses it."""

import time


def now() -> int:
    return int(time.time())
