"""Judging a model: evaluation splits (``splits``), baselines, cross-validation and
scoring on another corpus (``evaluation``), label issues (``issues``), learning curves
(``curve``), the figures (``plots``) and an article's page as the model reads it
(``report``).

May import everything below it: ``core``, ``text``, ``predict``, ``config``, ``data``,
``learn``.
"""
