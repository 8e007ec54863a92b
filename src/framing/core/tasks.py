"""A labelling task: its name, the column holding it, its kind and its label set.

Names become metric names, MLflow keys and file names, so they are checked here, before
any data is read: a task name is letters, digits, ``_``, ``-`` and ``.``; a label may
also hold spaces; label sets have no repeats. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from framing.core.errors import FramingConfigError

KINDS = ("multilabel", "multiclass")
_TASK_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_LABEL = re.compile(r"[\w.\- ]+")


@dataclass
class TaskSpec:
    """One labelling task.

    Parameters
    ----------
    name : str
        The task's name (``theme``); also its column unless ``column`` is given.
    column : str, optional
        The column (field) of the corpus holding the labels.
    kind : {"multilabel", "multiclass"}, default="multiclass"
        Any number of labels per record (a list), or exactly one.
    labels : list of str, optional
        The label set, in model order; None infers it from the data (sorted, a warning).
    separator : str, optional
        Splits a multilabel cell that is a delimited string (CSV), e.g. ``"|"``.
    """

    name: str
    column: str | None = None
    kind: str = "multiclass"
    labels: list[str] | None = None
    separator: str | None = None

    def __post_init__(self):
        self.kind = str(getattr(self.kind, "value", self.kind))
        self.column = self.column or self.name
        if not isinstance(self.name, str) or not _TASK_NAME.fullmatch(self.name) or \
                self.name in (".", ".."):
            raise FramingConfigError(
                f"task name {self.name!r}: use letters, digits, '_', '-' or '.' (it names "
                "metrics, MLflow keys and files).")
        if self.kind not in KINDS:
            raise FramingConfigError(f"task {self.name!r}: kind {self.kind!r} is not one of "
                                     f"{', '.join(KINDS)}.")
        if self.labels is not None:
            self.labels = check_labels(self.name, self.labels)

    @classmethod
    def from_config(cls, cfg: Any) -> TaskSpec:
        """From a :class:`~framing.config.schema.TaskConfig`, a mapping or a TaskSpec."""
        if isinstance(cfg, TaskSpec):
            return cls(cfg.name, cfg.column, cfg.kind, cfg.labels, cfg.separator)
        get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
        labels = get("labels")
        return cls(name=get("name"), column=get("column"), kind=get("kind", "multiclass"),
                   labels=None if labels is None else list(labels),
                   separator=get("separator"))

    def to_dict(self) -> dict[str, Any]:
        """What a saved model keeps of the task."""
        return {"name": self.name, "kind": self.kind, "labels": list(self.labels or [])}

    @property
    def multilabel(self) -> bool:
        """Whether a record may carry any number of this task's labels."""
        return self.kind == "multilabel"


def check_labels(task: str, labels: Any) -> list[str]:
    """The label set as strings; refuses repeats and names MLflow or files cannot take."""
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise FramingConfigError(f"task {task!r}: labels must be a list, got {labels!r}.")
    out = [str(x) for x in labels]
    dup = sorted({x for x in out if out.count(x) > 1})
    if dup:
        raise FramingConfigError(f"task {task!r}: labels {dup} are repeated in its label set "
                                 f"{out}; list each label once.")
    for lab in out:
        if not _LABEL.fullmatch(lab) or lab.strip() != lab or lab in (".", ".."):
            raise FramingConfigError(
                f"task {task!r}: label {lab!r} cannot name a metric; use letters, digits, "
                "spaces (not at the ends), '_', '-' or '.' (rename it in the data and config).")
    return out


def constant_task(task: TaskSpec, y, constant: dict[str, str], notes: list[str]) -> bool:
    """Whether a single-label task holds one class only in this training part; then its
    model is that class (in ``constant``), with a note."""
    if task.kind != "multiclass" or len({str(v) for v in y}) >= 2:
        return False
    constant[task.name] = str(y[0])
    notes.append(f"task {task.name!r}: only class {y[0]!r} in a training fold; that fold "
                 "predicts it for every record.")
    return True
