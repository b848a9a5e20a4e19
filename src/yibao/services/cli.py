"""``yibao services catalogue|ask|qa-eval`` (网上服务大厅, 边问边办)."""

from __future__ import annotations

import json
from datetime import date

import typer

app = typer.Typer(help="网上服务大厅: 服务目录与政策问答 (边问边办)", no_args_is_help=True)


@app.command("catalogue")
def catalogue() -> None:
    """List the online services."""
    from yibao.services.service import catalogue as items

    for s in items():
        typer.echo(f"{s.id}\t{s.name}\t{s.entry}\t{'、'.join(s.channels)}\t{s.time_limit}")


@app.command("ask")
def ask(question: str = typer.Argument(..., help="问题（中文）"), admdvs: str = typer.Option("", help="参保地区划"),
        on: str = typer.Option("", help="日期 YYYY-MM-DD")) -> None:  # fmt: skip
    """Answer a question (JSON)."""
    from yibao.services.service import ask as answer

    typer.echo(json.dumps(answer(question, admdvs, date.fromisoformat(on) if on else None),
                          ensure_ascii=False, indent=2, default=str))  # fmt: skip


@app.command("qa-eval")
def qa_eval(show_misses: bool = typer.Option(False, "--misses", help="列出未命中的问题")) -> None:
    """Score the Q&A on its evaluation set: hit@1, hit@3, refusals."""
    from yibao.services.evaluation import evaluate

    s = evaluate()
    typer.echo(s.line())
    if show_misses:
        for q, want, got in s.misses:
            typer.echo(f"  {q}  期望 {want}  得到 {got}")
