"""`ftrag` command line. The only module that imports typer.

Every AdvisorError becomes one line per problem on stderr and exit status 2; no traceback.
Heavy imports (torch, transformers, faiss) happen inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer

from advisor.errors import AdvisorError

app = typer.Typer(
    help="ftrag: decide between fine-tuning, RAG or a hybrid, and prove it with numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
advisor_app = typer.Typer(help="Evaluate and retrain the learned scorer.", no_args_is_help=True)
app.add_typer(advisor_app, name="advisor")


class OutFormat(str, Enum):
    json = "json"
    md = "md"
    text = "text"


def fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    sys.exit(2)


def emit_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command()
def schema() -> None:
    """Print the profile JSON Schema (field names, allowed values, bounds, help)."""
    from advisor.profile import profile_json_schema

    emit_json(profile_json_schema())


@app.command()
def validate(profile: Path = typer.Argument(..., help="Profile file, JSON or YAML.")) -> None:
    """Check a profile file; print one line per bad field and exit 2 if it is invalid."""
    from advisor.profile import load_profile

    p = load_profile(profile)
    typer.echo(f"ok: {profile} is a valid profile ({p.name})")


@app.command()
def doctor(
    format: OutFormat = typer.Option(OutFormat.text, "--format", help="text or json"),
    prepare: bool = typer.Option(False, "--prepare", help="Convert and cache the generator now."),
) -> None:
    """Show which models are available offline, the cache, the device and versions."""
    from prototype.backbone import doctor_report, prepare_cache

    if prepare:
        prepare_cache(progress=lambda msg: typer.echo(msg, err=True))
    report = doctor_report()
    if format == OutFormat.json:
        emit_json(report)
        return
    for key, value in report.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k}: {v}")
        else:
            typer.echo(f"{key}: {value}")


# --- commands added by the capability modules go below this line ---


def main() -> None:
    """Console entry point: domain errors -> exit 2 with readable lines."""
    try:
        app(standalone_mode=False)
    except AdvisorError as e:
        fail(e.lines())
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(2)
        if isinstance(e, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
