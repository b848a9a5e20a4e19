"""The layers hold (ADR 0017): import-linter's contracts in ``.importlinter``, and no SQL in
an entry point.

- models import nothing with I/O; services and stores never import an entry point;
- entry points (api, cli) import no store and the console (``yibao.web``) nothing of ``yibao.db``
  or a store: they go through a capability's service or query functions;
- no import cycle between sibling packages at any depth (function-level imports count).

The contracts are checked by running ``lint-imports`` on the repository without its cache, so a
failure shows import-linter's own report: which import breaks which contract, at which line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "yibao"

RUN_LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
)


def test_import_contracts_hold() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_LINT_IMPORTS, "--config", ".importlinter", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"import contracts broken:\n{report}"
    assert "0 broken" in report, report


SQL_METHODS = {"execute", "exec_driver_sql", "scalar", "scalars"}
SQL_BUILDERS = {"text", "select", "insert", "update", "delete", "exists", "union", "func"}


def sql_in(source: str) -> list[str]:
    """Where a module runs or builds SQL itself: ``x.execute(…)``, ``sa.select(…)``, ``text(…)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            on_sa = isinstance(f.value, ast.Name) and f.value.id in {"sa", "sqlalchemy"}
            if f.attr in SQL_METHODS:
                found.append(f"l.{node.lineno}: .{f.attr}(…)")
            elif on_sa and f.attr in SQL_BUILDERS:
                found.append(f"l.{node.lineno}: sa.{f.attr}(…)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "text":
                found.append(f"l.{node.lineno}: text(…)")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in {"sa", "sqlalchemy"}
            and node.attr == "func"
        ):
            found.append(f"l.{node.lineno}: sa.func")
    return found


def entry_points() -> list[Path]:
    """The console, every capability's HTTP and CLI module, the app's own modules and the main
    CLI. The national-interface handlers (``api/nhsa``) are checked by their own layer rules."""
    files = [
        *SRC.glob("web/**/*.py"),
        *SRC.glob("*/api.py"),
        *SRC.glob("*/cli.py"),
        *SRC.glob("api/*.py"),
        SRC / "cli.py",
    ]
    return sorted(set(files))


def test_entry_points_run_no_sql() -> None:
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in entry_points()
        if (hits := sql_in(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        f"entry points running SQL (use the capability's service/queries): {offenders}"
    )


def test_the_sql_check_sees_sql() -> None:
    """The scan is not vacuous: each form it looks for is found."""
    sample = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy import text\n"
        "def f(conn, t):\n"
        "    conn.execute(sa.select(t))\n"
        "    conn.execute(text('SELECT 1')).scalar()\n"
        "    return sa.func.count()\n"
    )
    hits = sql_in(sample)
    assert any("sa.select" in h for h in hits)
    assert any("text(" in h for h in hits)
    assert any(".execute" in h for h in hits)
    assert any(".scalar" in h for h in hits)
    assert any("sa.func" in h for h in hits)
    assert sql_in("def g(svc):\n    return svc.person_view('P1')\n") == []
    assert len(entry_points()) > 30
