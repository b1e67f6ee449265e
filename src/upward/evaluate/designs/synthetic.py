"""Placeholder: filled in by the synthetic design work."""
