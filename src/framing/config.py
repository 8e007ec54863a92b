"""Where the configs are, and the resolvers they use (training side: imports OmegaConf)."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import OmegaConf

_PKG = Path(__file__).resolve().parent


def project_root() -> Path:
    """$FRAMING_HOME, else the source checkout this package runs from, else the cwd."""
    env = os.environ.get("FRAMING_HOME")
    if env:
        return Path(env).resolve()
    checkout = _PKG.parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "train.yaml").is_file():
        return checkout
    return Path.cwd().resolve()


def config_dir() -> Path:
    """The shipped config tree: ``conf/`` of a checkout, or the copy inside the wheel."""
    inside = _PKG / "conf"
    if (inside / "train.yaml").is_file():
        return inside
    return _PKG.parents[1] / "conf"


def register_resolvers() -> None:
    """``${framing_root:}`` resolves to :func:`project_root`."""
    if not OmegaConf.has_resolver("framing_root"):
        OmegaConf.register_new_resolver("framing_root", lambda: str(project_root()))
