"""1201 医药机构信息获取 (reference §2.14).

Input ``medinsinfo{fixmedins_type(Y), fixmedins_name (模糊查询), fixmedins_code}`` →
``medinsinfo[]{fixmedins_code, fixmedins_name, uscc, fixmedins_type, hosp_lv}``.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.institutions import store


@transaction("1201", "医药机构信息获取")
def query_institutions(ctx: Context) -> dict[str, Any]:
    data = ctx.node("medinsinfo")
    where = "input.medinsinfo"
    kind = fields.code(data, "fixmedins_type", where, "fixmedins_type", required=True)
    name = fields.text(data, "fixmedins_name", where, max_len=200)
    code = fields.text(data, "fixmedins_code", where, max_len=30)
    found = store.search_institutions(ctx.conn, fixmedins_type=kind, name_like=name, code=code)
    return {
        "medinsinfo": [
            {
                "fixmedins_code": i.fixmedins_code,
                "fixmedins_name": i.fixmedins_name,
                "uscc": i.uscc,
                "fixmedins_type": i.fixmedins_type,
                "hosp_lv": i.hosp_lv,
            }
            for i in found
        ]
    }
