"""The settlement list (医疗保障基金结算清单, 4101): validation rules, status machine. Pure.

Every check is a named rule (payment-reform.md §2.4) and a refusal names the field and the rule:
``input.diseinfo[1].maindiag_flag: [SL09 主诊断唯一] …``. A list passes :func:`parse` whole or
not at all; a refused list changes nothing.

Status (stas_type, §2.5): 0 未提交, 1 已提交, 2 审核通过, 3 审核不通过. The institution moves
0 → 1, 3 → 0, 3 → 1; the bureau moves 1 → 2 or 1 → 3. A list can be replaced (4101 again) only
while it is 0 or 3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao.payment.model.setl_fields import DICTS as DICTS
from yibao.payment.model.setl_fields import ROW_FIELDS, SETLINFO_FIELDS
from yibao.payment.model.setl_fields import RULES as RULES
from yibao.payment.model.setl_fields import STATES as STATES

_DURA = re.compile(r"^(\d{1,4})/(\d{1,2})/(\d{1,2})$")
_NUM = re.compile(r"^\d+(\.\d+)?$")


class ListRuleError(ValueError):
    """A settlement list that breaks a named rule: the field path, the rule and what is wrong."""

    def __init__(self, path: str, rule: str, message: str) -> None:
        super().__init__(f"{path}: [{rule} {RULES[rule]}] {message}")
        self.path, self.rule, self.message = path, rule, message


@dataclass(frozen=True)
class SettlementList:
    """A checked list: ``setlinfo`` as given (strings) plus the parsed figures the rest needs."""

    setlinfo: Mapping[str, str]
    nodes: Mapping[str, tuple[Mapping[str, str], ...]]  # diseinfo, oprninfo, icuinfo, …
    payinfo: tuple[tuple[str, int], ...]  # (fund_pay_type, fen)
    weight_g: int | None  # newborn admission (else birth) weight in grams
    vent_minutes: int | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def psn_no(self) -> str:
        return self.setlinfo["psn_no"]

    @property
    def setl_id(self) -> str:
        return self.setlinfo["setl_id"]

    @property
    def mdtrt_id(self) -> str:
        return self.setlinfo["mdtrt_id"]

    def diagnoses(self) -> tuple[str, tuple[str, ...]]:
        """The principal western-medicine diagnosis and the others (in upload order)."""
        rows = [r for r in self.nodes.get("diseinfo", ()) if r.get("diag_type") == "1"]
        main = next((r["diag_code"] for r in rows if r.get("maindiag_flag") == "1"), "")
        return main, tuple(r["diag_code"] for r in rows if r["diag_code"] != main)

    def procedures(self) -> tuple[str, tuple[str, ...]]:
        rows = list(self.nodes.get("oprninfo", ()))
        main = next((r["oprn_oprt_code"] for r in rows if r.get("oprn_oprt_type") == "1"), "")
        return main, tuple(r["oprn_oprt_code"] for r in rows if r["oprn_oprt_code"] != main)

    def stay_days(self) -> int:
        adm, dscg = self.setlinfo.get("adm_time", ""), self.setlinfo.get("dscg_time", "")
        if adm and dscg:
            return max((date.fromisoformat(dscg[:10]) - date.fromisoformat(adm[:10])).days, 0)
        begn, end = self.setlinfo["setl_begn_date"], self.setlinfo["setl_end_date"]
        return max((date.fromisoformat(end) - date.fromisoformat(begn)).days, 0)


def _text(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        raise ListRuleError(path, "SL08", f"须为字符串或数字，收到{type(value).__name__}")
    return str(value).strip()


def _check(kind: str, name: str, value: str, path: str) -> None:
    if kind == "code" and value not in DICTS[name]:
        allowed = "、".join(f"{k} {v}" for k, v in DICTS[name].items())
        raise ListRuleError(path, "SL07", f"{value!r} 不是字典值（{allowed}）")
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ListRuleError(path, "SL10", f"日期格式须为 yyyy-MM-dd，收到 {value!r}") from exc
    if kind == "datetime":
        try:
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError as exc:
            raise ListRuleError(
                path, "SL10", f"时间格式须为 yyyy-MM-dd HH:mm:ss，收到 {value!r}"
            ) from exc
    if kind == "dura" and not _DURA.match(value):
        raise ListRuleError(
            path, "SL05", f"时长格式须为 天数/小时数/分钟数（如 1/13/24），收到 {value!r}"
        )
    if kind == "days" and not _NUM.match(value):
        raise ListRuleError(path, "SL05", f"须为非负数，收到 {value!r}")
    if kind == "wt":
        _weight_kg(value, path)
    if kind == "wts":
        for part in value.split(","):
            _weight_kg(part.strip(), path)
    if kind == "amount":
        try:
            d = Decimal(value)
        except InvalidOperation as exc:
            raise ListRuleError(path, "SL08", f"金额须为最多2位小数的数字，收到 {value!r}") from exc
        if not d.is_finite() or d != d.quantize(Decimal("0.01")):
            raise ListRuleError(path, "SL08", f"金额须为最多2位小数的数字，收到 {value!r}")


def _weight_kg(value: str, path: str) -> int:
    """Newborn weight N6,2 in kilograms, precise to 10 g; returned in grams."""
    try:
        d = Decimal(value)
    except InvalidOperation as exc:
        raise ListRuleError(
            path, "SL05", f"新生儿体重须为千克数（N6,2，精确到10克），收到 {value!r}"
        ) from exc
    if not d.is_finite() or d <= 0 or d >= 10_000 or d != d.quantize(Decimal("0.01")):
        raise ListRuleError(
            path, "SL05", f"新生儿体重须为千克数（N6,2，精确到10克），收到 {value!r}"
        )
    return int(d * 1000)


def _fields(
    data: Mapping[str, Any], specs: Mapping[str, tuple[int, bool, str]], where: str
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (max_len, required, kind) in specs.items():
        path = f"{where}.{name}"
        value = _text(data.get(name), path)
        if not value:
            if required:
                raise ListRuleError(path, "SL04" if "[" in where else "SL02", f"{name} 必填")
            continue
        if len(value) > max_len:
            raise ListRuleError(path, "SL08", f"最长{max_len}个字符，收到{len(value)}个")
        _check(kind, name, value, path)
        out[name] = value
    return out


def _node_rows(payload: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = payload.get(name)
    if value in (None, "", []):
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise ListRuleError(f"input.{name}", "SL01", "多行数据节点须为JSON对象数组")
    return value


def parse(payload: Mapping[str, Any]) -> SettlementList:
    """Check a 4101 ``input`` against every rule; the first broken one is raised."""
    raw = payload.get("setlinfo")
    if isinstance(raw, list):
        raise ListRuleError(
            "input.setlinfo", "SL01", "一次只能上传一名患者的清单，setlinfo 须为单个JSON对象"
        )
    if not isinstance(raw, dict):
        raise ListRuleError("input.setlinfo", "SL02", "setlinfo 节点必填")
    info = _fields(raw, SETLINFO_FIELDS, "input.setlinfo")
    if info.get("stas_type", "0") not in ("0", "1"):
        raise ListRuleError(
            "input.setlinfo.stas_type", "SL07", "上传时状态只能为 0 未提交 或 1 已提交"
        )
    if info.get("coner_name"):
        for name in ("patn_rlts", "coner_addr", "coner_tel"):
            if not info.get(name):
                raise ListRuleError(
                    f"input.setlinfo.{name}", "SL03", f"填写联系人姓名时 {name} 必填"
                )
    if info["setl_end_date"] < info["setl_begn_date"]:
        raise ListRuleError(
            "input.setlinfo.setl_end_date", "SL10", "结算结束日期不能早于结算开始日期"
        )
    if info.get("adm_time") and info.get("dscg_time") and info["dscg_time"] < info["adm_time"]:
        raise ListRuleError("input.setlinfo.dscg_time", "SL10", "出院时间不能早于入院时间")
    refl = info.get("refldept_dept", "")
    if refl and any(not part.strip() for part in refl.split("→")):
        raise ListRuleError(
            "input.setlinfo.refldept_dept", "SL06", "多次转科用“→”连接科别代码，不能有空段"
        )
    warnings = []
    if info.get("dscg_way") in ("2", "3") and not info.get("acp_medins_name"):
        warnings.append(
            "[SL06 转科与拟接收机构] 医嘱转院/转社区时宜填写拟接收机构名称(acp_medins_name)"
        )
    nodes: dict[str, tuple[Mapping[str, str], ...]] = {}
    for name, specs in ROW_FIELDS.items():
        rows = [
            _fields(r, specs, f"input.{name}[{i}]") for i, r in enumerate(_node_rows(payload, name))
        ]
        nodes[name] = tuple(rows)
    _unique_mains(nodes)
    payinfo = tuple(
        (r["fund_pay_type"], int(Decimal(r["fund_payamt"]) * 100)) for r in nodes["payinfo"]
    )
    weight = info.get("nwb_adm_wt") or info.get("nwb_bir_wt") or ""
    vent = _DURA.match(info.get("vent_used_dura", ""))
    return SettlementList(
        setlinfo=info,
        nodes=nodes,
        payinfo=payinfo,
        weight_g=_weight_kg(weight, "input.setlinfo.nwb_adm_wt") if weight else None,
        vent_minutes=(int(vent.group(1)) * 1440 + int(vent.group(2)) * 60 + int(vent.group(3)))
        if vent
        else None,
        warnings=tuple(warnings),
    )


def _unique_mains(nodes: Mapping[str, Sequence[Mapping[str, str]]]) -> None:
    dise = nodes["diseinfo"]
    if not dise:
        raise ListRuleError("input.diseinfo", "SL04", "住院诊断信息至少一行")
    mains = [i for i, r in enumerate(dise) if r["diag_type"] == "1" and r["maindiag_flag"] == "1"]
    if len(mains) != 1:
        at = f"input.diseinfo[{mains[1]}].maindiag_flag" if len(mains) > 1 else "input.diseinfo"
        raise ListRuleError(
            at, "SL09", f"西医诊断须有且只有一个主诊断(maindiag_flag=1)，收到{len(mains)}个"
        )
    main_ops = [i for i, r in enumerate(nodes["oprninfo"]) if r["oprn_oprt_type"] == "1"]
    if len(main_ops) > 1:
        raise ListRuleError(
            f"input.oprninfo[{main_ops[1]}].oprn_oprt_type",
            "SL09",
            "主要手术及操作(oprn_oprt_type=1)至多一个",
        )


# ------------------------------------------------------------------------------ status


def transition_problem(current: str, target: str, *, by_bureau: bool) -> str | None:
    """Why ``current → target`` is refused (None if allowed), §2.5."""
    name = f"{STATES.get(current, current)} → {STATES.get(target, target)}"
    if target not in STATES:
        return f"审核状态 {target!r} 不是 0/1/2/3"
    if current == "2":
        return f"审核通过的清单不能再修改状态（{name}）"
    allowed = {("1", "2"), ("1", "3")} if by_bureau else {("0", "1"), ("3", "0"), ("3", "1")}
    if (current, target) not in allowed:
        return f"不允许的状态变更：{name}"
    return None


def editable(state: str) -> bool:
    """Only a list 未提交 (0) or 审核不通过 (3) may be replaced by a new 4101."""
    return state in ("0", "3")
