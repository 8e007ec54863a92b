"""The config tree, its schema, and the run's context (training side: imports OmegaConf).

* :func:`register` puts the typed schema (:mod:`framing.config.schema`) in Hydra's ConfigStore, so
  that ``conf/train.yaml`` composes into a validated :class:`~framing.config.schema.TrainConfig`.
* :func:`compose` builds a config from override strings without a command line (the
  Python API, the benchmark and the tests use it).
* :func:`settings` turns a composed config into the typed objects, checking ranges.
* :class:`RunContext` is what Hydra knows about the running job, read once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.config.schema import TrainConfig
from framing.core.errors import FramingConfigError

_PKG = Path(__file__).resolve().parent.parent  # the framing package
SCHEMA_NAME = "framing_schema"


def project_root() -> Path:
    """$FRAMING_HOME, else the source checkout this package runs from, else the folder
    the command was started in (:func:`root_origin` says which)."""
    return root_origin()[0]


def root_origin() -> tuple[Path, str]:
    """(the project root, what made it the root): ``$FRAMING_HOME`` when set; else the
    source checkout the package runs from (a clone on ``PYTHONPATH`` or installed
    editable); else — an installed package, which knows no checkout — the folder the
    command was started in. The MLflow store, Hydra's run folders and the shared corpora
    (``../shared``) are found from it."""
    env = os.environ.get("FRAMING_HOME")
    if env:
        return Path(env).resolve(), "$FRAMING_HOME"
    checkout = _PKG.parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "train.yaml").is_file():
        return checkout, "the source checkout framing runs from"
    return (user_cwd().resolve(),
            "the folder the command was started in: framing runs from an installed package")


def user_cwd() -> Path:
    """The folder the command was started in: relative paths of a run's outputs are read
    from there, even when Hydra runs the job in its own folder (``hydra.job.chdir=true``)."""
    import sys

    if "hydra.core.hydra_config" not in sys.modules:  # no Hydra job: the cwd is the user's
        return Path.cwd()
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get() if HydraConfig.initialized() else None
    except ImportError:
        hc = None
    if hc is not None and hc.job.get("chdir") and hc.runtime.get("cwd"):
        return Path(hc.runtime.cwd)
    return Path.cwd()


def shared_dir() -> Path:
    """The shared corpora's folder as ``paths.shared`` has it by default:
    ``$FRAMING_SHARED``, else ``shared/`` beside the project root."""
    env = os.environ.get("FRAMING_SHARED")
    return Path(env) if env else project_root().parent / "shared"


def shared_corpus_note(path: str | Path, paths: Any, setting: str = "data") -> str | None:
    """What a "no such file" error adds when the file would be one of the shared corpora
    (under ``paths.shared`` or ``paths.benchmarks``): that they are not part of the
    package, where they were looked for and why there, and how to point at them. None
    for any other path, or when the file is there.

    ``paths``: the run's ``paths`` config; ``setting``: ``data`` or ``test``."""
    path = Path(str(path))
    shared, benchmarks = Path(str(paths.shared)), Path(str(paths.benchmarks))
    if path.exists():
        return None
    if path.is_relative_to(benchmarks):
        what, folder = "The benchmark corpora are", benchmarks
    elif path.is_relative_to(shared):
        what = ("The dev set is" if path.is_relative_to(shared / "devset")
                else "The shared corpora are")
        folder = shared
    else:
        return None
    root, origin = root_origin()
    given = Path(str(paths.root))
    if os.environ.get("FRAMING_SHARED") and Path(os.environ["FRAMING_SHARED"]) == shared:
        why = "$FRAMING_SHARED"
    elif shared == given.parent / "shared":
        why = f"shared/ beside the project root {given}, " + (
            origin if given == root else "paths.root")
    else:
        why = "paths.shared"
    if folder == benchmarks:
        if os.environ.get("FRAMING_BENCHMARKS") and \
                Path(os.environ["FRAMING_BENCHMARKS"]) == benchmarks:
            why = "$FRAMING_BENCHMARKS"
        elif benchmarks == shared / "benchmarks":
            why = f"benchmarks/ of the shared corpora {shared}: {why}"
        else:
            why = "paths.benchmarks"
    point = ("FRAMING_SHARED=/path/to/shared (or paths.shared=...; the benchmarks alone: "
             "FRAMING_BENCHMARKS=/path/to/benchmarks)" if folder == benchmarks else
             "FRAMING_SHARED=/path/to/shared (or paths.shared=/path/to/shared)")
    instead = ("score a labelled file of yours: test=file test.path=FILE" if setting == "test"
               else "train on a labelled file of yours: data=jsonl data.path=FILE")
    they = "it is" if what.endswith(" is") else "they are"
    return (f"{what} not part of the framing package: {they} read in place from the "
            f"shared corpora, looked for in {folder} ({why}). Point framing at them with "
            f"{point}; without them, {instead}.")


def models_dir() -> Path:
    """Where models go unless a run names its file: ``$FRAMING_HOME/models``, else
    ``models/`` in the folder the command was started in."""
    env = os.environ.get("FRAMING_HOME")
    if env:
        return Path(env).resolve() / "models"
    return user_cwd() / "models"


def config_dir() -> Path:
    """The shipped config tree: ``conf/`` of a checkout, or the copy inside the wheel."""
    inside = _PKG / "conf"
    if (inside / "train.yaml").is_file():
        return inside
    return _PKG.parents[1] / "conf"


def seeds_dir() -> Path:
    """The seed corpus: ``seeds/`` of a checkout, or the copy inside the installed package."""
    inside = _PKG / "seeds"
    if (inside / "paragraphs.jsonl").is_file():
        return inside
    return _PKG.parents[1] / "seeds"


def seeds_name(path) -> str | None:
    """The seed config's corpus name: ``seeds`` for the seed corpus's file, None for
    another file given as ``data.path`` (the corpus is then named after that file, and so
    is its model: ``data.path=frames.jsonl`` writes ``models/frames.joblib``, never over
    the seeds' model)."""
    try:
        same = Path(str(path)).resolve() == (seeds_dir() / "paragraphs.jsonl").resolve()
    except (OSError, RuntimeError):
        same = False
    return "seeds" if same else None


def register() -> None:
    """Register the resolvers and the typed schema (idempotent)."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("framing_root"):
        OmegaConf.register_new_resolver("framing_root", lambda: str(project_root()))
    if not OmegaConf.has_resolver("framing_models"):
        OmegaConf.register_new_resolver("framing_models", lambda: str(models_dir()))
    if not OmegaConf.has_resolver("framing_seeds"):
        OmegaConf.register_new_resolver("framing_seeds", lambda: str(seeds_dir()))
    if not OmegaConf.has_resolver("framing_seeds_name"):
        OmegaConf.register_new_resolver("framing_seeds_name", seeds_name)
    if not OmegaConf.has_resolver("framing_beside"):  # ${framing_beside:ROOT,shared}
        OmegaConf.register_new_resolver("framing_beside",
                                        lambda root, name: str(Path(root).parent / name))
    ConfigStore.instance().store(name=SCHEMA_NAME, node=TrainConfig)


def compose(overrides: list[str] | tuple[str, ...] = (), output_dir: str | Path | None = None,
            config_path: str | Path | None = None):
    """The ``train`` config with ``overrides``, as ``framing-train`` would compose it.

    ``output_dir`` stands in for Hydra's run folder (``paths.output_dir``); without it
    the config has none (nothing is written there by the Python API).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_path or config_dir()),
                                   version_base="1.3"):
            cfg = hydra_compose("train", overrides=list(overrides), return_hydra_config=True)
            with open_dict(cfg):
                cfg.hydra.runtime.output_dir = str(output_dir or "")
            HydraConfig.instance().set_config(cfg)
            with open_dict(cfg):
                cfg.paths.output_dir = str(output_dir) if output_dir else None
                del cfg["hydra"]
    except Exception as e:  # noqa: BLE001 - Hydra and OmegaConf raise many types
        raise FramingConfigError(describe_config_error(e)) from None
    finally:
        GlobalHydra.instance().clear()
    return cfg


def describe_config_error(e: BaseException) -> str:
    """One line for a Hydra or OmegaConf composition error: the setting and what is wrong."""
    override, key, messages = None, None, []
    while e is not None:
        lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
        for ln in lines:
            if ln.startswith("full_key:"):
                key = key or ln.split(":", 1)[1].strip()
        text = " ".join(ln for ln in lines if not ln.startswith((
            "full_key:", "object_type=", "reference_type=")))
        text = text.split(" Config search path:")[0].split(" See https://hydra.cc")[0]
        found = re.match(r"Error merging override (\S+)", text)
        if found:
            override = found.group(1)
        elif text.startswith("Could not override '"):
            override = override or text.split("'")[1]
        elif text and text != "None" and "$VALUE" not in text and text not in messages \
                and not re.fullmatch(r"'[^']*'", text):
            messages.append(text)
        e = e.__cause__ or e.__context__
    msg = "; ".join(messages) or "invalid configuration"
    if "not in '" in msg and msg.startswith("Key '"):
        msg += " (no such setting: check its spelling; `framing-train --cfg job` lists them)"
    where = override or key
    return f"{where}: {msg}" if where and not msg.startswith(where) else msg


def settings(cfg) -> TrainConfig:
    """The composed config as typed objects; a missing or out-of-range value is one error.

    Parameters
    ----------
    cfg : DictConfig
        A config composed from ``conf/train.yaml`` (``framing-train`` or :func:`compose`).

    Raises
    ------
    FramingConfigError
        A value left at ``???``, a range or consistency error.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    if isinstance(cfg, TrainConfig):
        return cfg
    unknown_keys(cfg)
    try:
        obj = OmegaConf.to_object(cfg)
    except MissingMandatoryValue as e:
        key = e.full_key or "a value"
        raise FramingConfigError(f"{key} is not set. Give it on the command line, e.g. "
                                 f"{key}=..., or in your config.") from None
    except FramingConfigError:
        raise
    except OmegaConfBaseException as e:
        raise FramingConfigError(describe_config_error(e)) from None
    if not isinstance(obj, TrainConfig):
        raise FramingConfigError("the config does not follow the framing schema; start from "
                                 "conf/train.yaml (its defaults list names framing_schema).")
    return obj


def unknown_keys(cfg, where: str = "") -> None:
    """Refuse a key the schema does not declare: one added with ``+`` (``+model.foo=1``)
    or by a config file would otherwise be dropped when the config becomes typed."""
    from dataclasses import fields, is_dataclass

    from omegaconf import DictConfig, ListConfig, OmegaConf

    def inner(node) -> bool:  # a nested config to check (an interpolation is checked
        return (isinstance(node, DictConfig | ListConfig) and not node._is_missing()  # at
                and not node._is_none() and not node._is_interpolation())  # its source)

    if isinstance(cfg, ListConfig):
        for i in range(len(cfg)):
            if inner(node := cfg._get_node(i)):
                unknown_keys(node, f"{where}[{i}]")
        return
    kind = OmegaConf.get_type(cfg)
    known = {f.name for f in fields(kind)} if is_dataclass(kind) else None
    for k in cfg:
        name = f"{where}.{k}" if where else str(k)
        if known is not None and k not in known:
            group = where or "the top level"
            raise FramingConfigError(
                f"{name}: no such setting in {group} (its settings: {', '.join(sorted(known))}); "
                "check the spelling, or see `framing-train --cfg job`.")
        if inner(node := cfg._get_node(k)):
            unknown_keys(node, name)


def plain(cfg) -> dict[str, Any]:
    """The resolved config as plain Python (for the model card and MLflow)."""
    from dataclasses import asdict, is_dataclass
    from enum import Enum

    from omegaconf import OmegaConf

    if is_dataclass(cfg):
        def conv(v):
            if isinstance(v, Enum):
                return v.value
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [conv(x) for x in v]
            return v
        return conv(asdict(cfg))
    return OmegaConf.to_container(cfg, resolve=True)


@dataclass
class RunContext:
    """What Hydra knows about the running job; defaults when there is no Hydra run."""

    output_dir: Path | None = None
    multirun: bool = False
    sweep_dir: Path | None = None
    job_num: int | None = None
    experiment: str | None = None
    overrides: list[str] = field(default_factory=list)

    @classmethod
    def current(cls) -> RunContext:
        """Read Hydra's runtime state (once per run)."""
        try:
            from hydra.core.hydra_config import HydraConfig
            from hydra.types import RunMode
        except ImportError:
            return cls()
        if not HydraConfig.initialized():
            return cls()
        hc = HydraConfig.get()
        multirun = hc.mode == RunMode.MULTIRUN
        out = hc.runtime.output_dir
        return cls(output_dir=Path(out) if out else None, multirun=multirun,
                   sweep_dir=Path(hc.sweep.dir).resolve() if multirun else None,
                   job_num=hc.job.get("num") if multirun else None,
                   experiment=hc.runtime.choices.get("experiment"),
                   overrides=list(hc.overrides.task))

    @property
    def hydra_dir(self) -> Path | None:
        """Hydra's record of the composed config, or None."""
        if self.output_dir is None:
            return None
        d = self.output_dir / ".hydra"
        return d if d.is_dir() else None

    def run_name(self, name: str | None) -> str:
        """The run's name: ``name``, else the experiment and the command-line overrides
        that change the model (paths shortened to their file names)."""
        if name:
            return str(name)
        skip = ("experiment=", "hydra", "tracking", "output.", "paths.", "log_level")
        parts = []
        for o in self.overrides:
            if o.startswith(skip):
                continue
            key, _, value = o.partition("=")
            if "/" in value and not value.startswith(("[", "{")):
                value = value.rstrip("/").rsplit("/", 1)[-1]
            parts.append(f"{key}={value[:40]}" if _ else o[:40])
        return " ".join([self.experiment or "default", *parts])[:250]
