"""``yibao frontend run | check | key-file | queue`` — the front-end processor (医保前置机).

Thin commands: options → :class:`yibao.frontend.service.Settings` → the ASGI app under uvicorn
(one worker: the reversal queue has one owner). Every option has an environment variable
(``YIBAO_FRONTEND_*``) so a service manager can start it without a command line of secrets;
the credentials themselves are only ever read from the key file.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import datetime
from pathlib import Path

import typer

from yibao.frontend import model

app = typer.Typer(
    help="医保前置机 (front-end processor): signs and forwards a HIS's envelopes to the centre",
    no_args_is_help=True,
)

DEFAULT_STATE = Path.home() / ".local" / "state" / "yibao-frontend"

CentreOpt = typer.Option(..., "--centre", envvar="YIBAO_FRONTEND_CENTRE",
                         help="the centre's base URL, e.g. https://hsa.example.gov.cn")  # fmt: skip
InstitutionOpt = typer.Option(..., "--institution", envvar="YIBAO_FRONTEND_INSTITUTION",
                              help="fixmedins_code of this institution (定点医药机构编号)")  # fmt: skip
KeyFileOpt = typer.Option(..., "--key-file", envvar="YIBAO_FRONTEND_KEY_FILE",
                          help="JSON file with app_key/app_secret, outside any repository, mode 600")  # fmt: skip
TransportOpt = typer.Option(None, "--transport", envvar="YIBAO_FRONTEND_TRANSPORT",
                            help="csb (_api_* headers) or tif (x-tif-*); default: the key file's, else csb")  # fmt: skip


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误: {message}", err=True)
    return typer.Exit(2)


def load_credentials(path: Path, transport: str | None) -> model.Credentials:
    """The key file's credentials; refused when the file is readable by others."""
    try:
        st = path.stat()
    except OSError as exc:
        raise _fail(f"读不到密钥文件 {path}: {exc.strerror}") from exc
    problem = model.key_file_mode_problem(stat.S_IMODE(st.st_mode))
    if problem is not None:
        raise _fail(f"{path}: {problem}")
    try:
        return model.parse_key_file(path.read_text(encoding="utf-8"), transport)
    except model.FrontendError as exc:
        raise _fail(f"{path}: {exc}") from exc


def _log_to_file(path: Path) -> None:
    """Every log event also as a JSON line in ``path`` (redacted like the console's)."""
    import logging

    from yibao.logging import configure, formatter

    configure()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(formatter(json=True))
    logging.getLogger().addHandler(handler)
    for chatty in ("httpx", "httpcore"):  # one line per message is ours (frontend_message)
        logging.getLogger(chatty).setLevel(logging.WARNING)


@app.command("run")
def run(
    centre: str = CentreOpt,
    institution: str = InstitutionOpt,
    key_file: Path = KeyFileOpt,
    transport: str = TransportOpt,
    allow: list[str] = typer.Option(
        ["127.0.0.1", "::1"], "--allow", envvar="YIBAO_FRONTEND_ALLOW",
        help="client address or CIDR allowed to call (repeat, or comma-separated)"),
    cors_origin: list[str] = typer.Option(
        [], "--cors-origin", envvar="YIBAO_FRONTEND_CORS_ORIGINS",
        help="browser origin or pattern (http://*.hospital.example) answered with CORS headers"),
    local_token: str = typer.Option(
        "", "--local-token", envvar="YIBAO_FRONTEND_TOKEN", show_default=False,
        help="if set, callers must send it in X-Yibao-Frontend-Token"),
    host: str = typer.Option("127.0.0.1", envvar="YIBAO_FRONTEND_HOST", help="listen address"),
    port: int = typer.Option(8086, envvar="YIBAO_FRONTEND_PORT", help="listen port"),
    timeout: float = typer.Option(30.0, envvar="YIBAO_FRONTEND_TIMEOUT",
                                  help="seconds to wait for the centre's answer"),
    connect_timeout: float = typer.Option(3.0, help="seconds to wait for a connection"),
    retry_every: float = typer.Option(5.0, help="seconds between tries of a queued 2601"),
    queue_file: Path = typer.Option(None, envvar="YIBAO_FRONTEND_QUEUE",
                                    help="reversal queue (default under ~/.local/state/yibao-frontend)"),
    log_file: Path = typer.Option(None, envvar="YIBAO_FRONTEND_LOG",
                                  help="JSON-lines log (default under ~/.local/state/yibao-frontend)"),
) -> None:  # fmt: skip
    """Run the processor: accept envelopes from allowed addresses, sign, forward, answer."""
    import uvicorn

    from yibao.frontend.app import FrontendApp
    from yibao.frontend.queue import QueueLocked
    from yibao.frontend.service import Frontend, Settings

    creds = load_credentials(key_file, transport)
    try:
        allowed = model.parse_allowlist(allow)
    except model.FrontendError as exc:
        raise _fail(str(exc)) from exc
    queue_file = queue_file or DEFAULT_STATE / f"{institution}-reversals.jsonl"
    log_file = log_file or DEFAULT_STATE / f"{institution}.log"
    _log_to_file(log_file)
    settings = Settings(
        centre=centre, institution=institution, credentials=creds, queue_path=queue_file,
        allow=allowed, origins=model.parse_origins(cors_origin), token=local_token,
        timeout_s=timeout, connect_timeout_s=connect_timeout, retry_every_s=retry_every,
    )  # fmt: skip
    try:
        frontend = Frontend(settings)
    except QueueLocked as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        f"医保前置机 {institution} → {centre} ({creds.transport}), 监听 http://{host}:{port}/ ；"
        f"冲正队列 {queue_file}（待发 {len(frontend.queue.pending())} 笔），日志 {log_file}"
    )
    uvicorn.run(FrontendApp(frontend), host=host, port=port, access_log=False,
                log_config=None, lifespan="on")  # fmt: skip


def _envelope(institution: str, infno: str, input: dict[str, object]) -> dict[str, object]:
    from yibao.clock import CHINA

    now = datetime.now(CHINA)
    return {
        "infno": infno, "msgid": f"{institution}{now:%Y%m%d%H%M%S}{now.microsecond % 10000:04d}",
        "mdtrtarea_admvs": "", "insuplc_admdvs": "", "recer_sys_code": "YBXT", "dev_no": "",
        "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1",
        "opter": "frontend-check", "opter_name": "前置机自检", "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
        "fixmedins_code": institution, "fixmedins_name": "", "sign_no": "", "input": input,
    }  # fmt: skip


@app.command("check")
def check(
    centre: str = CentreOpt,
    institution: str = InstitutionOpt,
    key_file: Path = KeyFileOpt,
    transport: str = TransportOpt,
    timeout: float = typer.Option(10.0, help="seconds to wait for the centre"),
) -> None:
    """Test the connection and the credentials without doing business: a signed 9001 with an
    empty signIn node — accepted credentials get an input error, refused ones a 401."""
    import httpx

    from yibao.client import SINGLE_URL, signed_headers

    creds = load_credentials(key_file, transport)
    body = json.dumps(_envelope(institution, "9001", {"signIn": {}}), ensure_ascii=False)
    headers = signed_headers(creds.transport, creds.app_key, creds.app_secret, "9001")
    headers["Content-Type"] = "application/json;charset=utf-8"
    try:
        r = httpx.post(centre.rstrip("/") + SINGLE_URL, content=body.encode(), headers=headers,
                       timeout=timeout)  # fmt: skip
    except httpx.HTTPError as exc:
        raise _fail(f"连不上医保中心 {centre}: {type(exc).__name__}") from exc
    try:
        data = r.json()
    except ValueError:
        data = {}
    if r.status_code == 200 and isinstance(data, dict) and "infcode" in data:
        typer.echo(
            f"医保中心 {centre} 可达，机构 {institution} 的凭证（{creds.transport}）已被接受。"
        )
        typer.echo(f"（自检报文未办理业务：{data.get('err_msg') or '无'}）")
        return
    message = data.get("message") if isinstance(data, dict) else ""
    raise _fail(f"医保中心拒绝：HTTP {r.status_code} {message or r.text[:200]}")


@app.command("key-file")
def key_file_cmd(
    path: Path = typer.Argument(..., help="where to write the key file (mode 600)"),
    app_key: str = typer.Option(None, "--app-key", help="AK issued by the centre (SK is read from stdin)"),
    transport: str = typer.Option("csb", "--transport", help="csb or tif"),
    demo: str = typer.Option(None, "--demo", help="write the PUBLIC demo credentials of this fixmedins_code"),
) -> None:  # fmt: skip
    """Write a key file. The secret comes from standard input (never a command-line argument,
    which other users can see); ``--demo CODE`` writes the demo province's public credentials."""
    if demo:
        from yibao.institutions.demo import demo_app_key, demo_secret

        app_key, secret = demo_app_key(demo), demo_secret(demo)
    else:
        if not app_key:
            raise _fail("须给出 --app-key（SK 从标准输入读入）或 --demo CODE")
        secret = sys.stdin.readline().strip()
        if not secret:
            raise _fail("标准输入没有读到 SK")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(model.key_file_text(app_key, secret, transport) + "\n")
    os.chmod(path, 0o600)
    typer.echo(f"已写入密钥文件 {path}（权限 600，AK {app_key}）")


@app.command("queue")
def queue_cmd(
    institution: str = InstitutionOpt,
    queue_file: Path = typer.Option(None, envvar="YIBAO_FRONTEND_QUEUE", help="reversal queue file"),
) -> None:  # fmt: skip
    """List the 2601 冲正 waiting for the centre (read only; the running processor sends them)."""
    path = queue_file or DEFAULT_STATE / f"{institution}-reversals.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = model.replay(lines)
    if not pending:
        typer.echo(f"没有待发的冲正（{path}）")
        return
    for r in pending.values():
        typer.echo(
            f"{r.msgid}  冲正 {r.oinfno} {r.omsgid}  排队于 {r.queued_at}  已试 {r.attempts} 次"
        )
