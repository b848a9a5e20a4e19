"""Cross-province relay (跨省异地就医结算中转): messages, signatures and states. Pure.

Three roles, all of them Yibao deployments speaking HTTP:

- the treatment-side deployment (就医地) relays a settlement request for an insured person of
  another province (``insuplc_admdvs[:2]`` ≠ its province) to the hub;
- the hub (国家/跨省结算中转) forwards it to the deployment of the insured person's province and
  keeps a relay record per ``relay_id``;
- the insured-side deployment (参保地) computes the split with its own policy, filings and
  accumulators, records it, and answers.

``relay_id`` is the one id that follows the settlement end to end (recommended: the HIS's
settlement ``msgid``, which starts with the institution code and is unique). Every hop is
idempotent on it; a reversal (冲正) with the same id undoes whatever was done, and a settle that
arrives after its reversal is refused, so a settlement succeeds or fails as a whole.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from yibao.settlement.model import Item, ItemSplit

# relay states (hub and treatment side)
PENDING = "pending"  # sent, outcome not known yet (a timeout leaves it here until reversed)
SETTLED = "settled"
REFUSED = "refused"  # the insured side refused it (nothing recorded there)
REVERSED = "reversed"  # 冲正: undone (or never done) on the insured side
PRICED = "priced"  # a dry run (预结算): computed by the insured side, nothing recorded anywhere

HEADER_NODE = "X-Yibao-Hub-Node"
HEADER_TIME = "X-Yibao-Hub-Timestamp"
HEADER_SIG = "X-Yibao-Hub-Signature"
MAX_SKEW_SECONDS = 300


class RelayError(Exception):
    """A relay that could not be done; ``uncertain`` when the insured side's state is unknown."""

    def __init__(self, message: str, *, uncertain: bool = False, key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.uncertain = uncertain
        self.key = key  # the insured side's error key when it gave one (e.g. EC_TOKEN_WRONG_ORG)


def province(admdvs: str) -> str:
    """The province of a region code (first two digits)."""
    return admdvs[:2]


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The JSON bytes that are signed and hashed (sorted keys, no spaces, UTF-8)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``METHOD\\npath\\ntimestamp\\nsha256(body)`` (hex)."""
    msg = "\n".join((method.upper(), path, timestamp, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def signature_ok(
    secret: str, method: str, path: str, timestamp: str, body: bytes, given: str, now: int
) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > MAX_SKEW_SECONDS:
        return False
    expected = signature(secret, method, path, timestamp, body)
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def item_to_json(i: Item) -> dict[str, Any]:
    return {
        "feedetl_sn": i.feedetl_sn,
        "med_list_codg": i.med_list_codg,
        "name": i.name,
        "list_type": i.list_type,
        "chrgitm_lv": i.chrgitm_lv,
        "med_chrgitm_type": i.med_chrgitm_type,
        "det_item_fee_sumamt": i.det_item_fee_sumamt,
        "cnt": str(i.cnt),
        "pric": str(i.pric),
        "selfpay_prop": str(i.selfpay_prop),
        "pric_uplmt_amt": i.pric_uplmt_amt,
        "lmt_used_flag": i.lmt_used_flag,
        "hosp_appr_flag": i.hosp_appr_flag,
        "hi_nego_drug_flag": i.hi_nego_drug_flag,
        "vol_procurement_flag": i.vol_procurement_flag,
        "in_catalog": i.in_catalog,
    }


def item_from_json(d: Mapping[str, Any], n: int) -> Item:
    where = f"items[{n}]"
    amount = d.get("det_item_fee_sumamt")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"{where}.det_item_fee_sumamt: 须为整数分")
    limit = d.get("pric_uplmt_amt")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValueError(f"{where}.pric_uplmt_amt: 须为整数分或 null")
    try:
        return Item(
            feedetl_sn=str(d["feedetl_sn"]),
            med_list_codg=str(d["med_list_codg"]),
            name=str(d.get("name", "")),
            list_type=str(d.get("list_type", "")),
            chrgitm_lv=str(d["chrgitm_lv"]),
            med_chrgitm_type=str(d.get("med_chrgitm_type", "")),
            det_item_fee_sumamt=amount,
            cnt=Decimal(str(d.get("cnt", "1"))),
            pric=Decimal(str(d.get("pric", "0"))),
            selfpay_prop=Decimal(str(d.get("selfpay_prop", "0"))),
            pric_uplmt_amt=limit,
            lmt_used_flag=str(d.get("lmt_used_flag", "0")),
            hosp_appr_flag=str(d.get("hosp_appr_flag", "0")),
            hi_nego_drug_flag=str(d.get("hi_nego_drug_flag", "0")),
            vol_procurement_flag=str(d.get("vol_procurement_flag", "0")),
            in_catalog=bool(d.get("in_catalog", True)),
        )
    except KeyError as e:
        raise ValueError(f"{where}.{e.args[0]}: 必填") from None
    except ArithmeticError:
        raise ValueError(f"{where}: cnt/pric/selfpay_prop 须为数字") from None


def split_to_json(s: ItemSplit) -> dict[str, Any]:
    return {
        "feedetl_sn": s.feedetl_sn,
        "det_item_fee_sumamt": s.det_item_fee_sumamt,
        "cnt": str(s.cnt),
        "pric": str(s.pric),
        "pric_uplmt_amt": s.pric_uplmt_amt,
        "selfpay_prop": str(s.selfpay_prop),
        "fulamt_ownpay_amt": s.fulamt_ownpay_amt,
        "overlmt_amt": s.overlmt_amt,
        "preselfpay_amt": s.preselfpay_amt,
        "inscp_scp_amt": s.inscp_scp_amt,
        "chrgitm_lv": s.chrgitm_lv,
        "med_chrgitm_type": s.med_chrgitm_type,
        "lmt_used_flag": s.lmt_used_flag,
        "hi_nego_drug_flag": s.hi_nego_drug_flag,
        "memo": s.memo,
    }


@dataclass(frozen=True, slots=True)
class RelayRequest:
    """A cross-province settlement request (跨省结算请求) as the treatment side sends it."""

    relay_id: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    fixmedins_code: str
    fixmedins_name: str
    hosp_lv: str
    psn_cert_type: str
    certno: str
    psn_name: str
    insutype: str
    med_type: str
    begndate: date
    items: tuple[Item, ...]
    enddate: date | None = None
    emergency: bool = False
    acct_used_flag: str = "0"
    dise_codg: str | None = None
    mid_setl: bool = False  # 中途结算 (2304 mid_setl_flag=1): the stay goes on after it

    def to_json(self) -> dict[str, Any]:
        return {
            "relay_id": self.relay_id,
            "insuplc_admdvs": self.insuplc_admdvs,
            "mdtrtarea_admvs": self.mdtrtarea_admvs,
            "fixmedins_code": self.fixmedins_code,
            "fixmedins_name": self.fixmedins_name,
            "hosp_lv": self.hosp_lv,
            "psn_cert_type": self.psn_cert_type,
            "certno": self.certno,
            "psn_name": self.psn_name,
            "insutype": self.insutype,
            "med_type": self.med_type,
            "begndate": self.begndate.isoformat(),
            "enddate": self.enddate.isoformat() if self.enddate else None,
            "emergency": self.emergency,
            "acct_used_flag": self.acct_used_flag,
            "dise_codg": self.dise_codg,
            "mid_setl": self.mid_setl,
            "items": [item_to_json(i) for i in self.items],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RelayRequest:
        """Parse and check a request; ``ValueError`` names the field."""
        for name in ("relay_id", "insuplc_admdvs", "mdtrtarea_admvs", "fixmedins_code",
                     "certno", "insutype", "med_type", "begndate"):  # fmt: skip
            if not isinstance(d.get(name), str) or not d[name]:
                raise ValueError(f"{name}: 必填（字符串）")
        for name in ("insuplc_admdvs", "mdtrtarea_admvs"):
            if not (len(d[name]) == 6 and d[name].isdigit()):
                raise ValueError(f"{name}: 须为6位医保区划代码")
        if len(d["relay_id"]) > 64:
            raise ValueError("relay_id: 最长64个字符")
        if province(d["insuplc_admdvs"]) == province(d["mdtrtarea_admvs"]):
            raise ValueError("insuplc_admdvs: 参保地与就医地在同一省，不属于跨省结算")
        items = d.get("items")
        if not isinstance(items, list) or not items:
            raise ValueError("items: 费用明细不能为空")
        try:
            begn = date.fromisoformat(d["begndate"])
            end = date.fromisoformat(d["enddate"]) if d.get("enddate") else None
        except ValueError:
            raise ValueError("begndate/enddate: 日期格式须为 yyyy-MM-dd") from None
        return cls(
            relay_id=d["relay_id"],
            insuplc_admdvs=d["insuplc_admdvs"],
            mdtrtarea_admvs=d["mdtrtarea_admvs"],
            fixmedins_code=d["fixmedins_code"],
            fixmedins_name=str(d.get("fixmedins_name", "")),
            hosp_lv=str(d.get("hosp_lv", "")),
            psn_cert_type=str(d.get("psn_cert_type", "01")),
            certno=d["certno"],
            psn_name=str(d.get("psn_name", "")),
            insutype=d["insutype"],
            med_type=d["med_type"],
            begndate=begn,
            enddate=end,
            emergency=bool(d.get("emergency", False)),
            acct_used_flag=str(d.get("acct_used_flag", "0")),
            dise_codg=d.get("dise_codg") or None,
            mid_setl=bool(d.get("mid_setl", False)),
            items=tuple(item_from_json(x, n) for n, x in enumerate(items)),
        )
