"""`upward evaluate SPEC`, `upward evaluations` and `upward plan`: impact estimates, saved
results and pilot power.

Examples
--------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> sorted(c.name for c in app.registered_commands)
['evaluate', 'evaluations', 'plan']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, err_console, open_workspace
from upward.core.errors import ConfigError, UpwardError

RESULT_FORMATS = ("table", "json", "md", "html")
PLAN_FORMATS = ("table", "json")

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json, md or html")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]
LangOption = Annotated[str, typer.Option(
    "--lang", help="Language of the HTML report: en (English) or es (Spanish).")]
REPORT_LANGUAGES = ("en", "es")


def check_lang(lang: str, fmt: str) -> None:
    """``--lang``: a report language, and only for the HTML report (the terminal, Markdown and
    JSON are in English).

    >>> check_lang("es", "html")
    >>> check_lang("fr", "html")
    Traceback (most recent call last):
    ...
    upward.core.errors.UpwardError: --lang 'fr' is not a report language. What to do: use en or es
    >>> check_lang("es", "table")
    Traceback (most recent call last):
    ...
    upward.core.errors.UpwardError: --lang es applies to the HTML report only. What to do: add --format html -o report.html
    """
    if lang not in REPORT_LANGUAGES:
        raise UpwardError(f"--lang {lang!r} is not a report language",
                          fix=f"use {' or '.join(REPORT_LANGUAGES)}")
    if lang != "en" and fmt != "html":
        raise UpwardError(f"--lang {lang} applies to the HTML report only",
                          fix="add --format html -o report.html")


def _check_format(fmt: str, formats: tuple[str, ...]) -> None:
    if fmt not in formats:
        raise UpwardError(f"--format {fmt!r} is not a format", fix=f"use one of {', '.join(formats)}")


def emit_result(result, fmt: str, output: Path | None, lang: str = "en") -> None:
    """Print or write an evaluation result in ``fmt`` (the HTML report in ``lang``).

    >>> import json, tempfile
    >>> from upward.evaluate.result import EvaluationResult
    >>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 800.0, 200.0, 408.0,
    ...                      1192.0, 0.0001, 1000, n_treated=500, n_control=500)
    >>> out = Path(tempfile.mkdtemp()) / "r.json"
    >>> emit_result(r, "json", out)  # doctest: +ELLIPSIS
    wrote .../r.json
    >>> json.loads(out.read_text())["estimate"]
    800.0
    >>> emit_result(r, "html", None)
    Traceback (most recent call last):
    ...
    upward.core.errors.UpwardError: --format html needs --output FILE. What to do: add for example -o report.html
    """
    from upward.evaluate.render import rich_renderables, to_markdown

    if fmt == "table" and output is None:
        for item in rich_renderables(result):
            console.print(item)
        return
    if fmt == "html":
        from upward.report.evaluation import render_evaluation_report

        if output is None:
            raise UpwardError("--format html needs --output FILE",
                              fix="add for example -o report.html")
        text = render_evaluation_report(result, lang=lang)
    elif fmt == "json":
        text = result.to_json()
    else:
        text = to_markdown(result)
    emit_text(text, output)


def _evaluation_workspace(option: Path | None, *, save: bool = True):
    """The workspace an evaluation is saved in. One that is named (``-w`` or
    ``$UPWARD_WORKSPACE``) is created whole, as ``upward init`` makes it; the default
    ``./upward-workspace`` is never created silently by an evaluation. With ``--no-save`` and
    no workspace, None: identifiers are hashed with a key made for this run only.

    >>> import tempfile
    >>> _evaluation_workspace(Path(tempfile.mkdtemp()) / "ws").warehouse_path.exists()
    True
    """
    import os

    from upward.core.errors import WorkspaceError
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import DEFAULT_DIR, ENV_VAR

    if option is None and not os.environ.get(ENV_VAR) and not Path(DEFAULT_DIR).exists():
        if not save:
            return None
        raise WorkspaceError(
            f"no workspace for the evaluation (its identifier key and saved results): "
            f"./{DEFAULT_DIR} does not exist",
            fix="name one with -w DIR (it is created whole), or run upward init first")
    ws = open_workspace(option, create=True)
    with Warehouse(ws.warehouse_path):  # made whole, as upward init makes it
        pass
    return ws


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command("evaluate")
    def evaluate_cmd(
        spec: Annotated[Path, typer.Argument(help="The evaluation spec (YAML).")],
        fmt: FormatOption = "table",
        output: OutputOption = None,
        save: Annotated[bool, typer.Option(help="Save the result in the workspace.")] = True,
        monitor: Annotated[bool, typer.Option(
            "--monitor", help="Refresh a monitored evaluation (the spec's 'monitor:' "
            "section; same as 'upward monitor SPEC').")] = False,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
    ) -> None:
        """Estimate a program's impact from a spec: data, design, columns (docs/evaluate.md).

        The result (estimate, checks, cost) is saved in <workspace>/evaluations/.

        Example: upward evaluate pilot.yaml --format html -o pilot.html --lang es
        """
        if not spec.is_file():  # answered before the estimation libraries are imported
            from upward.core.errors import InputFileError

            raise InputFileError(spec, "the spec file does not exist",
                                 fix="check the path; 'upward demo' writes example specs to "
                                     "<workspace>/demo-data/pilot/")
        if monitor:
            from upward.cli.monitor import run_monitor

            run_monitor(spec, workspace, fmt=fmt, output=output, save=save, lang=lang)
            return
        _check_format(fmt, RESULT_FORMATS)
        check_lang(lang, fmt)
        from upward.evaluate.run import run_evaluation

        if fmt == "html" and output is None:
            raise UpwardError("--format html needs --output FILE", fix="add for example -o report.html")
        ws = _evaluation_workspace(workspace, save=save)
        with err_console.status("estimating…"):
            run = run_evaluation(spec, ws, save=save)
        emit_result(run.result, fmt, output, lang)
        if run.saved_to is not None:
            err_console.print(f"saved {run.saved_to}", highlight=False)

    @app.command("evaluations")
    def evaluations_cmd(
        name: Annotated[str | None, typer.Argument(
            help="A saved result to show (its name, spec name or JSON file).")] = None,
        fmt: FormatOption = "table",
        output: OutputOption = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
    ) -> None:
        """List saved evaluation results, or show one.

        Example: upward evaluations job-training-earnings --format html -o earnings.html
        """
        from upward.evaluate.run import list_evaluations, load_evaluation

        _check_format(fmt, RESULT_FORMATS)
        check_lang(lang, fmt)
        ws = open_workspace(workspace)
        if name is not None:
            emit_result(load_evaluation(name, ws), fmt, output, lang)
            return
        saved = list_evaluations(ws)
        if fmt == "json":
            import json

            emit_text(json.dumps([{"name": s.name, "path": str(s.path), "design": s.design,
                                   "outcome": s.outcome, "estimand": s.estimand,
                                   "estimate": s.estimate, "ci_low": s.ci_low,
                                   "ci_high": s.ci_high, "generated_at": s.generated_at,
                                   "failed_checks": s.failed_checks} for s in saved], indent=2),
                      output)
            return
        from rich.table import Table

        from upward.evaluate.render import fmt as number

        t = Table(title=f"Saved evaluations in {ws.evaluations_dir}", header_style="bold")
        for h in ("name", "design", "outcome", "estimate", "interval", "failed checks", "run at"):
            t.add_column(h, overflow="fold")
        for s in saved:
            t.add_row(s.name, s.design, s.outcome, f"{s.estimand} {number(s.estimate)}",
                      f"{number(s.ci_low)} to {number(s.ci_high)}",
                      str(s.failed_checks) if s.failed_checks else "",
                      s.generated_at)
        if not saved:
            err_console.print("no saved evaluations yet: run 'upward evaluate SPEC'")
        console.print(t)

    @app.command("plan")
    def plan_cmd(
        design: Annotated[str, typer.Option(
            "--design", "-d", help="rct (people randomised), cluster (groups randomised) or did "
            "(panel, simulated).")] = "rct",
        n: Annotated[int | None, typer.Option(
            "--n", help="Randomised units: people (rct), clusters (cluster), panel units "
            "(did).")] = None,
        effect: Annotated[float | None, typer.Option(
            "--effect", help="An effect to compute the power for (outcome units; with the "
            "default --sd 1, in standard deviations).")] = None,
        mde: Annotated[bool, typer.Option(
            "--mde", help="Report the minimum detectable effect (always shown).")] = False,
        sd: Annotated[float | None, typer.Option(
            "--sd", help="Outcome standard deviation (default 1; with --from-evidence, 0.5 for "
            "a share outcome and needed otherwise).")] = None,
        share: Annotated[float, typer.Option("--share", help="Share assigned to treatment.")] = 0.5,
        r2: Annotated[float, typer.Option(
            "--r2", help="Outcome variance explained by baseline covariates (individual level)."
        )] = 0.0,
        covariates: Annotated[int, typer.Option(
            "--covariates", help="Number of covariates (costs degrees of freedom).")] = 0,
        icc: Annotated[float, typer.Option("--icc", help="Intraclass correlation (cluster).")] = 0.05,
        cluster_size: Annotated[float, typer.Option(
            "--cluster-size", help="People per cluster (cluster).")] = 20,
        r2_cluster: Annotated[float, typer.Option(
            "--r2-cluster", help="Cluster-level variance explained by cluster covariates.")] = 0.0,
        periods: Annotated[int, typer.Option("--periods", help="Periods observed (did).")] = 12,
        pre_periods: Annotated[int | None, typer.Option(
            "--pre-periods", help="Periods before treatment (did; default half).")] = None,
        rho: Annotated[float, typer.Option(
            "--rho", help="AR(1) serial correlation of the errors (did).")] = 0.5,
        sims: Annotated[int, typer.Option("--sims", help="Simulated panels (did).")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (did).")] = 20261201,
        alpha: Annotated[float, typer.Option("--alpha", help="Test level, two-sided.")] = 0.05,
        power: Annotated[float, typer.Option("--power", help="Target power.")] = 0.8,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        output: OutputOption = None,
        from_evidence: Annotated[str | None, typer.Option(
            "--from-evidence", help="An intervention id of the evidence library: size a pilot "
            "to detect its pooled effect (with --place) and write an evaluation spec "
            "skeleton.")] = None,
        place: Annotated[str | None, typer.Option(
            "--place", help="With --from-evidence: the city, e.g. 'Tulsa, OK'.")] = None,
        outcome: Annotated[str | None, typer.Option(
            "--outcome", help="With --from-evidence: the outcome id (default: the one with the "
            "most studies).")] = None,
        target: Annotated[str, typer.Option(
            "--target", help="With --from-evidence: pooled (the pooled effect) or pi-low (the "
            "end of its prediction interval nearest zero).")] = "pooled",
        spec: Annotated[Path | None, typer.Option(
            "--spec", help="With --from-evidence: where to write the spec skeleton (default: "
            "pilots/NAME.yaml in the workspace).")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Plan a pilot: minimum detectable effect, power at an effect, and the power curve.

        Example: upward plan --design rct --n 2000 --sd 4200 --r2 0.3 --effect 500

        Example: upward plan --from-evidence eitc-86 --place "Tulsa, OK"
        """
        from upward.evaluate.power import cluster_plan, did_plan, rct_plan

        _check_format(fmt, PLAN_FORMATS)
        if from_evidence:
            from upward.cli.recommend import plan_from_evidence_command

            plan_from_evidence_command(
                from_evidence, place, outcome=outcome, target=target, sd=sd, design=design,
                cluster_size=cluster_size, icc=icc, r2=r2, share=share, alpha=alpha,
                power=power, spec=spec, fmt=fmt, output=output, workspace=workspace)
            return
        sd = 1.0 if sd is None else sd
        if n is None:
            raise ConfigError("--n is required", fix="give the number of randomised units, e.g. "
                              "--n 2000")
        builders = {
            "rct": lambda: rct_plan(n, effect=effect, sd=sd, share_treated=share, r2=r2,
                                    n_covariates=covariates, alpha=alpha, power=power),
            "cluster": lambda: cluster_plan(n, cluster_size, icc, effect=effect, sd=sd,
                                            share_treated=share, r2_individual=r2,
                                            r2_cluster=r2_cluster,
                                            n_cluster_covariates=covariates, alpha=alpha,
                                            power=power),
            "did": lambda: did_plan(n, periods, pre_periods if pre_periods is not None
                                    else periods // 2, effect=effect, sd=sd, rho=rho,
                                    share_treated=share, alpha=alpha, power=power,
                                    n_sims=sims, seed=seed),
        }
        if design not in builders:
            raise ConfigError(f"--design {design!r} is not a plan design",
                              fix=f"use one of {', '.join(builders)}")
        plan = builders[design]()
        if fmt == "json":
            emit_text(plan.to_json(), output)
            return
        _print_plan(plan, output)


def _print_plan(plan, output: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from upward.evaluate.render import fmt

    target = Console(file=output.open("w", encoding="utf-8"), width=120) if output else console
    try:
        inputs = Table(title=f"Pilot plan: {plan.design}", header_style="bold",
                       title_justify="left")
        inputs.add_column("input")
        inputs.add_column("value", justify="right")
        for key, value in plan.inputs.items():
            inputs.add_row(key, str(value) if key == "seed" else fmt(value))
        for key, value in (("alpha (two-sided)", plan.alpha), ("target power", plan.target_power),
                           ("degrees of freedom", plan.df), ("multiplier", plan.multiplier),
                           ("standard error", plan.standard_error)):
            inputs.add_row(key, fmt(value))
        target.print(inputs)
        for line in plan.summary_lines():
            target.print(line, highlight=False)
        target.print(f"Method: {plan.method}", style="dim", highlight=False)
        curve = Table(title="Power curve", header_style="bold", title_justify="left")
        columns = list(plan.curve[0]) if plan.curve else []
        for c in columns:
            curve.add_column(c.replace("_", " "), justify="right")
        for row in plan.curve:
            curve.add_row(*[fmt(row[c]) if c == "effect" else f"{row[c]:.1%}" for c in columns])
        target.print(curve)
    finally:
        if output:
            target.file.close()
            console.print(f"wrote {output}")
