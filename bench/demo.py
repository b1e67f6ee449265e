"""How long the synthetic demo city's files take to generate (``upward demo`` writes them
before loading), against copying the same files (the I/O floor of writing those bytes).

    python -m bench demo

One warm-up of each, then the median of five runs of each in the same process.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _median_seconds(run, repeat: int = 5) -> float:
    run()  # warm-up: imports, caches, page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> None:
    from upward.demo import write_demo_files

    tmp = Path(tempfile.mkdtemp(prefix="upward-bench-demo-"))
    try:
        source = write_demo_files(tmp / "source").root
        size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file()) / 1e6
        count = [0]

        def generate() -> None:
            count[0] += 1
            write_demo_files(tmp / f"gen{count[0]}")

        def copy() -> None:
            count[0] += 1
            shutil.copytree(source, tmp / f"copy{count[0]}")

        gen_s, copy_s = _median_seconds(generate), _median_seconds(copy)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"demo: generate the synthetic city's files ({size:.1f} MB), median of 5 after a warm-up")
    print(f"  write_demo_files:                 {gen_s * 1000:8.1f} ms")
    print(f"  shutil.copytree of the same files: {copy_s * 1000:8.1f} ms")
    print(f"  ratio generate / copy: {gen_s / copy_s:.1f}x")
