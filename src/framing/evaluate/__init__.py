"""Judging a model: evaluation splits (``splits``), baselines, cross-validation and
scoring on another corpus (``evaluation``), label issues (``issues``), learning curves
(``curve``) and the figures (``plots``).

May import everything below it: ``core``, ``text``, ``predict``, ``config``, ``data``,
``learn``.
"""
