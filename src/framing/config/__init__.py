"""Configuration: the typed dataclasses of every config group (``schema``) and the Hydra
side — the config tree, its composition and the run's state (``tree``).

May import ``framing.core``. ``framing.config.schema`` needs no Hydra; ``tree`` does.
The names of framing 0.2's ``framing.config`` module (``compose``, ``settings``,
``config_dir`` …) are still found here, on first use.
"""


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib

    try:
        return getattr(importlib.import_module("framing.config.tree"), name)
    except AttributeError:
        raise AttributeError(f"module 'framing.config' has no attribute {name!r}") from None
