"""The learning side: feature families as scikit-learn transformers (``features``), the
linear estimators and thresholds (``estimators``), one fit of a config (``fitting``), the
choice of a model from the data (``choice``) and a fitted model compiled to its numpy
scorer (``compile``).

May import ``core``, ``text``, ``predict``, ``config`` and ``data``.
"""
