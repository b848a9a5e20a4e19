"""Settlement amounts (结算金额) in fen, and the mirror of a cancelled settlement. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from yibao.encounter.model import EncounterError

#: setlinfo amount fields (nhsa-interface.md §2.6 表93, plus hifdm_pay from [HN127]), fen
AMOUNT_FIELDS: tuple[str, ...] = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hifdm_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)
#: setldetail amount fields (结算基金分项), fen
DETAIL_AMOUNT_FIELDS: tuple[str, ...] = ("inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt")


def amounts_of(setlinfo: Mapping[str, object]) -> dict[str, int]:
    """The amount fields of ``setlinfo`` as fen (missing → 0); refuses non-integers."""
    out: dict[str, int] = {}
    for name in AMOUNT_FIELDS:
        v = setlinfo.get(name, 0)
        if v is None:
            v = 0
        if isinstance(v, bool) or not isinstance(v, int):
            raise EncounterError(f"setlinfo.{name}: 金额须为整数分，收到 {v!r}")
        out[name] = v
    return out


def check_identities(a: Mapping[str, int]) -> None:
    """The fen-exact identities of DESIGN §5 (and nhsa-interface.md §2.6)."""
    if a["medfee_sumamt"] != a["fund_pay_sumamt"] + a["psn_part_amt"] + a["hosp_part_amt"]:
        raise EncounterError("医疗费总额 ≠ 基金支付总额 + 个人负担总金额 + 医院负担金额")
    if a["psn_part_amt"] != a["acct_pay"] + a["psn_cash_pay"]:
        raise EncounterError("个人负担总金额 ≠ 个人账户支出 + 个人现金支出")
    parts = a["fulamt_ownpay_amt"] + a["overlmt_selfpay"] + a["preselfpay_amt"] + a["inscp_scp_amt"]
    if a["medfee_sumamt"] != parts:
        raise EncounterError("医疗费总额 ≠ 全自费 + 超限价自费 + 先行自付 + 符合政策范围金额")


def negate_setlinfo(setlinfo: Mapping[str, object]) -> dict[str, object]:
    """A cancellation's setlinfo (反向结算): every amount negated; other fields kept.

    ``balc`` (account balance after) is raised by the refunded own-account part
    (``acct_pay - acct_mulaid_pay``).
    """
    out = dict(setlinfo)
    amounts = amounts_of(setlinfo)
    for name, v in amounts.items():
        out[name] = -v
    balc = setlinfo.get("balc")
    if isinstance(balc, int) and not isinstance(balc, bool):
        out["balc"] = balc + amounts["acct_pay"] - amounts["acct_mulaid_pay"]
    return out


def negate_setldetail(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """A cancellation's setldetail rows: each fund line's amounts negated."""
    out = []
    for row in rows:
        new = dict(row)
        for name in DETAIL_AMOUNT_FIELDS:
            v = row.get(name)
            if isinstance(v, int) and not isinstance(v, bool):
                new[name] = -v
        out.append(new)
    return out


def add_counters(
    base: Mapping[str, int], delta: Mapping[str, int], sign: int = 1
) -> dict[str, int]:
    """Accumulator counters plus ``sign × delta`` (年度累计), key by key."""
    out = dict(base)
    for k, v in delta.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise EncounterError(f"accumulator_deltas.{k}: 须为整数，收到 {v!r}")
        out[k] = out.get(k, 0) + sign * v
    return out
