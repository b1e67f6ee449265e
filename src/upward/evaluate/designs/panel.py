"""Placeholder: filled in by the panel design work."""
