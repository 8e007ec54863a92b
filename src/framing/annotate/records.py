"""The annotation record format and the task sets annotators label.

A record is one JSON object per line (``docs/annotation-guide.md``): ``id``, ``article``,
``paragraph``, ``text`` and one field per task — a list for a multi-label task (``theme``),
one label for a single-label one (``tone``). The agreement, adjudication, queue and
Label Studio commands all read and write it through this module.

Task sets come from the guidelines by default (:data:`GUIDELINE_TASKS`), from
``--task NAME:KIND:LABEL,LABEL`` on the command line (:func:`parse_task`), from a data
config (:func:`tasks_from_config`) or from a model. Standard library (and PyYAML for a
data config) only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from framing.core.errors import FramingConfigError, FramingDataError, input_file
from framing.core.tasks import KINDS, TaskSpec

#: The guidelines' tasks: theme (any number of four labels) and tone (one of two).
GUIDELINE_TASKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("theme", "multilabel", ("security", "economy", "diplomacy", "gaza")),
    ("tone", "multiclass", ("promotional", "reportorial")),
)
#: Fields of a unit that are not labels: kept as they are when records are rewritten.
UNIT_FIELDS = ("id", "article", "paragraph", "text")


def guideline_tasks() -> list[TaskSpec]:
    """The annotation guidelines' tasks, theme and tone, as new :class:`TaskSpec` objects."""
    return [TaskSpec(name, kind=kind, labels=list(labels))
            for name, kind, labels in GUIDELINE_TASKS]


def parse_task(text: str) -> TaskSpec:
    """A task from ``NAME:KIND:LABEL,LABEL,...`` (``theme:multilabel:security,economy``).

    The kind may be left out (``tone:promotional,reportorial`` is single-label).
    """
    parts = text.split(":")
    if len(parts) == 2:
        parts = [parts[0], "multiclass", parts[1]]
    if len(parts) != 3 or not parts[0] or parts[1] not in KINDS:
        raise FramingConfigError(
            f"--task {text!r}: write NAME:KIND:LABEL,LABEL,... with KIND one of "
            f"{', '.join(KINDS)}, e.g. theme:multilabel:security,economy,diplomacy,gaza.")
    labels = [s.strip() for s in parts[2].split(",") if s.strip()]
    if len(labels) < 2 and parts[1] == "multiclass":
        raise FramingConfigError(f"--task {text!r}: a single-label task needs at least two "
                                 "labels, separated by commas.")
    if not labels:
        raise FramingConfigError(f"--task {text!r}: no labels; list them after the kind, "
                                 "separated by commas.")
    return TaskSpec(parts[0], kind=parts[1], labels=labels)


def tasks_from_config(path: str | Path) -> list[TaskSpec]:
    """The tasks of a data config file (``conf/data/*.yaml`` or one of your own)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FramingConfigError(f"{path}: no such data config. Give a YAML file with a "
                                 "tasks list, like conf/data/seeds.yaml.")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise FramingConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]}). Fix "
                                 "the file.") from None
    if isinstance(cfg, dict) and isinstance(cfg.get("data"), dict):
        cfg = cfg["data"]
    tasks = cfg.get("tasks") if isinstance(cfg, dict) else None
    if isinstance(tasks, dict):
        tasks = [{"name": k, **dict(v or {})} for k, v in tasks.items()]
    if not tasks or not isinstance(tasks, list):
        raise FramingConfigError(f"{path}: no tasks list. Write tasks: [{{name: frame, kind: "
                                 "multiclass, labels: [a, b]}, ...] as in conf/data/seeds.yaml.")
    out = []
    for t in tasks:
        spec = TaskSpec.from_config(t)
        if not spec.labels:
            raise FramingConfigError(f"{path}: task {spec.name!r} has no labels; annotation "
                                     "needs the label set, list it under labels.")
        out.append(spec)
    return out


def resolve_tasks(specs: Sequence[str] | None = None, config: str | Path | None = None,
                  model: Any = None) -> list[TaskSpec]:
    """The tasks a command works with: ``--task`` specs, else a data config, else a
    model's, else the guidelines'."""
    if specs:
        tasks = [parse_task(s) for s in specs]
        names = [t.name for t in tasks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise FramingConfigError(f"--task {dup[0]!r} is given twice; give each task once.")
        return tasks
    if config:
        return tasks_from_config(config)
    if model is not None:
        return list(model.specs)
    return guideline_tasks()


def where(path: str | Path, line: int | None, rid: Any = None) -> str:
    """``file, line N (id 'x')``: where a record is, for messages."""
    loc = f"{path}, line {line}" if line is not None else str(path)
    return f"{loc} (id {rid!r})" if rid is not None else loc


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each record of a JSON-lines file; one-line errors."""
    from framing.data.corpus import iter_jsonl

    path = input_file(path)
    yield from iter_jsonl(path)


def check_label(task: TaskSpec, value: Any, loc: str, what: str = "") -> list[str] | str:
    """A record's labels of one task, checked against the label set: a list (multi-label)
    or one label."""
    field = f"{what}{task.name}"
    if task.kind == "multilabel":
        if not isinstance(value, list):
            raise FramingDataError(
                f"{loc}: {field} is {value!r}, not a list. Write the labels of this "
                f"multi-label task as a list, e.g. [] or [\"{task.labels[0]}\"].")
        out = []
        for v in value:
            if v not in task.labels:
                raise FramingDataError(f"{loc}: {field} label {v!r} is not in the label set "
                                       f"{task.labels}. Fix the record (or give the task's "
                                       "labels with --task).")
            if v not in out:
                out.append(v)
        return [lab for lab in task.labels if lab in out]  # label-set order: comparable
    if value is None or value == "" or isinstance(value, list):
        raise FramingDataError(f"{loc}: {field} is {value!r}; give exactly one of "
                               f"{task.labels}.")
    if value not in task.labels:
        raise FramingDataError(f"{loc}: {field} label {value!r} is not in the label set "
                               f"{task.labels}. Fix the record (or give the task's labels "
                               "with --task).")
    return value


def check_unit(rec: dict[str, Any], loc: str) -> tuple[str, str]:
    """A record's id and text, checked: (id, text)."""
    rid = rec.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()) or \
            isinstance(rid, list | dict | bool):
        raise FramingDataError(f"{loc}: no id. Every record needs a unique \"id\" (e.g. "
                               "<article>-<paragraph>, as framing segment writes).")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FramingDataError(f"{loc}: no text. Every record needs a non-empty \"text\".")
    return str(rid), text


def blank_record(unit: dict[str, Any], tasks: Sequence[TaskSpec]) -> dict[str, Any]:
    """A unit ready to annotate: its id, article, paragraph and text, every task empty."""
    rec = {k: unit[k] for k in UNIT_FIELDS if unit.get(k) is not None}
    for t in tasks:
        rec[t.name] = [] if t.kind == "multilabel" else None
    return rec


def same_text(a: str, b: str) -> bool:
    """Whether two texts are the same unit (whitespace aside)."""
    return " ".join(a.split()) == " ".join(b.split())
