"""The counter's price list with preset quantities (收费窗口预置数量) that fit the institution."""

from __future__ import annotations

from typing import Any

from yibao.web.sim_counter import Counter

# a sensible first quantity per 计价单位: a box of tablets or capsules, a vial, one visit
_BOX = {"片": 24, "粒": 24, "丸": 30, "袋": 6, "贴": 5, "支": 1, "瓶": 1, "盒": 1, "g": 10}


def presets(c: Counter) -> list[dict[str, Any]]:
    """The counter's price list (the demo catalogue of the institution's province) with preset
    quantities that fit the institution: a hospital's ordinary outpatient visit is 挂号费 × 1,
    普通门诊诊查费 × 1 and one box of a tablet; a pharmacy sells two boxes of tablets."""
    from yibao.hissim.flows import province_items
    from yibao.institutions import demo as inst_demo

    admdvs = next(r[3] for r in inst_demo.DEMO_INSTITUTIONS if r[0] == c.fixmedins_code)
    items = province_items(admdvs)
    kinds = ("101", "102") if c.pharmacy else ("201", "101")
    chosen = [i for kind in kinds for i in [i for i in items if i.list_type == kind][:8]]
    wanted: dict[str, int] = {}
    if not c.pharmacy:
        for i in chosen:
            if i.list_type == "201" and i.name in ("挂号费", "普通门诊诊查费"):
                wanted[i.med_list_codg] = 1
    boxes = [i for i in chosen if i.list_type == "101" and i.prcunt in ("片", "粒")]
    for i in boxes[: 2 if c.pharmacy else 1]:
        wanted[i.med_list_codg] = _BOX[i.prcunt]
    return [
        {
            "code": i.med_list_codg,
            "name": i.name,
            "lt": i.list_type,
            "pric": str(i.pric),
            "unit": i.prcunt,
            "preset": str(wanted.get(i.med_list_codg, "")),
        }
        for i in chosen
    ]
