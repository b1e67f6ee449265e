"""What every browser test module shares: where axe-core and the screenshots are, the impacts
that fail an axe check, and the marks that put a module on the one browser worker (one
browser per session) or skip it with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import CHROMIUM, REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
BLOCKING = ("serious", "critical")

BROWSER_MARKS = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no Chromium at {CHROMIUM} (set UPWARD_CHROMIUM)"),
    pytest.mark.skipif(not AXE.exists(),
                       reason=f"axe-core missing at {AXE}: run 'npm ci' in the repository"),
]
