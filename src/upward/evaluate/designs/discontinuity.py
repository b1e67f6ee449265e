"""Placeholder: filled in by the discontinuity design work."""
