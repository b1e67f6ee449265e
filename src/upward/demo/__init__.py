"""The synthetic demo city: publisher-format files for a city that does not exist.

Examples
--------
>>> CITY_GEO_ID, COUNTY_GEO_ID
('9900100', '99001')
"""

from __future__ import annotations

from upward.demo.generate import (
    CITY_GEO_ID,
    CITY_NAME,
    COUNTY_GEO_ID,
    COUNTY_NAME,
    DEMO_FILES,
    DemoManifest,
    write_demo_files,
)

__all__ = [
    "CITY_GEO_ID",
    "CITY_NAME",
    "COUNTY_GEO_ID",
    "COUNTY_NAME",
    "DEMO_FILES",
    "DemoManifest",
    "write_demo_files",
]
