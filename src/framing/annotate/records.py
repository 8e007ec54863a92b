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
#: The field of a queue record naming the task set its model labels: a list of
#: ``{"name", "kind", "labels"}``, so that an export offers the model's tasks.
TASK_SET = "task_set"


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


#: What to do about an annotator's record without text when no units file is given.
NO_TEXT_WITHOUT_UNITS = ("Pass --units UNITS.jsonl, the file of units the annotators "
                         "labelled (it gives each id its text and article), or add a "
                         "\"text\" field to every record.")


def check_unit(rec: dict[str, Any], loc: str,
               no_text: str = "Every record needs a non-empty \"text\".") -> tuple[str, str]:
    """A record's id and text, checked: (id, text). ``no_text``: what the error says to
    do about a record without text."""
    rid = rec.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()) or \
            isinstance(rid, list | dict | bool):
        raise FramingDataError(f"{loc}: no id. Every record needs a unique \"id\" (e.g. "
                               "<article>-<paragraph>, as framing segment writes).")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FramingDataError(f"{loc}: no text. {no_text}")
    return str(rid), text


def blank_record(unit: dict[str, Any], tasks: Sequence[TaskSpec]) -> dict[str, Any]:
    """A unit ready to annotate: its id, article, paragraph and text, every task empty."""
    rec = {k: unit[k] for k in UNIT_FIELDS if unit.get(k) is not None}
    for t in tasks:
        rec[t.name] = [] if t.kind == "multilabel" else None
    return rec


def task_set_field(tasks: Sequence[TaskSpec]) -> list[dict[str, Any]]:
    """The :data:`TASK_SET` field of a record: each task's name, kind and labels."""
    return [t.to_dict() for t in tasks]


def records_task_set(records: Sequence[tuple[int, dict[str, Any]]], path: str | Path
                     ) -> list[TaskSpec] | None:
    """The task set the records of a queue file carry (their :data:`TASK_SET` field), or
    None when none carries one.

    Raises
    ------
    FramingDataError
        Some records carry a task set and others none or another one, or a task set is
        malformed.
    """
    first: tuple[int, list] | None = None
    bare = None
    for line, rec in records:
        value = rec.get(TASK_SET)
        if value is None:
            bare = bare if bare is not None else line
            continue
        if first is None:
            first = (line, value)
        elif value != first[1]:
            raise FramingDataError(
                f"{where(path, line, rec.get('id'))}: its {TASK_SET} differs from line "
                f"{first[0]}'s. The file mixes queues of different models; export each "
                "queue on its own.")
    if first is None:
        return None
    if bare is not None:
        raise FramingDataError(f"{where(path, bare)}: no {TASK_SET}, unlike line {first[0]}. "
                               "Write the queue again with framing queue, or give the "
                               "tasks with --model or --task.")
    line, value = first
    try:
        if not isinstance(value, list) or not value:
            raise TypeError
        tasks = [TaskSpec(str(t["name"]), kind=str(t["kind"]), labels=list(t["labels"]))
                 for t in value]
    except (TypeError, KeyError, FramingConfigError) as e:
        why = f" ({e})" if isinstance(e, FramingConfigError) else ""
        raise FramingDataError(f"{where(path, line)}: {TASK_SET} is not a list of tasks "
                               f"{{name, kind, labels}}{why}. Write the queue again with "
                               "framing queue.") from None
    return tasks


def read_units(path: str | Path) -> dict[str, dict[str, Any]]:
    """The units of a units file, by id: JSON lines or CSV/TSV with ``id``, ``text`` and
    ``article`` (or ``group``; ``paragraph`` kept when present).

    Raises
    ------
    FramingDataError
        A missing or malformed file, a record without id or text, or an id given twice.
    """
    path = input_file(path)
    units: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    for line, rec in _unit_rows(path):
        rid, text = check_unit(rec, where(path, line))
        if rid in units:
            raise FramingDataError(f"{where(path, line, rid)}: id {rid!r} again (first on "
                                   f"line {lines[rid]}). Ids must be unique in the units "
                                   "file.")
        article = rec.get("article") if rec.get("article") not in (None, "") else \
            rec.get("group")
        paragraph = rec.get("paragraph")
        if isinstance(paragraph, str) and paragraph.strip().isdigit():  # a CSV cell
            paragraph = int(paragraph)
        unit = {"id": rid, "article": article, "paragraph": paragraph, "text": text}
        units[rid] = {k: v for k, v in unit.items() if v not in (None, "")}
        lines[rid] = line
    if not units:
        raise FramingDataError(f"{path}: no units. Give a file of the units (id, text, "
                               "article) the annotators labelled.")
    return units


def _unit_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of a units file: CSV/TSV by its header, else JSON lines."""
    if path.suffix.lower() not in (".csv", ".tsv"):
        yield from read_jsonl(path)
        return
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if path.suffix.lower() == ".tsv"
                                    else ",")
            if reader.fieldnames is None or "id" not in reader.fieldnames or \
                    "text" not in reader.fieldnames:
                raise FramingDataError(f"{path}: no header row with id and text columns "
                                       f"(header: {reader.fieldnames}). Give the units' id, "
                                       "text and article columns.")
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError:
        raise FramingDataError(f"{path}: not UTF-8 text. Save the file as UTF-8.") from None


def same_text(a: str, b: str) -> bool:
    """Whether two texts are the same unit (whitespace aside)."""
    return " ".join(a.split()) == " ".join(b.split())
