"""1901 字典表查询 (reference §2.14): the code tables of :mod:`yibao.codes`.

Input ``data{type(Y), parentValue, admdvs, date, valiFlag}`` (camelCase as in the spec) →
``list[]{type, label, value, parentValue, sort, valiFlag}``. The tables are national (the same for
every ``admdvs``); ``valiFlag`` "0" asks for invalid entries, of which there are none.
"""

from __future__ import annotations

from typing import Any

from yibao import codes
from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.api.nhsa.fields import InputError


@transaction("1901", "字典表查询")
def query_dictionary(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    where = "input.data"
    kind = fields.text(data, "type", where, required=True, max_len=50, label="字典类型")
    parent = fields.text(data, "parentValue", where, max_len=50)
    fields.text(data, "admdvs", where, max_len=6)
    fields.day(data, "date", where)
    vali = fields.text(data, "valiFlag", where, max_len=1) or "1"
    if vali not in {"0", "1"}:
        raise InputError(f"{where}.valiFlag", "有效标志须为 0 无效 或 1 有效")
    try:
        tbl = codes.table(kind)
    except codes.UnknownCodeTable as exc:
        raise InputError(
            f"{where}.type", f"字典类型{kind!r}不存在；可查询: {', '.join(codes.table_names())}"
        ) from exc
    entries = [] if vali == "0" or parent else list(tbl["codes"].items())
    return {
        "list": [
            {
                "type": kind,
                "label": label,
                "value": value,
                "parentValue": "",
                "sort": i,
                "valiFlag": "1",
            }
            for i, (value, label) in enumerate(entries, start=1)
        ]
    }
