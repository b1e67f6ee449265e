"""Evaluate interventions: program records in, an impact estimate that holds up out.

A spec (``EvaluationSpec``, YAML) names the data, the design and the columns; the design's
estimator returns an ``EvaluationResult`` with the estimate, its uncertainty, the assumption
checks and the tables its charts are drawn from.

Examples
--------
>>> from upward.evaluate.designs import DESIGNS
>>> "rct" in DESIGNS
True
"""
