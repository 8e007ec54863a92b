"""Exceptions a user can cause, each with a message that says what, where and what to do."""

from __future__ import annotations


class FramingError(Exception):
    """Base class of every error the package raises on purpose.

    The command-line tools print the message of a ``FramingError`` without a traceback
    and exit with status 2.
    """


class FramingDataError(FramingError, ValueError):
    """A corpus cannot be read or does not validate (file, record and fix in the message)."""


class FramingConfigError(FramingError, ValueError):
    """A configuration value is missing or inconsistent."""


class ModelLoadError(FramingError):
    """A predictor bundle is missing, corrupt, tampered with or not a framing bundle."""


class TrackingError(FramingError):
    """The MLflow tracking store cannot be reached or written."""
