"""The `mgsleep` command: each group parses, calls one core or service function, renders
(people: tables in their language; machines: `--json`, the schemas of `mgsleep.public`).

The groups are imported here only for their command definitions; each keeps its heavy
imports (database, web server, statistics) inside the commands that need them.
"""

from __future__ import annotations

import typer

from mgsleep.cli.common import InputErrorGroup
from mgsleep.cli.diary import diary_app
from mgsleep.cli.dose import dose_app
from mgsleep.cli.evidence import evidence_app
from mgsleep.cli.imports import import_command
from mgsleep.cli.isi import isi_command
from mgsleep.cli.plan import plan_app
from mgsleep.cli.serve import serve_command
from mgsleep.cli.trial import trial_app

app = typer.Typer(
    cls=InputErrorGroup,
    help="Magnesium for sleep: forms, doses, labels and the evidence behind them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (evidence_app, dose_app, plan_app):
    for command in group.registered_commands:
        app.registered_commands.append(command)
app.add_typer(diary_app, name="diary")
app.add_typer(trial_app, name="trial")
app.command("isi")(isi_command)
app.command("import")(import_command)
app.command("serve")(serve_command)


def main() -> None:
    app()
