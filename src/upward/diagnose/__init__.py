"""Diagnose: where a place falls behind its peers and the nation, for whom, and where.

Examples
--------
>>> from upward.diagnose import barriers
>>> callable(barriers)
True
"""

from __future__ import annotations

from upward.diagnose.drivers import DriversReport, drivers
from upward.diagnose.neighbourhoods import NeighbourhoodReport, neighbourhoods
from upward.diagnose.peers import PeerSet, choose_peers
from upward.diagnose.report import BarrierReport, barriers

__all__ = ["BarrierReport", "DriversReport", "NeighbourhoodReport", "PeerSet", "barriers",
           "choose_peers", "drivers", "neighbourhoods"]
