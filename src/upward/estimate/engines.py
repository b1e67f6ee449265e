"""The engines that run the estimators' Ibis expressions: DuckDB (default) or Spark.

The same expression runs on either; Spark is for data that outgrow one machine (``pip install
"upward[spark]"``; local mode ``local[1]`` here, a cluster's master URL through
``$UPWARD_SPARK_MASTER``). One Spark session is made per process and reused.

Examples
--------
>>> con = connect("duckdb")
>>> con.name
'duckdb'
>>> connect("oracle")
Traceback (most recent call last):
...
upward.core.errors.ConfigError: --engine 'oracle' is not an engine. What to do: use duckdb or spark
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import ibis
import pandas as pd

from upward.core.errors import ConfigError

ENGINES = ("duckdb", "spark")


def connect(engine: str = "duckdb"):
    """An Ibis backend for ``engine`` (``duckdb`` in memory, or ``spark`` through PySpark).

    >>> connect().name
    'duckdb'
    """
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise ConfigError(f"--engine {engine!r} is not an engine", fix="use duckdb or spark")


@cache
def spark_session():
    """The process's Spark session (local mode unless ``$UPWARD_SPARK_MASTER`` is set).

    >>> spark_session  # doctest: +ELLIPSIS
    <functools._lru_cache_wrapper object at ...>
    """
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:  # pragma: no cover - depends on the install
        raise ConfigError("the Spark engine needs PySpark",
                          fix='pip install "upward[spark]" (and Java 17), or use --engine duckdb'
                          ) from None
    master = os.environ.get("UPWARD_SPARK_MASTER", "local[1]")
    builder = (SparkSession.builder.master(master).appName("upward")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def read_table(con, source: pd.DataFrame | Path | str | Sequence[Path], name: str):
    """Make ``source`` (a DataFrame, or Parquet file(s)) a table of the backend ``con``.

    >>> t = read_table(connect(), pd.DataFrame({"a": [1, 2]}), "demo")
    >>> int(t.a.sum().execute())
    3
    """
    if isinstance(source, pd.DataFrame):
        if con.name == "pyspark":
            frame = con._session.createDataFrame(source)
            frame.createOrReplaceTempView(name)
            return con.table(name)
        return con.create_table(name, source, temp=True, overwrite=True)
    paths = [str(p) for p in ([source] if isinstance(source, str | Path) else source)]
    if con.name == "pyspark":
        frame = con._session.read.parquet(*paths)
        frame.createOrReplaceTempView(name)
        return con.table(name)
    return con.read_parquet(paths, table_name=name)
