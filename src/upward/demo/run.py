"""``upward demo``: write the synthetic city's files into the workspace, load them through the
same connectors as real data, and build the demo city's profile.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "demo")
>>> profile, results = run_demo(ws)
>>> profile.geo.geo_id
'9900100'
"""

from __future__ import annotations

from upward.demo.generate import write_demo_files
from upward.errors import WorkspaceError
from upward.measure.profile import Profile, profile
from upward.metrics.check import require_declared
from upward.sources import SOURCE_NAMES
from upward.warehouse.ingest import fetch
from upward.warehouse.store import LoadResult, Warehouse
from upward.warehouse.workspace import Workspace

DEMO_FOLDER = "demo-data"


def run_demo(workspace: Workspace, *, seed: int = 2024) -> tuple[Profile, list[LoadResult]]:
    """Generate, load and profile the demo city in ``workspace``.

    Refuses a workspace that already holds real (non-demo) data, which the demo's datasets
    would replace.

    >>> run_demo  # doctest: +ELLIPSIS
    <function run_demo at ...>
    """
    folder = workspace.root / DEMO_FOLDER
    if workspace.warehouse_path.exists():
        with Warehouse(workspace.warehouse_path, read_only=True) as wh:
            src = wh.sources()
        real = src[~src["url"].str.contains(f"/{DEMO_FOLDER}/", regex=False)]
        if len(real):
            raise WorkspaceError(
                f"{workspace.root} already holds real data ({', '.join(real['dataset'][:3])} …); "
                "the demo would replace it",
                fix="run the demo in its own workspace: upward demo --workspace demo-ws",
            )
    manifest = write_demo_files(folder, seed=seed)
    results = fetch(workspace, list(SOURCE_NAMES), from_dir=folder, check=require_declared)
    return profile(manifest.city_geo_id, workspace=workspace), results
