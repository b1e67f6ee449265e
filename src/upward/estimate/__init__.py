"""Estimators with margins of error: replicate-weight (SDR) variance, ACS derived-estimate
formulas, aggregation to custom areas.

Sits above ``warehouse`` and below ``privacy``/``measure`` in the layers of DESIGN.md.
"""
