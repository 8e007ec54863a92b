"""Label Studio: tasks with the model's pre-annotations out, annotations back in.

* :func:`labeling_config` — the labeling interface: the paragraph, a ``Choices`` control
  per task (``choice="multiple"`` for a multi-label task, ``single-radio`` and required
  for a single-label one), named after the task;
* :func:`to_tasks` — Label Studio tasks (``data``: the unit; ``predictions``: one result
  item of type ``choices`` per task, ``from_name`` the task, ``to_name`` ``text``);
* :func:`from_export` — Label Studio's JSON export (tasks with
  ``annotations[].result[].value.choices``) back to the record format, checked.

The formats are those of Label Studio's "Basic Label Studio JSON" import (pre-annotations
under ``predictions``) and its JSON export. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from framing.annotate.records import UNIT_FIELDS, check_label
from framing.core.errors import FramingDataError
from framing.core.tasks import TaskSpec

#: The name of the text object in the labeling config (``to_name`` of every result).
TEXT = "text"


def labeling_config(tasks: Sequence[TaskSpec]) -> str:
    """The labeling config (XML) for these tasks: the text and a choice list per task."""
    lines = ["<View>", '  <Header value="$id"/>', f'  <Text name="{TEXT}" value="$text"/>']
    for t in tasks:
        multi = t.kind == "multilabel"
        title = t.name + (" (any number)" if multi else " (one)")
        lines.append(f"  <Header value={quoteattr(title)}/>")
        attrs = 'choice="multiple"' if multi else 'choice="single-radio" required="true"'
        lines.append(f"  <Choices name={quoteattr(t.name)} toName=\"{TEXT}\" {attrs} "
                     'showInline="true">')
        lines += [f"    <Choice value={quoteattr(lab)}/>" for lab in t.labels]
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _result(tasks: Sequence[TaskSpec], labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Result items of type ``choices``, one per task with a label (an empty multi-label
    set has none, nor has a task whose guess is not all in its label set)."""
    out = []
    for t in tasks:
        v = labels.get(t.name)
        choices = list(v) if isinstance(v, list) else ([v] if v else [])
        if choices and all(c in t.labels for c in choices):
            out.append({"id": t.name, "from_name": t.name, "to_name": TEXT, "type": "choices",
                        "value": {"choices": choices}})
    return out


def confidence(tasks: Sequence[TaskSpec], scores: dict[str, dict[str, float]]) -> float:
    """How sure the model is of a unit's decisions: the smallest of each single-label
    task's top score and each multi-label score's distance from a coin toss (0.5–1)."""
    vals = []
    for t in tasks:
        s = {k: v for k, v in (scores.get(t.name) or {}).items() if k in t.labels}
        if not s:
            continue
        if t.kind == "multilabel":
            vals += [max(v, 1 - v) for v in s.values()]
        else:
            vals.append(max(s.values()))
    return round(min(vals), 6) if vals else 0.0


def to_tasks(records: Sequence[dict[str, Any]], tasks: Sequence[TaskSpec],
             guesses: Sequence[dict[str, Any] | None], model_version: str
             ) -> list[dict[str, Any]]:
    """Label Studio tasks of some units, with the model's guesses as pre-annotations.

    Parameters
    ----------
    records : sequence of dict
        Units with ``id`` and ``text`` (``article``, ``paragraph``, ``reason`` are kept).
    tasks : sequence of TaskSpec
        The tasks; each becomes a ``Choices`` control of the same name.
    guesses : sequence of dict or None
        Per unit, the model's result (``predict``'s dict: labels per task and
        ``scores``), or None for no pre-annotation.
    model_version : str
        Names the model in Label Studio.

    Returns
    -------
    list of dict
        ``{"data": {...}, "predictions": [{"model_version", "score", "result"}]}`` each;
        a unit whose guess has no label of these tasks to show gets no ``predictions``.
    """
    out = []
    for rec, guess in zip(records, guesses, strict=True):
        data = {k: rec[k] for k in (*UNIT_FIELDS, "reason") if rec.get(k) is not None}
        task: dict[str, Any] = {"data": data}
        result = _result(tasks, guess) if guess else []
        if result:
            task["predictions"] = [{"model_version": model_version,
                                    "score": confidence(tasks, guess.get("scores") or {}),
                                    "result": result}]
        out.append(task)
    return out


def _shown(value: Any) -> str:
    """A value of an export as a message shows it: its JSON type and a short excerpt."""
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
    text = json.dumps(value, ensure_ascii=False)
    return f"{kind} ({text if len(text) <= 40 else text[:37] + '…'})"


def _annotator(a: dict[str, Any]) -> str:
    who = a.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return str(who)


def from_export(path: str | Path, tasks: Sequence[TaskSpec], annotator: str | None = None,
                skip_unannotated: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Records in the annotation format from a Label Studio JSON export.

    Parameters
    ----------
    path : path
        The export: a JSON list of tasks, each with ``data`` (``id``, ``text``, …) and
        ``annotations`` (``result`` items of type ``choices``).
    tasks : sequence of TaskSpec
        The tasks and label sets; a result's ``from_name`` names the task.
    annotator : str, optional
        Take the annotations of this annotator (``completed_by``: their id or e-mail);
        needed when a task has several.
    skip_unannotated : bool, default=False
        Leave out tasks nobody annotated (default: an error).

    Returns
    -------
    (list of dict, int)
        The records, and how many tasks were left out unannotated.

    Raises
    ------
    FramingDataError
        Not a Label Studio export, a task without a unit id, without annotation (unless
        skipped) or with several, annotations, a result or a value of the wrong JSON
        type, a label outside the label set, a control that is no task, a single-label
        task left empty or given two labels.
    """
    path = Path(path)
    if not path.is_file():
        raise FramingDataError(f"{path}: no such file. Check the path.")
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise FramingDataError(f"{path}: not UTF-8 text. Export from Label Studio as JSON."
                               ) from None
    except json.JSONDecodeError as e:
        raise FramingDataError(f"{path}: malformed JSON ({e.msg}, line {e.lineno}). Export "
                               "the project from Label Studio as JSON.") from None
    if not isinstance(items, list):
        raise FramingDataError(f"{path}: a JSON {type(items).__name__}, not a list of tasks. "
                               "Export the project from Label Studio as JSON (not JSON-MIN).")
    by_name = {t.name: t for t in tasks}
    out, skipped, seen = [], 0, {}
    for k, item in enumerate(items, 1):
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(data, dict) or data.get("id") is None:
            raise FramingDataError(f"{path}, task {k}: no data.id, so the unit cannot be "
                                   "matched. Import tasks written by framing export "
                                   "labelstudio (they carry each unit's id).")
        rid = str(data["id"])
        loc = f"{path}, task {k} (id {rid!r})"
        if rid in seen:
            raise FramingDataError(f"{loc}: id {rid!r} again (first in task {seen[rid]}). "
                                   "Import each unit once.")
        seen[rid] = k
        annotations = item.get("annotations")
        if annotations is not None and not isinstance(annotations, list):
            raise FramingDataError(
                f"{loc}: \"annotations\" is {_shown(annotations)}, not a list of "
                "annotations. Export the project from Label Studio as JSON (not JSON-MIN "
                "or CSV), which lists each task's annotations.")
        done = [a for a in annotations or []
                if isinstance(a, dict) and not a.get("was_cancelled")]
        if annotator is not None:
            done = [a for a in done if _annotator(a) == str(annotator)]
        if not done:
            if skip_unannotated:
                skipped += 1
                continue
            who = f" by annotator {annotator}" if annotator is not None else ""
            raise FramingDataError(f"{loc}: no annotation{who}. Finish it in Label Studio, "
                                   "or pass --skip-unannotated to leave such tasks out.")
        if len(done) > 1:
            raise FramingDataError(f"{loc}: {len(done)} annotations (annotators "
                                   f"{', '.join(_annotator(a) for a in done)}). Import one "
                                   "annotator at a time with --annotator ID.")
        chosen: dict[str, list[str]] = {}
        result = done[0].get("result")
        if result is not None and not isinstance(result, list):
            raise FramingDataError(
                f"{loc}: the annotation's \"result\" is {_shown(result)}, not a list of "
                "results. Export the project from Label Studio as JSON.")
        for r in result or []:
            if not isinstance(r, dict) or r.get("type") != "choices":
                continue  # other controls (comments, ratings) carry no label
            name = r.get("from_name")
            if name not in by_name:
                raise FramingDataError(f"{loc}: a choice of control {name!r}, which is no "
                                       f"task ({', '.join(by_name)}). Name each Choices "
                                       "control after its task (framing export labelstudio "
                                       "--config writes such a config).")
            value = r.get("value")
            if value is not None and not isinstance(value, dict):
                raise FramingDataError(
                    f"{loc}: the {name} result's \"value\" is {_shown(value)}, not an "
                    "object with a \"choices\" list (e.g. {\"choices\": [\"label\"]}). "
                    "Export as JSON from Label Studio.")
            choices = (value or {}).get("choices")
            if not isinstance(choices, list):
                raise FramingDataError(f"{loc}: the {name} result has no value.choices list. "
                                       "Export as JSON from Label Studio.")
            chosen.setdefault(name, []).extend(str(c) for c in choices)
        rec = {f: data[f] for f in UNIT_FIELDS if data.get(f) is not None}
        for t in tasks:
            got = chosen.get(t.name, [])
            if t.kind == "multilabel":
                rec[t.name] = check_label(t, got, loc)
            elif len(got) != 1:
                what = "no label" if not got else f"{len(got)} labels {got}"
                raise FramingDataError(f"{loc}: {t.name} has {what}; it needs exactly one of "
                                       f"{t.labels}. Fix the annotation in Label Studio.")
            else:
                rec[t.name] = check_label(t, got[0], loc)
        if not isinstance(rec.get("text"), str):
            raise FramingDataError(f"{loc}: no data.text. Import tasks written by framing "
                                   "export labelstudio.")
        out.append(rec)
    return out, skipped
