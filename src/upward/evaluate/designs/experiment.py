"""Placeholder: filled in by the experiment design work."""
