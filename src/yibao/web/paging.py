"""Paging of console lists (分页): page links that carry a keyset cursor and the filters.

A list source returns one page, its true total and the cursors of the neighbouring pages; the
:class:`Pager` turns them into links (``after=<cursor>&p=<page number>`` plus the filters and sort)
and the line "共 3,003 条 · 第 2 / 61 页". ``estimated`` totals are shown as "约 …".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode


def number(raw: str) -> int:
    """The page number from the URL (display only); anything but a positive integer is page 1."""
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**9 else 1


@dataclass(slots=True)
class Pager:
    number: int  # 1-based page number, carried in the URL for display
    size: int
    query: dict[str, str] = field(default_factory=dict)  # filters and sort, kept across pages

    def link(self, cursor: str, number: int) -> str:
        return "?" + urlencode({**self.query, "after": cursor, "p": str(number)})

    def next_link(self, cursor: str) -> str:
        return self.link(cursor, self.number + 1) if cursor else ""

    def prev_link(self, cursor: str) -> str:
        if not cursor:
            return ""
        if self.number <= 2:  # back to the first page: no cursor at all
            return "?" + urlencode(self.query) if self.query else "?"
        return self.link(cursor, self.number - 1)

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.size))

    def summary(self, total: int, *, estimated: bool = False) -> str:
        count = f"{'约 ' if estimated else ''}{total:,}"
        return f"共 {count} 条 · 第 {self.number:,} / {self.pages(total):,} 页"

    def export_link(self, base: str) -> str:
        return base + ("?" + urlencode(self.query) if self.query else "")
