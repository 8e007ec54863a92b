"""``framing agree``, ``adjudicate``, ``queue``, ``export``, ``import`` and ``simulate``:
the annotation loop's commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from framing.cli.common import (
    check_output,
    load_model,
    log_curve_run,
    record_output,
    write_lines,
    write_text,
)
from framing.core.errors import (
    FramingDataError,
)

#: The record files of the annotation loop (units, annotations, disagreements, gold) are
#: JSON lines: each step reads the one before it.
JSON_LINES = ("jsonl",)


# -- the annotation loop ---------------------------------------------------------------------
def _tasks(args, model=None):
    from framing.annotate.records import resolve_tasks

    return resolve_tasks(getattr(args, "task", None), getattr(args, "data_config", None), model)




def cmd_agree(args) -> int:
    from framing.annotate.agreement import (
        agreement,
        disagreements,
        markdown,
        read_annotations,
        table,
    )

    if args.n_boot < 0:
        raise FramingDataError(f"--n-boot {args.n_boot}: give 0 (no intervals) or more.")
    record_output(args.output, [*args.files, *([args.units] if args.units else [])],
                  JSON_LINES)
    ann = read_annotations(args.files, _tasks(args), args.units)
    rows = agreement(ann, args.n_boot, args.seed)
    todo = disagreements(ann)
    if args.output:
        n = write_lines(iter(todo), args.output)
        print(f"{n} of {len(ann.units)} units disagree on some task: written to "
              f"{args.output} for adjudication (fill each \"adjudicated\" field, then framing "
              "adjudicate)", file=sys.stderr)
    if args.json:
        print(json.dumps({"annotators": ann.annotators, "files": ann.files,
                          "units": len(ann.units), "articles": len(set(ann.articles)),
                          "n_boot": args.n_boot, "disagreements": len(todo),
                          "rows": [_no_nan(r) for r in rows]}, indent=2))
    elif args.markdown:
        print("\n".join(markdown(ann, rows)))
    else:
        print("\n".join(table(ann, rows)))
        if not args.output:
            print(f"{len(todo)} units disagree on some task; -o FILE writes them for "
                  "adjudication.")
    return 0


def _no_nan(row: dict[str, Any]) -> dict[str, Any]:
    """A row with undefined figures (nan) as null: strict JSON."""
    import math

    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def cmd_adjudicate(args) -> int:
    from framing.annotate.agreement import merge, read_annotations

    record_output(args.output, [args.adjudicated, *args.files,
                                *([args.units] if args.units else [])], JSON_LINES)
    ann = read_annotations(args.files, _tasks(args), args.units)
    gold = merge(args.adjudicated, ann)
    n = write_lines(iter(gold), args.output)
    print(f"{n} gold units ({len(ann.annotators)} annotators, disputes from "
          f"{args.adjudicated})" + (f" -> {args.output}" if args.output else ""),
          file=sys.stderr)
    return 0


def _pool(files: list[str], exclude: list[str] | None) -> list[dict[str, Any]]:
    """Unlabelled units: JSON-lines records (a text, an id) or raw articles (.txt files,
    cut by the segmenter); ids of ``exclude`` files left out."""
    from framing.annotate.records import check_unit, read_jsonl, where
    from framing.text.segment import Segmenter, read_article

    skip = set()
    for name in exclude or []:
        for line, rec in read_jsonl(name):
            if rec.get("id") is None:
                raise FramingDataError(f"{where(name, line)}: no id. --exclude takes files of "
                                       "records with ids (e.g. your gold file).")
            skip.add(str(rec["id"]))
    units: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    seg = Segmenter()
    for name in files:
        if name.lower().endswith(".txt"):
            found = [p.to_record() for p in seg.segment(read_article(name), Path(name).stem)]
            locs = [f"{name}, paragraph {r['paragraph']}" for r in found]
        else:
            found, locs = [], []
            for line, rec in read_jsonl(name):
                rid, text = check_unit(rec, where(name, line))
                found.append({**rec, "id": rid, "text": text})
                locs.append(where(name, line, rid))
        for rec, loc in zip(found, locs, strict=True):
            if rec["id"] in seen:
                raise FramingDataError(f"{loc}: id {rec['id']!r} again (first in "
                                       f"{seen[rec['id']]}). Ids must be unique in the pool.")
            seen[rec["id"]] = loc
            if rec["id"] not in skip:
                units.append(rec)
    return units


def cmd_queue(args) -> int:
    from framing.annotate.selection import queue_records, select

    record_output(args.output, [args.model, *args.files], JSON_LINES)
    model = load_model(args.model)
    units = _pool(args.files, args.exclude)
    if not units:
        raise FramingDataError(f"{', '.join(args.files)}: no unlabelled units left (after "
                               "--exclude). Give files of paragraphs to choose from.")
    no_article = sum(1 for u in units if u.get("article") is None)
    if no_article and args.per_article:
        print(f"framing: note: {no_article} units name no article; each counts as its own "
              "article for --per-article", file=sys.stderr)
    articles = [str(u.get("article") if u.get("article") is not None else u["id"])
                for u in units]
    texts = [u["text"] for u in units]
    scores = model.scores(texts)
    picks = select(model, texts, articles, args.n, args.strategy, args.per_article, args.seed,
                   scores)
    records = queue_records(model, units, picks, scores, args.strategy)
    n = write_lines(iter(records), args.output)
    cap = f", at most {args.per_article} per article" if args.per_article else ""
    print(f"queued {n} of {len(units)} units ({args.strategy}{cap})"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from framing.annotate.labelstudio import labeling_config, to_tasks
    from framing.annotate.records import check_unit, read_jsonl, where

    check_output(args.output, [args.file])
    check_output(args.config, [args.file])
    model = load_model(args.model) if args.model else None
    read, records = [], []
    for line, rec in read_jsonl(args.file):
        rid, text = check_unit(rec, where(args.file, line))
        read.append((line, rec))
        records.append({**rec, "id": rid, "text": text})
    if not records:
        raise FramingDataError(f"{args.file}: no records. The file is empty.")
    if args.task or args.data_config or model is not None:
        tasks = _tasks(args, model)
    else:
        tasks = _queue_tasks(args.file, read)
    if model is not None:
        guesses = model.predict([r["text"] for r in records])
        version = f"{Path(args.model).name} ({(model.card.get('created') or '')[:19]})"
    else:
        guesses = [r.get("model_guess") for r in records]
        version = "framing queue"
    out = to_tasks(records, tasks, guesses, version)
    write_text(args.output, json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    if args.config:
        write_text(args.config, labeling_config(tasks))
    with_pred = sum(1 for t in out if t.get("predictions"))
    print(f"{len(out)} Label Studio tasks ({with_pred} with pre-annotations) of "
          f"{', '.join(t.name for t in tasks)}"
          + (f" -> {args.output}" if args.output else "")
          + (f"; labeling config -> {args.config}" if args.config else ""), file=sys.stderr)
    return 0


def _queue_tasks(path: str, read: list[tuple[int, dict[str, Any]]]):
    """The tasks of a file to export without --model or --task: the task set its queue
    records carry; the guidelines' (said so) for units that carry neither it nor a
    model's guess."""
    from framing.annotate.records import TASK_SET, guideline_tasks, records_task_set, where

    tasks = records_task_set(read, path)
    if tasks is not None:
        return tasks
    guessed = next((line for line, rec in read if rec.get("model_guess") is not None), None)
    if guessed is not None:
        raise FramingDataError(
            f"{where(path, guessed)}: a model's guess but no {TASK_SET} naming the model's "
            "tasks (a queue written by an older framing). Run framing queue again, or give "
            "the model with --model (or the tasks with --task).")
    print(f"framing: note: {path} names no tasks; the tasks are the guidelines' theme and "
          "tone (give --model, --task or --data-config for others)", file=sys.stderr)
    return guideline_tasks()


def cmd_import(args) -> int:
    from framing.annotate.labelstudio import from_export

    record_output(args.output, [args.file], JSON_LINES)
    model = load_model(args.model) if args.model else None
    records, skipped = from_export(args.file, _tasks(args, model), args.annotator,
                                   args.skip_unannotated)
    n = write_lines(iter(records), args.output)
    left = f"; {skipped} unannotated tasks left out" if skipped else ""
    print(f"{n} labelled units from {args.file}{left}"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def cmd_simulate(args) -> int:
    from framing.annotate.simulate import plot, simulate
    from framing.config.tree import compose, settings
    from framing.data.corpus import load_corpus
    from framing.learn.fitting import Fitter

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for out in (args.plot, args.output):
        check_output(out, [])
    cfg = settings(compose(["tracking=off", "eval.n_boot=0", "eval.thresholds=fixed",
                            *args.overrides]))
    corpus = load_corpus(cfg.data)
    curve = simulate(corpus, Fitter.from_config(cfg), strategies, args.start, args.batch,
                     args.random_repeats, args.seed, args.per_article, args.max_starts,
                     args.jobs)
    print("\n".join(curve.table()))
    if args.output:
        write_text(args.output, json.dumps(curve.to_dict(), indent=2) + "\n")
    if args.plot:
        plot(curve, args.plot)
        print(f"figure -> {args.plot}", file=sys.stderr)
    if args.mlflow:
        from framing.track.runs import log_simulation

        log_curve_run(args, curve, plot, log_simulation, args.overrides)
    return 0
