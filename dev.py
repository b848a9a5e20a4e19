#!/usr/bin/env python3
"""The project's two commands, on a machine with only Python 3.11+.

    python3 dev.py start   # start Yibao: embedded PostgreSQL, migrations, demo data, API + console
                           # (one Ctrl-C or SIGTERM stops the server and its PostgreSQL)
    python3 dev.py test    # lint (ruff), type-check (mypy), then the whole test suite (pytest)

Both first make sure the locked environment exists: a bootstrap venv with a pinned ``uv``
(``.tools/``), then ``uv sync --frozen`` into ``.venv/`` from ``uv.lock``. ``test`` also installs
Debian's Chromium and a CJK font for the browser tests when they are missing (as root, via apt-get).
Extra arguments after ``test`` go to pytest; after ``start`` to ``yibao serve``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
UV_VERSION = "0.13.9"
BIN = "Scripts" if os.name == "nt" else "bin"


def run(*cmd: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, check=check).returncode


def uv() -> Path:
    exe = TOOLS / BIN / "uv"
    if not exe.exists():
        run(sys.executable, "-m", "venv", TOOLS)
        run(TOOLS / BIN / "python", "-m", "pip", "install", "-q", f"uv=={UV_VERSION}")
    return exe


def serve(*cmd: str | Path, env: dict[str, str]) -> int:
    """Run ``yibao serve`` until it exits; SIGTERM, SIGINT (Ctrl-C) and SIGHUP sent to this
    process are passed on once, so one signal stops the server and its embedded PostgreSQL.

    The server runs in its own session: Ctrl-C at the terminal reaches only this process, which
    forwards it (a second copy from the terminal would make uvicorn skip its graceful shutdown).
    """
    print("+", " ".join(str(c) for c in cmd), flush=True)
    proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env, start_new_session=True)

    def forward(signum: int, _frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    return proc.wait()


def sync() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never", UV_PROJECT_ENVIRONMENT=str(VENV)
    )
    run(uv(), "sync", "--frozen", "--all-groups", "--quiet", env=env)
    env["PATH"] = f"{VENV / BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def ensure_browser() -> None:
    """Debian's chromium + a Chinese font; Playwright drives it (its own download cannot work here)."""
    have_font = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists()
    if shutil.which("chromium") and have_font:
        return
    if sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0:
        if shutil.which("apt-get"):
            apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            run("apt-get", "update", "-qq", env=apt_env)
            run("apt-get", "install", "-y", "-qq", "chromium", "fonts-wqy-microhei", env=apt_env)
            return
    print("! chromium not found and cannot be installed here: browser tests will be skipped")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"start", "test"}:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    env = sync()
    py = VENV / BIN / "python"
    if cmd == "start":
        return serve(VENV / BIN / "yibao", "serve", "--demo", *rest, env=env)
    ensure_browser()
    for step in (
        [py, "-m", "ruff", "check", "src", "tests", "bench", "dev.py"],
        [py, "-m", "mypy"],
    ):
        if run(*step, env=env, check=False) != 0:
            return 1
    return run(py, "-m", "pytest", *rest, env=env, check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
