"""Problems found in catalogue data files (目录文件校验问题): one per file, line and field, raised
together so a data officer fixes them in one pass; nothing is written when there is one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in a data file (文件、行号、字段、原因)."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} [{self.field}] {self.reason}"


class CatalogFileError(ValueError):
    """The catalogue files were refused (目录文件校验失败); nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  …另有 {len(problems) - 50} 处" if len(problems) > 50 else ""
        super().__init__(
            f"目录文件校验失败，共 {len(problems)} 处错误，未写入任何数据：\n{shown}{more}"
        )


def as_plain(problems: Iterable[RowProblem]) -> list[dict[str, Any]]:
    """Problems as dicts (for JSON answers)."""
    return [asdict(p) for p in problems]
