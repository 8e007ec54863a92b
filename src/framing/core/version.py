"""The package's version, read by the model card and ``framing --version``."""

__version__ = "0.2.0"
