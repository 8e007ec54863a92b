"""Load and validate a labelled corpus: JSON lines, CSV, Parquet or a Hugging Face dataset.

Everything is read through :mod:`datasets` and then validated record by record before any
training, so that a bad corpus fails with one message naming the file, the record and the
fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from framing.config.schema import DataConfig
from framing.core.errors import FramingConfigError, FramingDataError
from framing.core.tasks import TaskSpec, check_labels

log = logging.getLogger(__name__)

SOURCES = ("jsonl", "csv", "parquet", "hub")


def near_column(column: str, columns) -> str | None:
    """The one of ``columns`` that ``column`` most likely means: one that differs only in
    case, else the closest spelling (``difflib``, similarity 0.8 or more), else None."""
    import difflib

    names = sorted(str(c) for c in columns if str(c) != column)
    same = [c for c in names if c.lower() == column.lower()]
    if same:
        return same[0]
    lower = {c.lower(): c for c in reversed(names)}
    close = difflib.get_close_matches(column.lower(), list(lower), n=1, cutoff=0.8)
    return lower[close[0]] if close else None


def column_hint(column: str, columns) -> str:
    """What a "no column" message adds when a column of a near name exists: ``the file
    has 'Frame' (names are case-sensitive)``, ``the file has 'theme' (a near name)``;
    empty when none does."""
    near = near_column(column, columns)
    if near is None:
        return ""
    why = "names are case-sensitive" if near.lower() == column.lower() else "a near name"
    return f"the file has {near!r} ({why})"


def data_config(cfg: DataConfig | Mapping[str, Any]) -> DataConfig:
    """A :class:`~framing.config.schema.DataConfig` from itself or a plain mapping."""
    if isinstance(cfg, DataConfig):
        return cfg
    cfg = dict(cfg)
    known = {f.name for f in fields(DataConfig)}
    extra = set(cfg) - known
    if extra:
        raise FramingDataError(f"data config: unknown keys {sorted(extra)}; "
                               f"known keys are {sorted(known)}.")
    tasks = cfg.pop("tasks", None)
    if not tasks:
        raise FramingDataError("data.tasks is empty: define at least one task "
                               "(name, column, kind, labels).")
    if isinstance(tasks, Mapping):  # {name: {column, kind, labels}}
        tasks = [{"name": k, **dict(v)} for k, v in tasks.items() if v is not None]
    if cfg.get("source") not in SOURCES:
        raise FramingDataError(f"data.source is {cfg.get('source')!r}; use one of "
                               f"{', '.join(SOURCES)}.")
    return DataConfig(tasks=[TaskSpec.from_config(t) for t in tasks], **cfg)


def task_specs(cfg: DataConfig) -> list[TaskSpec]:
    """The tasks of a data config, checked."""
    return [TaskSpec.from_config(t) for t in cfg.tasks]


@dataclass
class Corpus:
    """A validated corpus held in memory.

    ``targets[task]`` is a 0/1 matrix (n, n_labels) for a multilabel task and an array of
    label strings for a multiclass one.
    """

    texts: list[str]
    ids: list[str]
    tasks: list[TaskSpec]
    targets: dict[str, np.ndarray]
    groups: np.ndarray | None = None
    folds: np.ndarray | None = None
    split: np.ndarray | None = None
    source: str = ""
    name: str = ""
    warnings: list[str] = field(default_factory=list)
    #: The column ``groups`` was read from (for messages), when there is one.
    group_column: str | None = None
    _digest: str | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: Sequence[int] | np.ndarray) -> Corpus:
        """The records at positions ``idx``."""
        idx = np.asarray(idx, dtype=int)

        def pick(a):
            return None if a is None else a[idx]

        return Corpus([self.texts[i] for i in idx], [self.ids[i] for i in idx], self.tasks,
                      {k: v[idx] for k, v in self.targets.items()}, pick(self.groups),
                      pick(self.folds), pick(self.split), self.source, self.name,
                      group_column=self.group_column)

    def label_counts(self) -> dict[str, dict[str, int]]:
        """How often each label occurs, per task."""
        out = {}
        for t in self.tasks:
            y = self.targets[t.name]
            if t.kind == "multilabel":
                out[t.name] = {lab: int(y[:, j].sum()) for j, lab in enumerate(t.labels)}
            else:
                out[t.name] = {lab: int((y == lab).sum()) for lab in t.labels}
        return out

    def label_lists(self, task: TaskSpec) -> list:
        """Each record's labels of one task as written: a list (multilabel) or a string."""
        y = self.targets[task.name]
        if task.kind == "multilabel":
            return [[lab for lab, v in zip(task.labels, row, strict=True) if v] for row in y]
        return [str(v) for v in y]

    def digest(self) -> str:
        """A SHA-256 of texts, ids, groups and labels: equal data, equal digest."""
        if self._digest is not None:
            return self._digest
        h = hashlib.sha256()
        labels = [self.label_lists(t) for t in self.tasks]
        for i in range(len(self)):
            rec = [self.ids[i], self.texts[i],
                   None if self.groups is None else str(self.groups[i])]
            rec += [lab[i] for lab in labels]
            h.update(json.dumps(rec, ensure_ascii=False).encode())
            h.update(b"\n")
        self._digest = h.hexdigest()
        return self._digest

    def info(self) -> dict[str, Any]:
        """What a model card says of its training data."""
        return {"name": self.name, "source": str(self.source), "n_records": len(self),
                "digest": self.digest(), "label_counts": self.label_counts(),
                "warnings": list(self.warnings)}


def _where(path: str, source: str, i: int, rid: Any, lines: list[int] | None) -> str:
    """Human location of record ``i``: file, line (JSON lines) or row, and id."""
    if lines is not None and i < len(lines):
        loc = f"{path}, line {lines[i]}"
    elif source in ("csv", "parquet"):
        loc = f"{path}, row {i + 1}"
    else:
        loc = f"{path}, record {i + 1}"
    return f"{loc} (id {rid!r})" if rid is not None else loc


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each record of a JSON-lines file, blank lines skipped;
    the first malformed line raises :class:`FramingDataError`."""
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.rstrip(b"\r\n"))  # a column within the line
            except UnicodeDecodeError:
                raise FramingDataError(f"{path}, line {n}: not UTF-8. Save the file as UTF-8."
                                       ) from None
            except json.JSONDecodeError as e:
                raise FramingDataError(
                    f"{path}, line {n}: malformed JSON ({e.msg} at column {e.colno}). "
                    "Each line must be one JSON object; fix or remove that line.") from None
            if not isinstance(obj, dict):
                raise FramingDataError(f"{path}, line {n}: a JSON {type(obj).__name__}, not an "
                                       "object. Each line must be one JSON object.")
            yield n, obj


def _jsonl_lines(path: Path) -> list[int]:
    """Line number of each record of a JSON-lines file (validating every line)."""
    return [n for n, _ in iter_jsonl(path)]


def _read_table(spec: DataConfig, setting: str = "data"
                ) -> tuple[list[dict], list[int] | None, np.ndarray | None]:
    """Rows of the corpus as dicts, JSON-lines line numbers, and hub split names."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    lines = None
    source = str(getattr(spec.source, "value", spec.source))
    if source != "hub":
        path = Path(spec.path)
        if path.is_dir():
            raise FramingDataError(f"{path}: is a folder, not a {source} file. Give the "
                                   f"file as {setting}.path.")
        if not path.is_file():
            relative = "" if path.is_absolute() else f" (it is resolved from {Path.cwd()})"
            raise FramingDataError(f"{path}: no such file. Check {setting}.path{relative}.")
        if source == "jsonl":
            lines = _jsonl_lines(path)
        if (lines is not None and not lines) or path.stat().st_size == 0:
            raise FramingDataError(f"{path}: no records. The file is empty.")
        builder = {"jsonl": "json", "csv": "csv", "parquet": "parquet"}[source]
        # A CSV cell is missing only when it is empty: pandas' default NA strings ("NA",
        # "null", "None", "n/a", ...) are labels (North America) and texts like any other.
        options = {"keep_default_na": False, "na_values": [""]} if source == "csv" else {}
        try:
            ds = datasets.load_dataset(builder, data_files=str(path), split="train",
                                       **options)
        except Exception as e:  # datasets wraps parser errors in many types
            raise FramingDataError(f"{path}: cannot be read as {source} "
                                   f"({type(e).__name__}: {str(e).splitlines()[0][:300]}). "
                                   f"Check the file format and {setting}.source.") from None
        return ds.to_list(), lines, None
    folder = Path(spec.path)
    try:
        if folder.is_dir() and ((folder / "state.json").is_file() or
                                (folder / "dataset_dict.json").is_file()):
            # a folder written by save_to_disk: one Dataset (a train split) or a DatasetDict
            dsd = datasets.load_from_disk(str(folder))
            if isinstance(dsd, datasets.Dataset):
                dsd = datasets.DatasetDict({"train": dsd})
        elif folder.is_dir() and spec.hub_files:
            dsd = datasets.load_dataset(str(folder), spec.hub_config, data_files={
                split: str(folder / name) for split, name in spec.hub_files.items()})
        else:
            if folder.is_dir():
                _refuse_ambiguous_folder(folder)
            dsd = datasets.load_dataset(spec.path, spec.hub_config)
    except FramingDataError:
        raise
    except Exception as e:
        raise FramingDataError(f"dataset {spec.path!r}: cannot be loaded "
                               f"({type(e).__name__}: {str(e).splitlines()[0][:300]}). "
                               "Check the name, the config and your connection.") from None
    wanted = spec.hub_splits or {k: k for k in dsd}
    rows, split = [], []
    for role, name in wanted.items():
        if name not in dsd:
            raise FramingDataError(f"dataset {spec.path!r}: no split {name!r}; it has "
                                   f"{sorted(dsd)}. Set data.hub_splits.")
        part = dsd[name].to_list()
        rows += part
        split += [role] * len(part)
    return rows, None, np.array(split) if spec.hub_splits else None


def _refuse_ambiguous_folder(folder: Path) -> None:
    """A data folder whose files ``datasets`` would merge into one split (``train.jsonl``
    and ``train_full.jsonl`` both read as train) is refused, naming the files."""
    import re

    from datasets.data_files import DataFilesDict, get_data_patterns

    try:
        splits = DataFilesDict.from_patterns(get_data_patterns(str(folder)), str(folder))
    except Exception:  # noqa: BLE001 - no recognisable layout: datasets will say so
        return
    for split, files in splits.items():
        names = sorted(Path(f).name for f in files)
        shards = {re.sub(r"-\d{5}-of-\d{5}", "", n) for n in names}
        if len(shards) > 1:
            raise FramingDataError(
                f"{folder}: the files {names} would all be read as the {split} split. Name "
                "the file each split reads, e.g. 'data.hub_files={train: train.jsonl, test: "
                "test.jsonl}', or move the others away.")


def load_corpus(spec: DataConfig | Mapping[str, Any], training: bool = True,
                setting: str = "data", text_option: str | None = None) -> Corpus:
    """Read a corpus and validate every record.

    Parameters
    ----------
    spec : DataConfig or mapping
        Where the corpus is, its columns and its tasks.
    training : bool, default=True
        Whether a model learns from it: then every label must occur and a single-label
        task needs two classes. A corpus only scored may lack labels.
    setting : str, default="data"
        The config group that gave ``spec`` (``data`` or ``test``), named in errors.
    text_option : str, optional
        What sets the text column, named when it holds no text (default:
        ``<setting>.text_column``; a command's option, e.g. ``--text-column``).

    Returns
    -------
    Corpus

    Raises
    ------
    FramingDataError
        On the first problem: missing or unreadable file, malformed line, missing column,
        empty text, label outside the label set, a multilabel cell that is not a list,
        duplicate id, or a task with a single class.
    """
    spec = data_config(spec)
    tasks = task_specs(spec)
    rows, lines, hub_split = _read_table(spec, setting)
    return build_corpus(rows, spec, tasks, str(spec.path), lines, hub_split, training,
                        text_option or f"{setting}.text_column", setting)


def corpus_from_records(rows: Sequence[Mapping[str, Any]], spec: DataConfig | Mapping[str, Any],
                        where: str = "records") -> Corpus:
    """Validate records already in memory (dicts or DataFrame rows) into a :class:`Corpus`."""
    spec = data_config(spec)
    return build_corpus([dict(r) for r in rows], spec, task_specs(spec), where, None, None)


def build_corpus(rows: list[dict], spec: DataConfig, spec_tasks: list[TaskSpec], where_file: str,
                 lines: list[int] | None, hub_split: np.ndarray | None,
                 training: bool = True, text_option: str = "data.text_column",
                 setting: str = "data") -> Corpus:
    """Validate rows record by record; the first problem is one :class:`FramingDataError`
    (``setting``: the config group named in it)."""
    source = str(getattr(spec.source, "value", spec.source))
    if not rows:
        raise FramingDataError(f"{where_file}: no records.")
    columns = set(rows[0])
    needed = [("the text column", spec.text_column, text_option),
              ("the id column", spec.id_column, f"{setting}.id_column"),
              ("the group column", spec.group_column, f"{setting}.group_column"),
              ("the fold column", spec.fold_column, f"{setting}.fold_column"),
              ("the split column", spec.split_column, f"{setting}.split_column")] + [
        (f"the label column of task {t.name!r}", t.column,
         f"the task's column in {setting}.tasks ({{name: {t.name}, column: ...}})")
        for t in spec_tasks]
    for role, col, option in needed:
        if col and col not in columns:
            hint = column_hint(col, columns)
            fix = (f"give one of them as {option}" if option.startswith("--") else
                   f"set {option} to one of them")
            raise FramingDataError(
                f"{where_file}: no column {col!r} ({role}){'; ' + hint if hint else ''}. "
                f"Columns present: {sorted(columns)}. Rename the column, or {fix}.")

    warnings: list[str] = []
    texts, ids, seen = [], [], {}
    for i, row in enumerate(rows):
        rid = row.get(spec.id_column) if spec.id_column else None
        where = _where(where_file, source, i, rid, lines)
        text = row.get(spec.text_column)
        if text is not None and not isinstance(text, str):
            from framing.data.texts import parquet_column_type, text_cell_error

            kind = parquet_column_type(where_file, spec.text_column) if source == "parquet" \
                else None
            raise FramingDataError(text_cell_error(where, spec.text_column, text, kind,
                                                   text_option))
        if not isinstance(text, str) or not text.strip():
            what = "empty" if isinstance(text, str) else "missing (no value)"
            raise FramingDataError(f"{where}: text is {what}. Every record needs non-empty "
                                   f"text in column {spec.text_column!r}; fill or drop it.")
        rid = str(rid) if rid is not None else str(i)
        if rid in seen:
            raise FramingDataError(f"{where}: duplicate id {rid!r} (first at record "
                                   f"{seen[rid] + 1}). Ids must be unique.")
        seen[rid] = i
        texts.append(text)
        ids.append(rid)

    targets = {}
    tasks = []
    for spec_task in spec_tasks:
        t = TaskSpec.from_config(spec_task)
        y, msgs = _task_targets(t, rows, ids, lambda i: _where(where_file, source, i, ids[i],
                                                                lines), where_file, training)
        warnings += msgs
        targets[t.name] = y
        tasks.append(t)

    def column(col):
        if not col:
            return None
        vals = [row.get(col) for row in rows]
        bad = [i for i, v in enumerate(vals) if v is None]
        if bad:
            raise FramingDataError(
                f"{_where(where_file, source, bad[0], ids[bad[0]], lines)}: column "
                f"{col!r} is empty. Fill it for every record or unset it in the config.")
        if col == spec.fold_column:
            return _fold_values(vals)
        return np.array([str(v) for v in vals])

    split = column(spec.split_column)
    if split is None:
        split = hub_split
    if split is not None:
        bad = sorted(set(split) - {"train", "test"})
        if bad:
            raise FramingDataError(f"{where_file}: split values {bad} are not 'train' or "
                                   "'test'. Use those two values in the split column.")
    name = spec.name or (Path(spec.path).stem if spec.path not in (None, "???") else "records")
    return Corpus(texts, ids, tasks, targets, column(spec.group_column),
                  column(spec.fold_column), split, str(spec.path), name, warnings,
                  group_column=spec.group_column or None)


def _whole(v: Any) -> int | None:
    """A fold value as a whole number (3, 3.0, "3"), or None (a name such as "dev")."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
        return int(v)
    return None


def _fold_values(vals: list[Any]) -> np.ndarray:
    """The fold column: each distinct value is one fold. Whole numbers (3, 3.0 and "3"
    alike) stay numbers; when any value is not one ("dev", "fold-a", 2.5), every value
    is a fold name, compared as text (a whole number as its digits: 3.0 is "3")."""
    numbers = [_whole(v) for v in vals]
    if all(n is not None for n in numbers):
        return np.array(numbers, dtype=int)
    return np.array([str(n) if n is not None else str(v).strip()
                     for n, v in zip(numbers, vals, strict=True)])


def _absent_here(n: int) -> str:
    """What labels that never occur in a scored file count for there (the metrics'
    ``zero_division`` rule, :mod:`framing.core.metrics`)."""
    it, its = ("it", "its") if n == 1 else ("them", "their")
    return (f"if the model predicts {it} there, {its} F1 is 0 (false positives only); if "
            f"not, {its} F1 is undefined and left out of the macro-F1.")


def _task_targets(t: TaskSpec, rows: list[dict], ids: list[str], where, where_file: str,
                  training: bool = True) -> tuple[np.ndarray, list[str]]:
    """One task's targets (a 0/1 matrix or label strings) and its warnings; sets
    ``t.labels`` when they are inferred."""
    warnings: list[str] = []
    cells = []
    for i, row in enumerate(rows):
        v = row.get(t.column)
        if t.kind == "multilabel":
            if t.separator is not None and (v is None or isinstance(v, str)):
                # a separated cell: an empty one (a CSV's empty field) is no label
                v = [s.strip() for s in (v or "").split(t.separator) if s.strip()]
            if isinstance(v, tuple | np.ndarray):
                v = list(v)
            if not isinstance(v, list):
                hint = (" or set the task's separator to split a string" if
                        isinstance(v, str) else "")
                raise FramingDataError(
                    f"{where(i)}: task {t.name!r} is multilabel but column {t.column!r} "
                    f"holds {v!r}, not a list. Write a list such as [] or "
                    f"[\"a\", \"b\"]{hint}.")
            cells.append([str(x) for x in v])
        else:
            if v is None or (isinstance(v, str) and not v.strip()) or isinstance(v, list):
                raise FramingDataError(
                    f"{where(i)}: task {t.name!r} needs one label in column {t.column!r}, "
                    f"found {v!r}. Give exactly one label per record.")
            cells.append(str(v))
    present = sorted({x for c in cells for x in (c if t.kind == "multilabel" else [c])})
    if t.labels is None:
        if not present:
            raise FramingDataError(
                f"{where_file}: task {t.name!r} has no label in any record (column "
                f"{t.column!r}), so there is nothing to learn. Label some records, or check "
                "that the task reads the right column.")
        try:
            t.labels = check_labels(t.name, present)
        except FramingConfigError as e:
            raise FramingDataError(f"{where_file}: {e}") from None
        msg = (f"task {t.name!r}: no label set given; inferred {present} from the data. "
               "State the labels in the data config to catch typos.")
        log.warning(msg)
        warnings.append(msg)
    allowed = set(t.labels)
    for i, c in enumerate(cells):
        for x in (c if t.kind == "multilabel" else [c]):
            if x not in allowed:
                raise FramingDataError(
                    f"{where(i)}: label {x!r} of task {t.name!r} is not in its label set "
                    f"{t.labels}. Fix the record or add the label to the task's labels.")
    if t.kind == "multilabel":
        y = np.zeros((len(cells), len(t.labels)), dtype=np.int8)
        col = {lab: j for j, lab in enumerate(t.labels)}
        for i, c in enumerate(cells):
            for x in c:
                y[i, col[x]] = 1
        for j, lab in enumerate(t.labels):
            n = int(y[:, j].sum())
            if n == 0 and not training:
                msg = (f"task {t.name!r}: label {lab!r} never occurs in {where_file}; "
                       f"{_absent_here(1)}")
                log.warning(msg)
                warnings.append(msg)
            elif n == 0:
                raise FramingDataError(
                    f"{where_file}: label {lab!r} of task {t.name!r} never occurs, so no "
                    "model can learn it. Annotate examples of it or remove it from the "
                    "label set.")
            if n == len(cells) and training:  # a scored file says nothing of the model
                msg = (f"task {t.name!r}: label {lab!r} is on every record; its model "
                       "will always predict it.")
                log.warning(msg)
                warnings.append(msg)
        return y, warnings
    y = np.array(cells, dtype=object)
    used = set(cells)
    if len(used) < 2 and training:
        raise FramingDataError(
            f"{where_file}: task {t.name!r} has a single class {sorted(used)} in "
            f"{len(cells)} records; a classifier needs at least two. Add examples "
            "of another class or drop the task.")
    missing = [lab for lab in t.labels if lab not in used]
    if missing:
        which = (f"label {missing[0]!r} never occurs" if len(missing) == 1 else
                 f"labels {missing} never occur")
        what = (f"a model trained on {where_file} cannot learn "
                f"{'it' if len(missing) == 1 else 'them'}." if training else
                _absent_here(len(missing)))
        msg = f"task {t.name!r}: {which} in {where_file}; {what}"
        log.warning(msg)
        warnings.append(msg)
    return y, warnings
