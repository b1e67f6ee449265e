"""`upward link ROSTER OUTCOMES`: link a program roster to outcome records by probabilistic
record linkage and write the roster with its linked outcomes (identifiers hashed, compared
fields dropped) and the match-quality report.

Examples
--------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> sorted(c.name for c in app.registered_commands)
['link']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, err_console, open_workspace
from upward.core.errors import ConfigError


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    """``["a=b", "c=d"]`` → ``{"a": "b", "c": "d"}``; a value without ``=`` is an error.

    >>> parse_pairs(["surname=name", "dob=date"], "--field")
    {'surname': 'name', 'dob': 'date'}
    """
    out = {}
    for value in values:
        key, sep, kind = value.partition("=")
        if not sep or not key.strip() or not kind.strip():
            raise ConfigError(f"{option} {value!r} is not COLUMN=VALUE",
                              fix=f"write for example {option} surname=name")
        out[key.strip()] = kind.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add ``upward link`` to the app.

    >>> register(typer.Typer())
    """

    @app.command("link")
    def link_cmd(
        roster: Annotated[Path, typer.Argument(help="The program roster (CSV, Excel, Parquet).")],
        outcomes: Annotated[Path, typer.Argument(help="The outcome records to link to it.")],
        field: Annotated[list[str], typer.Option(
            "--field", help="A compared field and its kind: COLUMN=name|date|text|exact "
            "(repeat).")],
        column: Annotated[list[str], typer.Option(
            "--column", help="An outcome column to bring over (repeat).")],
        id_column: Annotated[list[str], typer.Option(
            "--id-column", help="A roster identifier column, replaced by its keyed hash "
            "(repeat).")],
        outcome_field: Annotated[list[str] | None, typer.Option(
            "--outcome-field", help="ROSTER_COLUMN=OUTCOME_COLUMN when a field is named "
            "differently in the outcome file (repeat).")] = None,
        threshold: Annotated[str, typer.Option(
            "--threshold", help="Match probability a link needs, or 'auto' (best estimated "
            "F1).")] = "0.9",
        output: Annotated[Path, typer.Option("--output", "-o",
                                             help="Linked roster (CSV).")] = Path("linked.csv"),
        report: Annotated[Path | None, typer.Option(
            "--report", help="Write the match-quality report (JSON) here.")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Link a program roster to outcome records (Splink, in-memory DuckDB).

        Names and dates are compared in clear in this process only; the output has the
        compared fields dropped and identifiers replaced by the workspace's keyed hash.

        Example: upward link roster.csv wages.csv --field first_name=name --field
        last_name=name --field dob=date --id-column person_id --column wage_q4 -o linked.csv
        """
        from upward.core.atomic import atomic_write
        from upward.evaluate.linkage import LinkField, link_records, read_table
        from upward.evaluate.programs import BLANKS, IdHasher

        fields = [LinkField(c, kind, parse_pairs(outcome_field or [], "--outcome-field").get(c))
                  for c, kind in parse_pairs(field, "--field").items()]
        chosen: float | str = threshold if threshold == "auto" else _number(threshold)
        ws = open_workspace(workspace, create=True)
        roster_cells = read_table(roster)
        for c in id_column:
            if c not in roster_cells.columns:
                raise ConfigError(f"--id-column {c!r} is not a column of {roster}",
                                  fix=f"columns: {', '.join(roster_cells.columns)}")
        with err_console.status("linking…"):
            result = link_records(roster_cells, read_table(outcomes), fields,
                                  outcome_columns=list(column), threshold=chosen,
                                  roster_name=str(roster), outcomes_name=str(outcomes))
        hasher = IdHasher.for_workspace(ws.secrets_dir)
        linked = result.linked
        for c in id_column:
            if c in linked.columns:
                text = linked[c].astype(str).str.strip()
                linked[c] = [None if v in BLANKS else hasher(v) for v in text]
        atomic_write(output, linked.to_csv(index=False, lineterminator="\n"))
        if report is not None:
            atomic_write(report, result.quality.to_json())
        _print_quality(result.quality)
        err_console.print(f"wrote {output}" + (f" and {report}" if report else ""),
                          highlight=False)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--threshold {text!r} is not a number",
                          fix="give a probability such as 0.9, or auto") from None


def _print_quality(quality) -> None:
    from rich.table import Table

    console.print(quality.summary(), highlight=False)
    t = Table(title="Match quality by threshold (estimated from the model's match "
              "probabilities)", header_style="bold", title_justify="left")
    for h in ("threshold", "links", "precision", "recall", "F1"):
        t.add_column(h, justify="right")
    for row in quality.by_threshold:
        mark = " (chosen)" if row.threshold == quality.threshold else ""
        t.add_row(f"{row.threshold:g}{mark}", f"{row.links:,}",
                  *("—" if v is None else f"{v:.1%}" for v in (row.precision, row.recall,
                                                             row.f1)))
    console.print(t)
    for note in quality.notes:
        console.print(f"Note: {note}", style="dim", highlight=False)
