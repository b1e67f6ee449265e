"""The workspace: one folder holding one installation (settings, warehouse, cache, reports).

``upward init DIR`` makes it; every command finds it from ``--workspace``, then
``$UPWARD_WORKSPACE``, then ``./upward-workspace``. Nothing is written outside it.

Examples
--------
>>> import tempfile, pathlib
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> ws.settings.download.retries
4
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from upward.core.errors import WorkspaceError
from upward.core.feedspec import FeedSpec

SETTINGS_FILE = "upward.toml"
DEFAULT_DIR = "upward-workspace"
ENV_VAR = "UPWARD_WORKSPACE"

class DownloadSettings(BaseModel):
    """How downloads are retried.

    >>> DownloadSettings(retries=2).backoff, DownloadSettings().timeout
    (0.5, 60.0)
    >>> DownloadSettings(retries=99)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for DownloadSettings
    retries
      Input should be less than or equal to 20 ...
    """

    model_config = ConfigDict(extra="forbid")
    retries: int = Field(4, ge=0, le=20, description="attempts per file after the first failure")
    backoff: float = Field(0.5, ge=0, le=60,
                           description="seconds before the first retry, doubled each time")
    timeout: float = Field(60.0, gt=0, le=3600,
                           description="seconds without data before a connection is abandoned")


class SourceSettings(BaseModel):
    """Per-dataset overrides.

    >>> SourceSettings(urls={"urban": "https://mirror.example.org/urban"}).urls["urban"]
    'https://mirror.example.org/urban'
    """

    model_config = ConfigDict(extra="forbid")
    urls: dict[str, str] = Field(default_factory=dict)


class CensusSettings(BaseModel):
    """The Census Data API: key and base address (environment variables take precedence).

    >>> CensusSettings().key is None, CensusSettings(url="http://localhost:8080").url
    (True, 'http://localhost:8080')
    """

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    url: str | None = None


class MicrodataSettings(BaseModel):
    """How microdata estimates run: ``engine`` is ``duckdb`` (default) or ``spark``.

    >>> MicrodataSettings().engine, MicrodataSettings(engine="spark").engine
    ('duckdb', 'spark')
    """

    model_config = ConfigDict(extra="forbid")
    engine: Literal["duckdb", "spark"] = "duckdb"


class ServerSettings(BaseModel):
    """The shared server (``upward serve`` with accounts): its PostgreSQL database and limits.

    Without ``database`` (and without ``--database`` or ``$UPWARD_DATABASE``) ``upward serve``
    is the single-user, read-only site.

    >>> s = ServerSettings()
    >>> s.database, s.max_upload_mb, s.session_hours
    (None, 20, 12)
    """

    model_config = ConfigDict(extra="forbid")
    database: str | None = Field(None, description="postgresql://user@host:port/dbname")
    secure_cookies: bool = Field(False, description="send cookies only over HTTPS (set it "
                                 "when the server is behind TLS)")
    max_upload_mb: float = Field(20, gt=0, le=1024, description="largest program file")
    session_hours: float = Field(12, gt=0, le=24 * 30, description="how long a login lasts")


class Settings(BaseModel):
    """The contents of ``upward.toml``.

    >>> s = Settings.model_validate({"download": {"retries": 1}, "microdata": {"engine": "spark"}})
    >>> s.download.retries, s.microdata.engine, s.feeds
    (1, 'spark', {})
    """

    model_config = ConfigDict(extra="forbid")
    download: DownloadSettings = Field(default_factory=DownloadSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    census: CensusSettings = Field(default_factory=CensusSettings)
    microdata: MicrodataSettings = Field(default_factory=MicrodataSettings)
    feeds: dict[str, FeedSpec] = Field(default_factory=dict)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("feeds")
    @classmethod
    def _feed_names(cls, value: dict[str, FeedSpec]) -> dict[str, FeedSpec]:
        from upward.core.feedspec import check_name

        for name in value:
            check_name(name)
        return value


_SOURCES_COMMENT = """\
# Override a dataset's download address (for a mirror), by dataset key:
# urls = { "urban.place_recent" = "https://mirror.example.org/05_mobility-metrics_place_recent.csv" }
"""


_CENSUS_COMMENT = """\
# Census Data API: a key (or set CENSUS_API_KEY) and the base address
# (UPWARD_CENSUS_API_URL overrides it).
# key = "your-key"
# url = "https://api.census.gov/data"
"""


def default_settings_text() -> str:
    """The ``upward.toml`` of a new workspace, written from the defaults of :class:`Settings`
    (the one place they are declared), each download setting with its description.

    >>> text = default_settings_text()
    >>> Settings.model_validate(tomllib.loads(text)) == Settings()
    True
    >>> print(text.splitlines()[3])
    retries = 4          # attempts per file after the first failure
    """
    lines = ["# Upward workspace settings. Unknown keys are an error.", "", "[download]"]
    defaults = DownloadSettings()
    for name, info in DownloadSettings.model_fields.items():
        lines.append(f"{f'{name} = {getattr(defaults, name)!r}':<20} # {info.description}")
    lines += ["", "[sources]", _SOURCES_COMMENT.rstrip("\n"),
              f"urls = {{{', '.join(SourceSettings().urls)}}}"]
    lines += ["", "[census]", _CENSUS_COMMENT.rstrip("\n")]
    engine = f'engine = "{MicrodataSettings().engine}"'
    lines += ["", "[microdata]",
              f'{engine:<20} # PUMS estimates: duckdb, or spark (pip install "upward[spark]")']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its validated settings.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> ws.settings_path.name, ws.warehouse_path.name, Workspace.open(ws.root).settings == ws.settings
    ('upward.toml', 'warehouse.duckdb', True)
    """

    root: Path
    settings: Settings

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file.

        >>> Workspace(Path("/w"), Settings()).warehouse_path
        PosixPath('/w/warehouse.duckdb')
        """
        return self.root / "warehouse.duckdb"

    @property
    def cache_dir(self) -> Path:
        """Downloads, keyed by URL.

        >>> Workspace(Path("/w"), Settings()).cache_dir.name
        'cache'
        """
        return self.root / "cache"

    @property
    def settings_path(self) -> Path:
        """The settings file.

        >>> Workspace(Path("/w"), Settings()).settings_path.name
        'upward.toml'
        """
        return self.root / SETTINGS_FILE

    @property
    def evaluations_dir(self) -> Path:
        """Saved evaluation results (JSON), one file per run.

        >>> Workspace(Path("/w"), Settings()).evaluations_dir.name
        'evaluations'
        """
        return self.root / "evaluations"

    @property
    def evidence_dir(self) -> Path:
        """The evidence library.

        >>> Workspace(Path("/w"), Settings()).evidence_dir.name
        'evidence'
        """
        return self.root / "evidence"

    @property
    def secrets_dir(self) -> Path:
        """Workspace secrets (the identifier-hashing key, the signing key); never published.

        >>> Workspace(Path("/w"), Settings()).secrets_dir.name
        'secrets'
        """
        return self.root / "secrets"

    @property
    def reports_dir(self) -> Path:
        """Rendered reports.

        >>> Workspace(Path("/w"), Settings()).reports_dir.name
        'reports'
        """
        return self.root / "reports"

    @classmethod
    def init(cls, root: Path) -> Workspace:
        """Create a workspace (or return the existing one at ``root``).

        >>> import tempfile
        >>> Workspace.init(Path(tempfile.mkdtemp())).root.exists()
        True
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} exists and is not a folder",
                                 fix="choose another path for the workspace")
        root.mkdir(parents=True, exist_ok=True)
        settings = root / SETTINGS_FILE
        if not settings.exists():
            settings.write_text(default_settings_text(), encoding="utf-8")
        for sub in ("cache", "reports"):
            (root / sub).mkdir(exist_ok=True)
        return cls.open(root)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace, validating its settings.

        >>> import tempfile
        >>> Workspace.open(Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        upward.core.errors.WorkspaceError: ... is not an Upward workspace ...
        """
        root = Path(root)
        path = root / SETTINGS_FILE
        if not path.is_file():
            raise WorkspaceError(
                f"{root} is not an Upward workspace (no {SETTINGS_FILE})",
                fix=f"run 'upward init {root}' first, or pass --workspace DIR",
            )
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(f"{path}: not valid TOML ({exc})",
                                 fix="correct the syntax of the settings file") from None
        try:
            settings = Settings.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise WorkspaceError(
                f"{path}: setting {where!r}: {first['msg']}",
                fix="remove or correct that key (see the comments in a new upward.toml)",
            ) from None
        return cls(root=root, settings=settings)


def resolve_workspace(option: Path | None) -> Path:
    """The workspace folder to use: the option, else $UPWARD_WORKSPACE, else ./upward-workspace.

    >>> resolve_workspace(Path("ws"))
    PosixPath('ws')
    """
    if option is not None:
        return Path(option)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(DEFAULT_DIR)
