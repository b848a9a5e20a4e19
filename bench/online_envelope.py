"""CPU per call of the online centres' envelope (SM4 + SM3withSM2): seal, open, and the SM2 parts.

    .venv/bin/python bench/online_envelope.py [rounds]

Prints CPU milliseconds per operation (process time, best of three rounds) and calls per second
of one core. Taken on a shared, busy machine the figures are indicative only.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from yibao.online.envelope import (
    DEFAULT_UID,
    Keys,
    keypair_from_seed,
    open_envelope,
    seal,
    sm2_sign,
    sm2_verify,
)


def best(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(3):
        t = time.process_time()
        for _ in range(rounds):
            fn()
        times.append((time.process_time() - t) / rounds)
    return min(times) * 1000


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    inst, plat = keypair_from_seed(b"bench-inst"), keypair_from_seed(b"bench-plat")
    client = Keys("MPH440300000010000", "bench-secret-0123456789", inst[0], plat[1])
    server = Keys(client.app_id, client.app_secret, plat[0], inst[1])
    now = datetime.now(UTC)
    data = {"payOrdId": "MP202612030930001234567890", "orgCodg": "H44030000001", "feeSumamt": Decimal("123.45"),
            "feedetailList": [{"feedetlSn": f"{i:04d}", "pric": Decimal("12.5"), "cnt": Decimal(2)} for i in range(10)]}  # fmt: skip
    env = seal(client, data, now)
    msg = b"x" * 600
    sig = sm2_sign(inst[0], msg)
    rows = [
        ("seal (SM4 + SM2 sign)", best(lambda: seal(client, data, now), rounds)),
        ("open (SM4 + SM2 verify)", best(lambda: open_envelope(server, env, now), rounds)),
        ("SM2 sign, 600 bytes", best(lambda: sm2_sign(inst[0], msg), rounds)),
        (
            "SM2 verify, 600 bytes",
            best(lambda: sm2_verify(inst[1], msg, sig, (DEFAULT_UID,)), rounds),
        ),
    ]
    print("operation                       CPU ms/op   ops/s (one core)")
    for name, ms in rows:
        print(f"{name:30s} {ms:9.2f}   {1000 / ms:8.1f}")
    print("A 6xxx call costs one open and one seal on the centre: "
          f"{rows[0][1] + rows[1][1]:.1f} ms of CPU for the envelope.")  # fmt: skip


if __name__ == "__main__":
    main()
