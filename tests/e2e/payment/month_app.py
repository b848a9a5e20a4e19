"""A Yibao app whose national-interface gateway runs on a business clock in a past month
(test-only), so a month of inpatient settlements can be played and then cleared at year end.

Started by the payment e2e test as ``tests.e2e.payment.month_app:month_app``: the production app
(``app_from_env``) with its gateway instance replaced by one whose clock starts at
``YIBAO_TEST_BUSINESS_START`` (ISO date-time with offset) and runs with the real clock from the
moment the app is built. Production code carries no such switch.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from fastapi import FastAPI

from yibao.api.app import app_from_env
from yibao.api.nhsa.pipeline import Gateway


class ShiftedClock:
    """Business time = ``start`` + real time elapsed since construction."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def month_app() -> FastAPI:
    app = app_from_env()
    start = datetime.fromisoformat(os.environ["YIBAO_TEST_BUSINESS_START"])
    app.state.nhsa_gateway = Gateway(app.state.engine, clock=ShiftedClock(start))
    return app
