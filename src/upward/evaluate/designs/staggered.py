"""Placeholder: filled in by the staggered design work."""
