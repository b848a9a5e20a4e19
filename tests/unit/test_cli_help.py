"""Every ``yibao`` command, argument and option has a help text; flags show no ``<bool>``."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from yibao.cli import app
from yibao.cli_help import missing_help


def test_every_command_and_option_has_help() -> None:
    assert missing_help(app) == []


def test_the_walk_finds_a_command_and_an_option_without_help() -> None:
    bare = typer.Typer(help="a test app")

    @bare.command("list")
    def listing(month: str = typer.Option("", "--month")) -> None:
        pass

    @bare.command("show")
    def show(psn_no: str = typer.Argument(..., help="人员编号")) -> None:
        """Show one."""

    assert missing_help(bare) == ["yibao list", "yibao list --month"]


def test_clearing_list_help_and_flags_without_a_value_type() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["clearing", "list", "--help"], terminal_width=120)
    assert listing.exit_code == 0
    assert "List the clearing statements" in listing.output
    assert "清算期 YYYY-MM" in listing.output
    serve = runner.invoke(app, ["serve", "--help"], terminal_width=120)
    assert serve.exit_code == 0
    assert "--no-demo" in serve.output
    assert "<bool>" not in serve.output and "<bool>" not in listing.output
    assert "<int>" in serve.output  # options that take a value still show its type
