"""Worked examples: every evaluation design run from a YAML spec on a published dataset."""
