"""Where ``framing-train`` puts its model, and when.

* The path: ``output.model_path`` as given (a relative one read from the folder the
  command was started in), else ``<paths.models>/<name>.joblib``, named by what made the
  model: the data's name, with the experiment's if one is chosen, and with a short digest
  of the configuration and the data when the command line changes the model
  (``model=nbsvm`` writes ``models/framing-1a2b3c4d.joblib``, never over the default's).
* The model already there: replaced when it was made by the same configuration and data,
  or when the user named the file (``output.model_path``) or asked (``output.overwrite``);
  otherwise kept, and this run's model written beside it under its digest. One line says
  which, with both objectives.
* When: the model is written to a staging folder beside its path, logged to MLflow from
  there, and published (a rename) only once the run has ended well. Interrupted before,
  the model that stood still stands; :func:`standing` says which, for the one-line
  message of an interrupted run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.config.tree import RunContext, user_cwd
from framing.core.errors import FramingError
from framing.predict.card import difference, made_by, made_by_id, makes_the_model, objective_of

log = logging.getLogger("framing.train")


def model_name(cfg, ctx: RunContext) -> str:
    """What made the model: the data's name, with the experiment's if one is chosen; the
    seeds' default is ``framing``."""
    data = cfg.data.corpus_name
    experiment = ctx.experiment if ctx.experiment not in (None, "default") else None
    if data == "seeds":
        return experiment or "framing"
    return f"{data}-{experiment}" if experiment else data


def model_changes(overrides: list[str]) -> list[str]:
    """The command-line overrides that change the model or its figures (not the data's,
    the experiment's, nor where files go, what is tracked or printed)."""
    out = []
    for o in overrides:
        key = o.lstrip("+~").split("=", 1)[0].replace("/", ".")
        if key in ("experiment", "data") or key.startswith("data.") or not makes_the_model(key):
            continue
        out.append(o)
    return out


def _from_user(path: str | Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else user_cwd() / path


def home_path(cfg, ctx: RunContext) -> Path | None:
    """The path the config names for the model (None: the run writes none): the user's
    ``output.model_path``, or ``<paths.models>/<name>.joblib``; in a multirun, the job's
    folder."""
    if not cfg.output.write_model:
        return None
    if cfg.output.model_path:
        path = _from_user(cfg.output.model_path)
    else:
        path = _from_user(cfg.paths.models) / f"{model_name(cfg, ctx)}.joblib"
    if ctx.multirun and ctx.output_dir is not None:
        path = ctx.output_dir / path.name  # jobs of a sweep must not overwrite each other
    return path


def read_card(path: Path) -> dict[str, Any] | None:
    """The card of the model file at ``path``; None when there is none; FramingError when
    the file is not a model this version reads."""
    if not path.is_file():
        return None
    from framing.predict.model import load

    try:
        return load(path, verify=False, on_version_mismatch="ignore").card or {}
    except Exception:  # noqa: BLE001 - not a model we can read
        raise FramingError(f"{path} exists and is not a framing model this version reads; "
                           "choose another output.model_path, or output.overwrite=true to "
                           "replace it.") from None


def check_overwrite(path: Path, cfg, corpus_name: str, tasks) -> None:
    """Refuse to replace, at a path the user named, a model of another corpus or task set
    (``output.overwrite=true`` replaces it); called once the data are read, so that a
    mistake in them is reported first."""
    if cfg.output.overwrite:
        return
    card = read_card(path)
    if card is None:
        return
    old_data = (card.get("data") or {}).get("name")
    old_tasks = {t: list(c) for t, c in ((card.get("data") or {}).get("label_counts") or {}
                                         ).items()}
    new_tasks = {t.name: t.labels for t in tasks}
    same_tasks = set(old_tasks) == set(new_tasks) and all(
        new_tasks[t] is None or list(new_tasks[t]) == old_tasks[t] for t in new_tasks)
    if old_data == corpus_name and same_tasks:
        return
    raise FramingError(
        f"{path} holds a model of corpus {old_data!r} (tasks {', '.join(old_tasks)}); this "
        f"run trains on {corpus_name!r} (tasks {', '.join(new_tasks)}). Give it its "
        "own output.model_path=..., or output.overwrite=true to replace it.")


def _objective(value: float | None) -> str:
    return "objective unknown" if value is None else f"objective {value:.4f}"


@dataclass
class Placement:
    """Where one run's model goes and what it does to the model already there."""

    path: Path                      # where this run's model is published
    home: Path                      # the path the config names
    old: dict[str, Any] | None      # the card of the model at ``path`` before, if any
    how: str                        # new | same | replace | beside | own
    why: str = ""                   # how the model it replaces or keeps was made
    kept: Path | None = None        # the model left in place (beside, own)
    kept_card: dict[str, Any] | None = None
    objective: float | None = None  # this run's
    published: bool = False
    overrides: list[str] = field(default_factory=list)

    def line(self) -> str:
        """What the run did, in one line, with both objectives."""
        out = f"model written to {self.path} ({_objective(self.objective)})"
        if self.how == "own":
            out += f", named by its configuration ({' '.join(self.overrides)[:200]})"
        if self.old is not None or self.how == "replace":
            before = _objective(objective_of(self.old) if self.old else None)
            out += (f"; it replaces the model of the same configuration and data there "
                    f"({before})" if self.how != "replace" else
                    f"; it replaces a model of {self.why} ({before})")
        if self.how == "beside":
            out += (f"; {self.home} holds a model of {self.why} "
                    f"({_objective(objective_of(self.kept_card))}) and is kept")
        elif self.how == "own" and self.kept is not None:
            out += (f"; {self.kept} ({_objective(objective_of(self.kept_card))}) is not "
                    "touched")
        return out


def place(cfg, ctx: RunContext, card: dict[str, Any], home: Path) -> Placement:
    """Where a model with this ``card`` goes, given the path the config names."""
    new = made_by(card) or {"config": {}, "data": ""}
    explicit = bool(cfg.output.model_path) or ctx.multirun
    changes = [] if explicit else model_changes(ctx.overrides)
    if changes:  # a run the command line changed gets a name of its own
        kept_card = _card_or_none(home)
        return _named(home, new, "own", kept=home if kept_card is not None else None,
                      kept_card=kept_card, overrides=changes)
    if not home.is_file():
        return Placement(home, home, None, "new")
    old = _card_or_none(home)
    old_made = made_by(old) if old is not None else None
    if old_made is not None and old_made == new:
        return Placement(home, home, old, "same")
    why = difference(old_made, new) if old is not None else "a format this version cannot read"
    if explicit or cfg.output.overwrite:
        return Placement(home, home, old, "replace", why)
    return _named(home, new, "beside", why=why, kept=home, kept_card=old)


def _card_or_none(path: Path) -> dict[str, Any] | None:
    try:
        return read_card(path)
    except FramingError:
        return None


def _named(home: Path, new: dict[str, Any], how: str, **kw) -> Placement:
    """A placement beside ``home`` under the digest of what made the model; a model there
    made the same way is replaced, one made otherwise (a digest collision) or a file
    that cannot be read is kept, and this run takes a longer digest."""
    path = home.with_name(f"{home.stem}-{made_by_id(new)}{home.suffix}")
    old = _card_or_none(path)
    if path.is_file() and (old is None or made_by(old) != new):
        path = home.with_name(f"{home.stem}-{made_by_id(new, 16)}{home.suffix}")
        old = _card_or_none(path)
    return Placement(path, home, old, how, **kw)


@dataclass
class Standing:
    """What the current run has done to the model files, for the message of an
    interrupted run."""

    home: Path | None = None
    placement: Placement | None = None
    writes: bool = True

    def start(self, home: Path | None) -> None:
        """A new run, whose config names ``home`` (None: it writes no model)."""
        self.home, self.placement, self.writes = home, None, home is not None

    def describe(self) -> str:
        """Which model file stands now."""
        p = self.placement
        if p is not None and p.published:
            return (f"the run had ended: {p.path} is its model ({_objective(p.objective)})")
        if not self.writes:
            return "this run writes no model"
        paths = [x for x in dict.fromkeys([p.path if p else None, p.home if p else None,
                                           self.home]) if x is not None]
        if not paths:
            return "no model is written"
        there = [x for x in paths if x.is_file()]
        if not there:
            return f"no model is written ({paths[0]} does not exist)"
        x = there[0]
        card = _card_or_none(x)
        return (f"this run's model is not written; {x} stays as it was "
                f"({_objective(objective_of(card) if card else None)})")


standing = Standing()
