"""The request and response envelope (报文结构), reference §1.1–1.4. Pure: no I/O, no clock.

Tolerant where real clients differ: ``null`` and ``""`` both mean empty, numbers are accepted for
code-like string fields (``"opter_type": 1``), ``input`` may arrive as a JSON object or as a string
holding one, ``msgid`` need not be exactly 30 characters (Henan's ``231228092744-H41130200746-6162``),
``fixmedins_name`` may be longer than the spec's 20 characters. Strict where it matters: required
fields, formats of codes, regions and times. Every problem is an :class:`EnvelopeError` naming
the field and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.wire import jsonio


class EnvelopeError(ValueError):
    """A request envelope that breaks a rule: ``field`` and ``rule`` go into ``err_msg``."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


#: control characters (C0 and DEL) are refused in every text of an envelope: they have no meaning
#: in a field, break the TAB-separated 3202 files, and NUL cannot be stored in PostgreSQL text
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INFNO = re.compile(r"^[0-9]{4,6}[A-Z]?$")
_MSGID = re.compile(r"^[0-9A-Za-z_.:\-]{1,64}$")
_ADMDVS = re.compile(r"^[0-9]{6}$")
_FIXMEDINS = re.compile(r"^[0-9A-Za-z]{1,30}$")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")

# (field, 中文, required, max length) — lengths from §1.1; tolerances noted in the module docstring.
_TEXT_FIELDS: tuple[tuple[str, str, bool, int], ...] = (
    ("recer_sys_code", "接收方系统代码", True, 10),
    ("dev_no", "设备编号", False, 100),
    ("dev_safe_info", "设备安全信息", False, 2000),
    ("cainfo", "数字签名信息", False, 4096),
    ("signtype", "签名类型", False, 10),
    ("infver", "接口版本号", True, 6),
    ("opter", "经办人", True, 30),
    ("opter_name", "经办人姓名", True, 50),
    ("fixmedins_name", "定点医药机构名称", True, 200),
    ("sign_no", "交易签到流水号", False, 64),
)
_KNOWN = {
    "infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "opter_type", "inf_time",
    "fixmedins_code", "input", *(f for f, *_ in _TEXT_FIELDS),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Envelope:
    """A validated request envelope (交易输入); ``input`` is the business payload object."""

    infno: str
    msgid: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    recer_sys_code: str
    infver: str
    opter_type: str
    opter: str
    opter_name: str
    inf_time: datetime
    fixmedins_code: str
    fixmedins_name: str
    input: dict[str, Any]
    sign_no: str = ""
    dev_no: str = ""
    dev_safe_info: str = ""
    cainfo: str = ""
    signtype: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # fixmedins_soft_fcty, enc_type, …

    @property
    def is_cross_region(self) -> bool:
        """异地就医: the insured place differs from the place of treatment."""
        return bool(self.insuplc_admdvs) and self.insuplc_admdvs != self.mdtrtarea_admvs

    @property
    def insured_admdvs(self) -> str:
        """参保地: ``insuplc_admdvs``, or the place of treatment when empty (本地就医)."""
        return self.insuplc_admdvs or self.mdtrtarea_admvs


def as_text(raw: dict[str, Any], name: str, where: str = "") -> str:
    """A string-typed field: ``None``/``""`` → ``""``; integers tolerated; other types refused."""
    value = raw.get(name)
    label = f"{where}{name}"
    if value is None:
        return ""
    if isinstance(value, bool):
        raise EnvelopeError(label, "须为字符串，收到布尔值")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        raise EnvelopeError(label, f"须为字符串，收到小数 {value}")
    raise EnvelopeError(label, f"须为字符串，收到{type(value).__name__}")


def _control_name(ch: str) -> str:
    return "NUL" if ch == "\x00" else f"U+{ord(ch):04X}"


def check_controls(value: Any, path: str) -> None:
    """Refuse a control character (C0, DEL) in any string under ``value``, naming the field."""
    if isinstance(value, str):
        m = _CONTROL.search(value)
        if m is not None:
            raise EnvelopeError(path, f"含控制字符 {_control_name(m.group())}，不予受理")
    elif isinstance(value, dict):
        for k, v in value.items():
            if _CONTROL.search(k):
                raise EnvelopeError(path, "节点名含控制字符，不予受理")
            check_controls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_controls(v, f"{path}[{i}]")


def _parse_time(value: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise EnvelopeError("inf_time", f"交易时间格式须为 yyyy-MM-dd HH:mm:ss，收到 {value!r}")


def parse_input(value: Any) -> dict[str, Any]:
    """``input`` as an object; a string holding a JSON object is tolerated (spec type 字符型)."""
    if isinstance(value, str):
        if not value.strip():
            raise EnvelopeError("input", "交易输入必填")
        try:
            value = jsonio.loads(value)
        except jsonio.JsonError as exc:
            raise EnvelopeError("input", f"交易输入字符串不是合法的JSON对象: {exc}") from exc
        check_controls(value, "input")
    if value is None:
        raise EnvelopeError("input", "交易输入必填")
    if not isinstance(value, dict):
        raise EnvelopeError("input", '交易输入须为JSON对象 (以节点名为键，如 {"data":{…}})')
    return value


def parse_envelope(raw: Any) -> Envelope:
    """Validate a decoded request body; raise :class:`EnvelopeError` on the first problem."""
    if not isinstance(raw, dict):
        raise EnvelopeError("报文", "请求报文须为JSON对象")
    for key, value in raw.items():
        check_controls(value, key)
    infno = as_text(raw, "infno")
    if not infno:
        raise EnvelopeError("infno", "交易编号必填")
    if not _INFNO.match(infno):
        raise EnvelopeError(
            "infno", f"交易编号须为4–6位数字 (可带一位大写字母后缀)，收到 {infno!r}"
        )
    msgid = as_text(raw, "msgid")
    if not msgid:
        raise EnvelopeError("msgid", "发送方报文ID必填")
    if not _MSGID.match(msgid):
        raise EnvelopeError(
            "msgid",
            "发送方报文ID须为1–64位字母、数字或 - _ . : (标准格式: 机构编号12+时间14+顺序号4)",
        )
    mdtrtarea = as_text(raw, "mdtrtarea_admvs")
    if not _ADMDVS.match(mdtrtarea):
        raise EnvelopeError(
            "mdtrtarea_admvs", f"就医地医保区划必填，须为6位数字，收到 {mdtrtarea!r}"
        )
    insuplc = as_text(raw, "insuplc_admdvs")
    if insuplc and not _ADMDVS.match(insuplc):
        raise EnvelopeError("insuplc_admdvs", f"参保地医保区划须为6位数字或为空，收到 {insuplc!r}")
    opter_type = as_text(raw, "opter_type")
    if opter_type not in {"1", "2", "3"}:
        raise EnvelopeError(
            "opter_type", f"经办人类别须为 1 经办人 / 2 自助终端 / 3 移动终端，收到 {opter_type!r}"
        )
    inf_time_text = as_text(raw, "inf_time")
    if not inf_time_text:
        raise EnvelopeError("inf_time", "交易时间必填")
    inf_time = _parse_time(inf_time_text)
    code = as_text(raw, "fixmedins_code")
    if not code:
        raise EnvelopeError("fixmedins_code", "定点医药机构编号必填")
    if not _FIXMEDINS.match(code):
        raise EnvelopeError("fixmedins_code", f"定点医药机构编号须为字母数字 (12位)，收到 {code!r}")
    texts: dict[str, str] = {}
    for name, zh, required, max_len in _TEXT_FIELDS:
        value = as_text(raw, name)
        if required and not value:
            raise EnvelopeError(name, f"{zh}必填")
        if len(value) > max_len:
            raise EnvelopeError(name, f"{zh}最长{max_len}个字符，收到{len(value)}个")
        texts[name] = value
    payload = parse_input(raw.get("input"))
    extra = {k: v for k, v in raw.items() if k not in _KNOWN}
    return Envelope(
        infno=infno,
        msgid=msgid,
        mdtrtarea_admvs=mdtrtarea,
        insuplc_admdvs=insuplc,
        opter_type=opter_type,
        inf_time=inf_time,
        fixmedins_code=code,
        input=payload,
        extra=extra,
        **texts,
    )


def peek(raw: Any, name: str) -> str:
    """A best-effort string from an unvalidated body (to label an error response)."""
    if isinstance(raw, dict):
        value = raw.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:64]
    return ""


def peek_admdvs(body: bytes) -> str:
    """``mdtrtarea_admvs`` of a request body that failed validation, if it can be read."""
    try:
        return peek(jsonio.loads(body), "mdtrtarea_admvs")
    except jsonio.JsonError:
        return ""


# ---- response envelope (交易输出, §1.2) ----------------------------------------------------

INFCODE_OK = 0
INFCODE_FAIL = -1


def response(
    *,
    infcode: int,
    inf_refmsgid: str,
    refmsg_time: str,
    respond_time: str,
    output: Any = None,
    err_msg: str | None = None,
    warn_msg: str | None = None,
) -> dict[str, Any]:
    """The response envelope in the field order of §1.2 (``infcode`` a JSON number)."""
    return {
        "infcode": infcode,
        "inf_refmsgid": inf_refmsgid,
        "refmsg_time": refmsg_time,
        "respond_time": respond_time,
        "err_msg": err_msg[:2000] if err_msg else None,
        "warn_msg": warn_msg,
        "cainfo": None,
        "signtype": None,
        "enctype": None,
        "output": output,
    }


def ms_time(at: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` (refmsg_time, respond_time)."""
    return f"{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}"


def refmsgid(admdvs: str, at: datetime, seq: int) -> str:
    """接收方报文ID: 医保区划(6) + yyyyMMddHHmmss(14) + 流水号(10)."""
    return f"{admdvs if _ADMDVS.match(admdvs) else '000000'}{at:%Y%m%d%H%M%S}{seq % 10**10:010d}"


def make_msgid(fixmedins_code: str, at: datetime, seq: int) -> str:
    """发送方报文ID in the national format: 机构编号(12) + yyyyMMddHHmmss(14) + 顺序号(4)."""
    return f"{fixmedins_code}{at:%Y%m%d%H%M%S}{seq % 10000:04d}"


def parse_infcode(value: Any) -> int | None:
    """A response ``infcode`` as real servers send it: number, numeric string, or empty."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
