"""Fetch: find or download each dataset's file, read and validate it, then load all at once.

Every file is read and validated before anything is written, and all datasets of one command
are loaded in a single transaction: a bad file leaves the warehouse exactly as it was.

Examples
--------
>>> plan_names(["urban"])[0].key
'urban.place_recent'
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from upward.core.errors import ConfigError, UpwardError
from upward.metrics.check import require_declared
from upward.sources import Dataset, Tables, datasets_of, source_names
from upward.sources.http import download
from upward.warehouse.store import LoadResult, Warehouse
from upward.warehouse.workspace import Workspace

Report = Callable[[str], None]


@dataclass(frozen=True)
class FoundFile:
    """A dataset's file located locally or downloaded, ready to read.

    >>> import tempfile
    >>> from upward.sources import DATASETS
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "cz_county_crosswalk.csv").write_text("cz,state,county,czname\\n")
    >>> found = locate_local(DATASETS["crosswalk.county_cz"], root, None)[0]
    >>> found.key, found.path.name, found.location.startswith("file://"), found.state
    ('crosswalk.county_cz', 'cz_county_crosswalk.csv', True, None)
    """

    dataset: Dataset
    key: str
    path: Path
    location: str
    sha256: str
    retrieved_at: str
    state: str | None


def plan_names(names: Sequence[str]) -> list[Dataset]:
    """The datasets behind source names, checking each name.

    >>> [d.source for d in plan_names(["urban"])][:1]
    ['urban']
    """
    known = source_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown source {unknown[0]!r}",
            fix=f"use one or more of: {', '.join(known)}",
        )
    if "feeds" in names:
        raise ConfigError("city data feeds are not fetched as files",
                          fix="declare them under [feeds.NAME] in upward.toml and run "
                          "`upward sync` (see docs/feeds.md)")
    return [d for name in names for d in datasets_of(name)]


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in chunks.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
    >>> sha256_of(p)[:8]
    'e3b0c442'
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def locate_local(dataset: Dataset, root: Path, states: Sequence[str] | None) -> list[FoundFile]:
    """The files of ``dataset`` under a local folder (the first of its local names that exists).

    >>> from upward.sources import DATASETS
    >>> locate_local(DATASETS["urban.place_recent"], Path("/nonexistent"), None)
    []
    """
    found: list[FoundFile] = []
    if dataset.per_state:
        for pattern in dataset.local_names:
            wanted = states or ["*"]
            for state in wanted:
                for hit in sorted(glob.glob(str(root / pattern.format(state=state)))):
                    path = Path(hit)
                    code = _state_from_name(path.name, pattern)
                    if code and all(f.state != code for f in found):
                        found.append(_found_local(dataset, path, code))
        return found
    for name in dataset.local_names:
        path = root / name
        if path.is_file():
            return [_found_local(dataset, path, None)]
    return []


def _state_from_name(filename: str, pattern: str) -> str | None:
    prefix, _, suffix = Path(pattern).name.partition("{state}")
    if filename.startswith(prefix) and filename.endswith(suffix):
        code = filename[len(prefix):len(filename) - len(suffix)]
        return code if code.isdigit() and len(code) == 2 else None
    return None


def _found_local(dataset: Dataset, path: Path, state: str | None) -> FoundFile:
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return FoundFile(dataset, _key(dataset, state), path, path.resolve().as_uri(),
                     sha256_of(path), stamp, state)


def _key(dataset: Dataset, state: str | None) -> str:
    return f"{dataset.key}.{state}" if state else dataset.key


def download_file(
    dataset: Dataset, workspace: Workspace, state: str | None, *, refresh: bool
) -> FoundFile:
    """Download a dataset's file from its publisher (or the workspace's URL override).

    >>> import functools, http.server, tempfile, threading
    >>> from upward.sources import DATASETS
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "cz.csv").write_text("cz,state,county,czname\\n35400,40,143,Tulsa\\n")
    >>> class Quiet(http.server.SimpleHTTPRequestHandler):
    ...     def log_message(self, *args): pass
    >>> server = http.server.ThreadingHTTPServer(
    ...     ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> ws = Workspace.init(root / "ws")
    >>> url = f"http://127.0.0.1:{server.server_address[1]}/cz.csv"
    >>> ws.settings.sources.urls["crosswalk.county_cz"] = url  # the workspace's URL override
    >>> found = download_file(DATASETS["crosswalk.county_cz"], ws, None, refresh=False)
    >>> server.shutdown(); server.server_close()
    >>> found.key, found.location == url, found.path.read_text().splitlines()[1]
    ('crosswalk.county_cz', True, '35400,40,143,Tulsa')
    """
    url = workspace.settings.sources.urls.get(_key(dataset, state)) or \
        workspace.settings.sources.urls.get(dataset.key) or dataset.url_for(state)
    if dataset.per_state and "{state}" in url:
        url = url.format(state=state)
    s = workspace.settings.download
    got = download(url, workspace.cache_dir, retries=s.retries, backoff=s.backoff,
                   timeout=s.timeout, refresh=refresh)
    return FoundFile(dataset, _key(dataset, state), got.path, url, got.sha256,
                     got.retrieved_at, state)


def fetch(
    workspace: Workspace,
    names: Sequence[str],
    *,
    from_dir: Path | None = None,
    states: Sequence[str] | None = None,
    refresh: bool = False,
    report: Report = lambda message: None,
    allow_shrink: bool = False,
) -> list[LoadResult]:
    """Bring the named sources into the workspace's warehouse.

    With ``from_dir`` the files are read from a local folder laid out like ``../shared/data``
    (or holding the publishers' file names); otherwise they are downloaded. Per-state datasets
    (tract boundaries) need ``states`` when downloading. A file carrying a metric the catalog
    does not declare is refused (``upward.metrics.check``) before anything is written, and so
    is a file with fewer rows than the data it would replace, unless ``allow_shrink``.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "cz_county_crosswalk.csv").write_text("cz,state,county,czname\\n"
    ...                                                   "35400,40,143,Tulsa\\n")
    >>> ws = Workspace.init(root / "ws")
    >>> [str(r) for r in fetch(ws, ["crosswalks"], from_dir=root)]
    ['crosswalk.county_cz: loaded (2 rows)']
    >>> fetch(ws, ["crosswalks"], from_dir=root)[0].status  # the same file again
    'unchanged'
    """
    datasets = plan_names(names)
    files: list[FoundFile] = []
    for dataset in datasets:
        if from_dir is not None:
            hits = locate_local(dataset, Path(from_dir), states)
            if not hits:
                report(f"[yellow]skipped[/] {dataset.key}: none of "
                       f"{', '.join(dataset.local_names)} under {from_dir}")
            files.extend(hits)
        elif dataset.per_state:
            if not states:
                raise ConfigError(f"{dataset.key} is published per state",
                                  fix="add --state with a two-digit FIPS code, e.g. --state 40")
            files.extend(download_file(dataset, workspace, s, refresh=refresh) for s in states)
        else:
            files.append(download_file(dataset, workspace, None, refresh=refresh))
    if not files:
        raise UpwardError(f"no file of {', '.join(names)} found under {from_dir}",
                          fix="point --from at a folder laid out like ../shared/data, "
                          "or holding the publishers' file names")
    items = []
    for found in files:
        source_id = f"{found.key}@{found.sha256[:12]}"
        report(f"reading {found.key} from {found.path.name}")
        tables: Tables = found.dataset.reader(found.path, source_id)
        require_declared(found.path, tables.observations["metric_id"])
        items.append((found.key, tables, _provenance(found, source_id, tables)))
    with Warehouse(workspace.warehouse_path) as wh:
        results = wh.load_many(items, allow_shrink=allow_shrink)
        wh.checkpoint()
    return results


def _provenance(found: FoundFile, source_id: str, tables: Tables) -> dict:
    d = found.dataset
    return {
        "source_id": source_id,
        "dataset": found.key,
        "publisher": str(d.publisher),  # the registry's, never guessed from the id
        "title": d.title,
        "url": found.location,
        "retrieved_at": found.retrieved_at,
        "sha256": found.sha256,
        "rows": tables.rows,
        "license": d.license,
        "notes": " ".join([d.notes, *tables.notes]).strip(),
    }
