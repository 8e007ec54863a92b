"""Tracking, on the side: MLflow runs, their params, metrics and artifacts, sweeps
(``runs``) and the model as an MLflow pyfunc (``pyfunc``).

May import every layer but ``cli``; only the entry points (``framing.cli``) import it.
"""
