"""The progress report (工作进度通报) of a campaign as Excel (openpyxl) and PDF (fpdf2).

The PDF embeds a CJK font found on the machine (``YIBAO_CJK_FONT``, else WenQuanYi Micro Hei /
Zen Hei or Noto CJK from the Debian packages); without one :class:`FontMissing` says which
package to install — the Excel report needs no font and always works.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from yibao.campaigns.progress import LEVEL_LABELS, Progress, TargetProgress

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    """No CJK font to embed in the PDF."""


def cjk_font() -> Path:
    env = os.environ.get("YIBAO_CJK_FONT")
    for p in ([env] if env else []) + list(FONT_CANDIDATES):
        if p and Path(p).is_file():
            return Path(p)
    raise FontMissing(
        "未找到可嵌入PDF的中文字体：请安装 fonts-wqy-microhei（apt-get install fonts-wqy-microhei），"
        "或以环境变量 YIBAO_CJK_FONT 指定 .ttf/.ttc 字体文件。Excel 通报不受影响。"
    )


def pct(v: Decimal | None) -> str:
    return "—" if v is None else f"{(v * 100).quantize(Decimal('0.01'))}%"


HEADER = ["层级", "对象", "责任主体", "截止日期", "方案参保人数", "登记参保人数", "已激活",
          "激活率", "目标任务数", "完成进度", "尚差", "近7日激活", "预计截止日", "进度判断"]  # fmt: skip


def row_of(t: TargetProgress) -> list[object]:
    f = t.forecast
    return [LEVEL_LABELS[t.level], t.name, t.responsible, t.deadline.isoformat(),
            t.plan_base if t.plan_base is not None else "—", t.registry_base, t.activated,
            pct(t.rate), t.target, pct(t.completion), t.gap, t.recent,
            f.projected if f else "—", f.label if f else "—"]  # fmt: skip


def title_of(p: Progress) -> str:
    return f"{p.plan.name}工作进度通报"


def summary_lines(p: Progress, channel_names: dict[str, str]) -> list[str]:
    o, plan = p.overall, p.plan
    lines = [
        f"统计截至 {p.as_of.isoformat()}（北京时间，当日24时）。依据：{plan.source.get('title', '')}"
        f"（{plan.source.get('issuer', '')}）。",
        f"全市目标：{plan.deadline.isoformat()} 前激活 {o.target} 人（{plan.overall_text or '—'}；"
        f"方案印发任务数 {plan.target_printed or '—'}）。已激活 {o.activated} 人，完成 {pct(o.completion)}，"
        f"尚差 {o.gap} 人；进度判断：{o.forecast.label if o.forecast else '—'}。",
    ]
    laggards = [t.name for t in p.ranked(p.towns)[-3:]] if p.towns else []
    if laggards:
        lines.append("镇办排名后三位：" + "、".join(reversed(laggards)) + "，请加快推进。")
    if p.by_channel:
        lines.append(
            "分渠道激活："
            + "，".join(
                f"{channel_names.get(k, k)} {v} 人" for k, v in sorted(p.by_channel.items())
            )
        )
    for check in plan.checks():
        lines.append("方案数据核对：" + check)
    return lines


def excel(p: Progress, channel_names: dict[str, str]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "通报"
    ws.append([title_of(p)])
    ws["A1"].font = Font(bold=True, size=14)
    for line in summary_lines(p, channel_names):
        ws.append([line])
    ws.append([])
    ws.append(HEADER)
    for t in [p.overall, *p.categories]:
        ws.append(row_of(t))
    sheets: Sequence[tuple[str, list[TargetProgress]]] = (
        ("镇办排名", p.ranked(p.towns)),
        ("单位排名", p.ranked(p.units)),
    )
    for name, rows in sheets:
        s = wb.create_sheet(name)
        s.append(["名次", *HEADER])
        for i, t in enumerate(rows, 1):
            s.append([i, *row_of(t)])
    s = wb.create_sheet("每日激活")
    chans = sorted({c for d in p.by_day.values() for c in d})
    s.append(["日期", *[channel_names.get(c, c) for c in chans], "合计"])
    for day, per in p.by_day.items():
        s.append([day.isoformat(), *[per.get(c, 0) for c in chans], sum(per.values())])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf(p: Progress, channel_names: dict[str, str]) -> bytes:
    from fpdf import FPDF

    font = cjk_font()
    doc = FPDF(orientation="L", unit="mm", format="A4")
    doc.set_title(title_of(p))
    doc.add_font("cjk", fname=str(font))
    doc.add_font("cjk", style="B", fname=str(font))  # table headings (one weight in the font)
    doc.set_auto_page_break(True, margin=12)
    doc.add_page()
    doc.set_font("cjk", size=16)
    doc.cell(0, 10, title_of(p), align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=10)
    for line in summary_lines(p, channel_names):
        doc.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    cols = (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 13)
    widths = (14, 50, 40, 22, 22, 18, 18, 20, 20, 18, 24)

    def table(title: str, rows: list[TargetProgress], ranked: bool) -> None:
        doc.ln(3)
        doc.set_font("cjk", size=12)
        doc.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        doc.set_font("cjk", size=8)
        head = (["名次"] if ranked else []) + [HEADER[i] for i in cols]
        w = ((10,) if ranked else ()) + widths
        with doc.table(col_widths=w, text_align="CENTER", line_height=5) as tbl:
            tbl.row(head)
            for n, t in enumerate(rows, 1):
                cells = [str(row_of(t)[i]) for i in cols]
                tbl.row(([str(n)] if ranked else []) + cells)

    table("一、总体与分类", [p.overall, *p.categories], False)
    if p.towns:
        table("二、镇办排名（按任务完成进度）", p.ranked(p.towns), True)
    if p.units:
        table("三、单位排名（后20位）", p.ranked(p.units)[-20:], True)
    return bytes(doc.output())
