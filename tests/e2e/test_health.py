"""The app answers over real HTTP on a real server."""

import httpx


def test_healthz(live_server: str) -> None:
    r = httpx.get(f"{live_server}/healthz", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
