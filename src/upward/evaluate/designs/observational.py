"""Placeholder: filled in by the observational design work."""
