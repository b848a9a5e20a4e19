"""Help texts of the command line (命令行帮助).

Typer prints a type column beside every option; for an on/off flag it printed ``<bool>``
(``--help <bool>``, ``--demo --no-demo <bool>``), which reads as if the flag took a value. Flags
show no type here. :func:`missing_help` lists every command, argument and option that has no
help text (the unit test ``tests/unit/test_cli_help.py`` fails on any).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

_display_type_rich = TyperOption.display_type_rich


def _flag_without_type(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag:
        return None  # a flag takes no value: no "<bool>" beside it
    return _display_type_rich(self, ctx)


def install() -> None:
    """Show flags without a value type in ``--help`` (idempotent)."""
    TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]


def missing_help(app: typer.Typer) -> list[str]:
    """``yibao clearing list`` / ``yibao clearing list --month`` for every command, argument or
    option without a help text (``--help`` itself excepted)."""
    missing: list[str] = []

    def walk(cmd: Any, path: str) -> None:
        if not (cmd.help or cmd.short_help):
            missing.append(path)
        for p in cmd.params:
            if isinstance(p, TyperOption | TyperArgument) and not p.help and p.name != "help":
                name = max(p.opts, key=len) if isinstance(p, TyperOption) else p.name
                missing.append(f"{path} {name}")
        if isinstance(cmd, TyperGroup):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "yibao")
    return missing
