"""What every counter flow of the simulated HIS shares (收费流程公共部分): the HIS's price list
(the shipped demo catalogue, 目录对照), the patient and visit records, the HIS's clock, calling
the national interface with Decimal amounts, 1101 lookup, picking fee lines and summing a 2204
split."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from yibao.client import NhsaClient, NhsaError, NhsaResponse
from yibao.clock import CHINA

CATALOG_DIR = Path(__file__).resolve().parents[3] / "catalogs"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One price-list entry of the HIS (national code, name, list type, price in yuan)."""

    med_list_codg: str
    name: str
    list_type: str
    pric: Decimal
    prcunt: str = ""  # 计价单位 (片, 粒, 支, 次, g …)


@cache
def province_items(admdvs: str) -> tuple[CatalogItem, ...]:
    """Items of the province catalogue of ``admdvs`` (demo catalogue files)."""
    prefix = admdvs[:2] + "0000"
    folder = next((p for p in CATALOG_DIR.glob(f"{prefix}-*") if p.is_dir()), None)
    if folder is None:
        return ()
    out = []
    with open(folder / "items.csv", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            if (r.get("action") or "") not in ("", "add") or not r.get("pric"):
                continue
            out.append(
                CatalogItem(
                    r["med_list_codg"],
                    r["name"],
                    r["list_type"],
                    Decimal(r["pric"]),
                    (r.get("prcunt") or "").strip(),
                )
            )
    return tuple(out)


@dataclass(slots=True)
class Patient:
    """The HIS's view of an insured person after 1101."""

    psn_no: str
    insutype: str
    insuplc_admdvs: str
    psn_name: str
    certno: str
    mdtrt_cert_type: str = "02"
    mdtrt_cert_no: str = ""


@dataclass(slots=True)
class Visit:
    """What one encounter produced: every call made, and the settlement (if any)."""

    kind: str
    calls: list[NhsaResponse] = field(default_factory=list)
    mdtrt_id: str = ""
    setl_id: str = ""
    settle_msgid: str = ""
    setlinfo: dict[str, Any] = field(default_factory=dict)


def parse(r: NhsaResponse) -> dict[str, Any]:
    """The response envelope with exact decimals."""
    data = json.loads(r.body, parse_float=Decimal)
    return data if isinstance(data, dict) else {}


def ok(r: NhsaResponse) -> dict[str, Any]:
    """The ``output`` of a successful answer; raises :class:`NhsaError` otherwise."""
    data = parse(r)
    if r.status_code != 200 or str(data.get("infcode")) != "0":
        raise NhsaError(r.infno, str(data.get("err_msg") or data.get("message") or r.status_code))
    out = data.get("output") or {}
    return out if isinstance(out, dict) else {}


def plain(value: Any) -> Any:
    """Decimals as strings (the interface accepts amounts as numeric strings)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def call(
    client: NhsaClient, infno: str, input: dict[str, Any], *, insuplc_admdvs: str = ""
) -> NhsaResponse:
    """One national-interface call with Decimal amounts sent as numeric strings."""
    return client.call(infno, plain(input), insuplc_admdvs=insuplc_admdvs)


#: The HIS's wall clock (None: real time); the demo seeder sets it per thread to play past days.
his_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("his_clock", default=None)


def his_now() -> datetime:
    """The HIS's current time in China time (:data:`his_clock`, else the real clock)."""
    clock = his_clock.get()
    return (clock() if clock is not None else datetime.now(UTC)).astimezone(CHINA)


def now_text(at: datetime | None = None) -> str:
    return f"{(at or his_now()):%Y-%m-%d %H:%M:%S}"


def lookup(client: NhsaClient, certno: str, *, cert_type: str = "02", token: str = "") -> Patient:
    """1101 by ID number (02) or by e-voucher ecToken (01); picks the main insurance row."""
    r = call(
        client,
        "1101",
        {
            "data": {
                "mdtrt_cert_type": cert_type,
                "mdtrt_cert_no": token if cert_type == "01" else certno,
                "card_sn": "",
                "begntime": "",
                "psn_cert_type": "01",
                "certno": certno,
                "psn_name": "",
            }
        },
    )
    out = ok(r)
    base = out["baseinfo"]
    rows = [i for i in out["insuinfo"] if i["insutype"] in ("310", "390")] or out["insuinfo"]
    main = rows[0]
    return Patient(
        psn_no=base["psn_no"],
        insutype=main["insutype"],
        insuplc_admdvs=main["insuplc_admdvs"],
        psn_name=base["psn_name"],
        certno=base["certno"],
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=token if cert_type == "01" else base["certno"],
    )


def pick_lines(
    rng: random.Random,
    admdvs: str,
    n: int,
    *,
    list_types: Sequence[str] = (),
    max_pric: Decimal | None = Decimal(300),
) -> list[dict[str, Any]]:
    """``n`` fee lines from the demo catalogue (price × quantity, amounts to the fen); items
    dearer than ``max_pric`` are left out (outpatient/pharmacy), dear items come once."""
    pool = [
        i
        for i in province_items(admdvs)
        if (not list_types or i.list_type in list_types)
        and (max_pric is None or i.pric <= max_pric)
    ]
    lines = []
    for k, item in enumerate(rng.sample(pool, min(n, len(pool)))):
        cnt = Decimal(rng.choice((1, 1, 2, 3, 6, 10, 20)) if item.pric < 20 else 1)
        amt = (item.pric * cnt).quantize(CENT, rounding=ROUND_HALF_UP)
        if amt <= 0:
            cnt, amt = Decimal(100), (item.pric * 100).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            {
                "feedetl_sn": f"{k + 1:04d}",
                "med_list_codg": item.med_list_codg,
                "medins_list_codg": f"HIS{k + 1:04d}",
                "det_item_fee_sumamt": amt,
                "cnt": cnt,
                "pric": item.pric,
                "rx_circ_flag": "0",
                "hosp_appr_flag": "1",
                "bilg_dept_codg": "A01",
                "bilg_dept_name": "内科",
                "bilg_dr_codg": "D001",
                "bilg_dr_name": "王医生",
            }
        )
    return lines


def column_sum(rows: Sequence[dict[str, Any]], key: str) -> Decimal:
    """The sum of one amount column of interface rows (numbers or numeric strings)."""
    return sum((Decimal(str(r[key])) for r in rows), Decimal("0.00"))


def split_totals(result: Sequence[dict[str, Any]]) -> dict[str, Decimal]:
    """The four amounts of 2207/2304 as sums of the 2204/2301 split (§2.6)."""
    return {
        "medfee_sumamt": column_sum(result, "det_item_fee_sumamt"),
        "fulamt_ownpay_amt": column_sum(result, "fulamt_ownpay_amt"),
        "overlmt_selfpay": column_sum(result, "overlmt_amt"),
        "preselfpay_amt": column_sum(result, "preselfpay_amt"),
        "inscp_scp_amt": column_sum(result, "inscp_scp_amt"),
    }
