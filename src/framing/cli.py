"""``framing``: label paragraphs with a model, and run the annotation loop around it.

Segment, predict, explain, evaluate; agree, adjudicate, queue, export, import, simulate;
open the MLflow UI.

``segment``, ``predict`` and ``explain`` need only the predictor's dependencies.
Errors a user can cause print one line (what, where, what to do) and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framing.errors import (
    FramingDataError,
    FramingError,
    Terminated,
    describe_os_error,
    input_file,
    terminate_on_sigterm,
)


def _write_lines(records: Iterator[dict[str, Any]], out: str | None) -> int:
    """Stream JSON lines to stdout, or to a file through a temporary file and a rename
    (an error midway leaves no partial output). On stdout, an error midway is reported
    with the number of records already written: the output is then incomplete."""
    if out is None or out == "-":
        n = 0
        try:
            for r in records:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += 1
        except (FramingError, ValueError, OSError, KeyboardInterrupt, Terminated) as e:
            sys.stdout.flush()
            if n:
                e.incomplete = n  # the caller says so on stderr
            raise
        sys.stdout.flush()
        return n
    from framing.storage import atomic_write

    count = [0]

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
                count[0] += 1

    atomic_write(out, write, step="output")
    return count[0]


def _load(path: str):
    """``framing.load`` for a command: a warning about the file (no digest beside it)
    is shown only when the file then loads; a file that does not gets its error alone."""
    import warnings

    import framing

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = framing.load(path)
    for w in caught:
        _show_warning(w.message, w.category, w.filename, w.lineno)
    return model


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, like the errors (no source line)."""
    print(f"framing: warning: {message}", file=file or sys.stderr)


def _check_output(out: str | None, inputs: list[str]) -> None:
    """Refuse an output that is a folder or one of the inputs (it would be replaced)."""
    if out is None or out == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise FramingDataError(f"{path}: -o names a folder; give a file name.")
    for name in inputs:
        if name != "-" and Path(name).exists() and path.exists() and \
                Path(name).resolve() == path.resolve():
            raise FramingDataError(f"{path}: -o is also an input file, which the output would "
                                   "replace; write the output elsewhere.")


def _open_lines(name: str) -> tuple[str, Iterator[str]]:
    """(display name, line iterator) of a file or of ``-`` (stdin), read lazily."""
    if name == "-":
        return "<stdin>", iter(sys.stdin)
    path = input_file(name)

    def lines():
        try:
            with path.open(encoding="utf-8") as f:
                yield from f
        except UnicodeDecodeError as e:
            raise FramingDataError(f"{path}: not UTF-8 text (byte {e.start}). Convert the "
                                   "file to UTF-8.") from None
    return name, lines()


def _parquet_inputs(name: str, batch_size: int, text_col: str, id_col: str | None
                    ) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from a Parquet file's text column, a batch at a time."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FramingDataError(f"{name}: reading Parquet needs pyarrow (pip install "
                               "pyarrow), or convert the file to JSON lines.") from None
    path = input_file(name)
    pf = pq.ParquetFile(path)
    cols = pf.schema_arrow.names
    if text_col not in cols:
        raise FramingDataError(f"{path}: no column {text_col!r} (columns: {cols}). Give the "
                               "text column with --text-column.")
    id_col = id_col if id_col in cols else None
    row = 0
    for batch in pf.iter_batches(batch_size=batch_size,
                                 columns=[text_col] + ([id_col] if id_col else [])):
        for rec in batch.to_pylist():
            row += 1
            text = rec[text_col]
            if not isinstance(text, str) or not text.strip():
                raise FramingDataError(f"{path}, row {row}: {text_col!r} is empty. Remove the "
                                       "row or give it text.")
            yield (str(rec[id_col]) if id_col else f"{path.stem}-{row}"), text


def _csv_inputs(name: str, lines: Iterator[str], text_col: str, id_col: str | None,
                delimiter: str) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from CSV or TSV with a header row, read by column name."""
    import csv

    reader = csv.DictReader(lines, delimiter=delimiter)
    if reader.fieldnames is None:
        raise FramingDataError(f"{name}: no header row; the file is empty. Give a CSV file "
                               "with a header row and a text column.")
    cols = reader.fieldnames
    if text_col not in cols:
        raise FramingDataError(f"{name}: no column {text_col!r} in the header (columns: "
                               f"{cols}). Give the text column with --text-column.")
    id_col = id_col if id_col in cols else None
    stem = Path(name).stem
    for row in reader:
        where = f"{name}, line {reader.line_num}"
        text = row.get(text_col)
        if not isinstance(text, str) or not text.strip():
            raise FramingDataError(f"{where}: {text_col!r} is empty. Remove the row or give "
                                   "it text.")
        yield (row[id_col] if id_col else f"{stem}-{reader.line_num}"), text


def _paragraph_inputs(name: str, lines: Iterator[str], text_col: str = "text",
                      id_col: str | None = "id") -> Iterator[tuple[str, str]]:
    """(id, text) pairs from JSON lines (a text field) or plain text, a line each.

    JSON lines are recognised by a ``.jsonl``/``.json`` suffix or a first line that
    starts with ``{``.
    """
    stem = "stdin" if name == "<stdin>" else Path(name).stem
    is_json = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if is_json is None:
            is_json = name.endswith((".jsonl", ".json")) or line.lstrip().startswith("{")
        if not is_json:
            yield f"{stem}-{n}", line.strip()
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise FramingDataError(f"{name}, line {n}: malformed JSON ({e.msg}, column "
                                   f"{e.colno}). Fix the line or pass plain text.") from None
        if not isinstance(rec, dict) or not isinstance(rec.get(text_col), str):
            raise FramingDataError(f"{name}, line {n}: no string field {text_col!r}. Each "
                                   f"JSON line needs {{\"{text_col}\": \"…\"}} (an id is "
                                   "optional), or give the field with --text-column.")
        if not rec[text_col].strip():
            raise FramingDataError(f"{name}, line {n}: {text_col!r} is empty. Remove the "
                                   "record or give it text.")
        rid = rec.get(id_col) if id_col else None
        yield (str(rid) if rid is not None else f"{stem}-{n}"), rec[text_col]


def _inputs(name: str, args) -> Iterator[tuple[str, str]]:
    """The (id, text) pairs of one input, by its kind: Parquet, CSV/TSV, JSON lines or
    plain text (``-``: stdin)."""
    lower = name.lower()
    id_col = args.id_column or "id"
    if lower.endswith(".parquet"):
        return _parquet_inputs(name, args.batch_size, args.text_column, id_col)
    display, lines = _open_lines(name)
    if lower.endswith((".csv", ".tsv")):
        return _csv_inputs(display, lines, args.text_column, id_col,
                           "\t" if lower.endswith(".tsv") else ",")
    return _paragraph_inputs(display, lines, args.text_column, id_col)


def _count(name: str) -> int | None:
    """How many records a file holds, for a progress bar's total (None: unknown)."""
    lower = name.lower()
    try:
        if name == "-":
            return None
        if lower.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(name).metadata.num_rows
        with open(name, "rb") as f:
            n = sum(1 for line in f if line.strip())
        return n - 1 if lower.endswith((".csv", ".tsv")) else n
    except (OSError, ImportError):
        return None


def cmd_segment(args) -> int:
    from framing.corpus import segment_files

    _check_output(args.output, args.files)
    paras = segment_files(args.files)
    n = _write_lines((p.to_record() for p in paras), args.output)
    k = len(args.files)
    print(f"{_count_of(n, 'paragraph')} from {_count_of(k, 'article')}", file=sys.stderr)
    if not n:
        print("framing: warning: the articles hold no paragraph (empty, or page chrome "
              "only); check the files", file=sys.stderr)
    return 0


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def cmd_predict(args) -> int:

    if args.engine == "dask":
        return _predict_dask(args)
    sources = args.files or ["-"]
    _check_output(args.output, sources)
    model = _load(args.model)
    total = None
    if args.progress and not args.article:
        counts = [_count(name) for name in sources]
        total = None if None in counts else sum(counts)
    progress = _Progress(args.progress, total, "articles" if args.article else "paragraphs")
    id_key = args.id_column or "id"

    def records():
        for name in sources:
            if args.article:
                display, lines = _open_lines(name)
                stem = "stdin" if name == "-" else Path(name).stem
                yield model.predict_article("".join(lines), article=stem)
                progress(1)
                continue
            batch: list[tuple[str, str]] = []
            for item in _inputs(name, args):
                batch.append(item)
                if len(batch) >= args.batch_size:
                    yield from _predict_batch(model, batch, id_key)
                    progress(len(batch))
                    batch = []
            if batch:
                yield from _predict_batch(model, batch, id_key)
                progress(len(batch))

    n = _write_lines(records(), args.output)
    progress.close(n)
    if args.output not in (None, "-"):
        unit = "articles" if args.article else "paragraphs"
        if n:
            print(f"{_count_of(n, unit[:-1])} labelled, written to {args.output}",
                  file=sys.stderr)
        else:
            print(f"framing: warning: no {unit} in the input; {args.output} holds none",
                  file=sys.stderr)
    return 0


def _predict_dask(args) -> int:
    """``--engine dask``: shards in, a folder of labelled Parquet shards out."""
    from framing.scale import predict_shards

    if not args.files or args.output in (None, "-") or args.article:
        raise FramingDataError("--engine dask labels shards (Parquet or JSON lines, paths or "
                               "patterns) into a folder: give the shards and -o FOLDER.")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise FramingDataError(f"{out}: -o must be a folder with --engine dask.")
    done = predict_shards(args.model, args.files, out, args.scheduler, args.workers,
                          args.text_column, args.id_column or "id")
    print(f"{sum(n for _, n in done)} paragraphs from {len(done)} shards written to {out}",
          file=sys.stderr)
    return 0


class _Progress:
    """A progress bar on stderr (tqdm when installed, else a counter); off unless asked."""

    def __init__(self, enabled: bool, total: int | None = None, unit: str = "paragraphs"):
        self.enabled = enabled
        self.total = total
        self.count = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit=f" {unit}", file=sys.stderr,
                                mininterval=0.5)
            except ImportError:
                self.bar = None

    def __call__(self, n: int) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled:
            of = f" of {self.total}" if self.total else ""
            print(f"\r{self.count}{of} done", end="", file=sys.stderr)

    def close(self, n: int) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(f"\r{n} written", file=sys.stderr)


def _predict_batch(model, batch, id_key: str = "id"):
    for (rid, _), res in zip(batch, model.predict([t for _, t in batch]), strict=True):
        yield {id_key: rid, **res}


def cmd_explain(args) -> int:

    model = _load(args.model)
    tasks = [args.task] if args.task else model.tasks
    pred = model.predict(args.text)
    for task in tasks:
        e = model.explain(args.text, task, label=args.label, k=args.k)
        decided = pred[task]
        print(f"{task}: {decided if decided else '(none)'}  — explaining {e['label']!r} "
              f"(score {e['score']:.3f})")
        if e.get("note"):
            print(f"  {e['note']}")
            continue
        width = max((len(c["feature"]) for c in e["contributions"]), default=10)
        for c in e["contributions"]:
            bar = "+" * min(int(abs(c["contribution"]) * 20) + 1, 30)
            sign = "+" if c["contribution"] >= 0 else "-"
            print(f"  {c['feature']:<{width}}  {c['contribution']:+.4f}  "
                  f"{bar if sign == '+' else bar.replace('+', '-')}")
        print(f"  {'(intercept)':<{width}}  {e['intercept']:+.4f}")
    return 0


def _file_columns(path: Path, source: str) -> list[str]:
    """The column (field) names of a data file, from its first record or header."""
    if source == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            if source == "csv":
                import csv

                return next(csv.reader([line]))
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                return []  # the loader reports the line
            return list(rec) if isinstance(rec, dict) else []
    return []


def labelled_corpus(model, path: str, text_column: str | None = None,
                    id_column: str | None = None, group_column: str | None = None):
    """A labelled file read with the model's tasks (those whose column the file has)."""
    from framing.data import load_corpus

    p = input_file(path)
    source = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}.get(p.suffix.lower(),
                                                                         "jsonl")
    cols = _file_columns(p, source)
    data = (model.card.get("config") or {}).get("data") or {}
    trained = {t["name"]: t for t in data.get("tasks") or []}
    tasks = []
    for t in model.tasks:
        column = (trained.get(t) or {}).get("column") or t
        if column in cols:
            tasks.append({"name": t, "column": column, "kind": model.kinds[t],
                          "labels": model.labels[t],
                          "separator": (trained.get(t) or {}).get("separator")})
    if not tasks:
        raise FramingDataError(f"{p}: no column of the model's tasks "
                               f"({', '.join(model.tasks)}); columns present: {cols}. "
                               "Score a file labelled for this model.")
    group = group_column or (data.get("group_column") if data.get("group_column") in cols
                             else None)
    spec = {"source": source, "path": str(p), "name": p.stem,
            "text_column": text_column or data.get("text_column") or "text",
            "id_column": id_column or ("id" if "id" in cols else None),
            "group_column": group, "tasks": tasks}
    return load_corpus(spec, training=False)


def cmd_evaluate(args) -> int:
    from framing.evaluation import evaluate
    from framing.metrics import HEADLINE, key

    if args.n_boot < 0:
        raise FramingDataError(f"--n-boot {args.n_boot}: give 0 (no intervals) or more.")
    model = _load(args.model)
    corpus = labelled_corpus(model, args.file, args.text_column, args.id_column,
                             args.group_column)
    ev = evaluate(model, corpus, args.n_boot, args.seed)
    if args.mlflow:
        from framing.config import project_root
        from framing.tracking import log_evaluation

        uri = args.mlflow if args.mlflow != "project" else \
            f"sqlite:///{project_root() / 'mlflow.db'}"
        run_id = log_evaluation(uri, Path(args.model), corpus, ev)
        print(f"logged to {uri}, run {run_id}", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": str(args.model), "file": str(args.file),
                          "n_records": ev.n_records,
                          "groups": (len(set(corpus.groups)) if corpus.groups is not None
                                     else None),
                          "metrics": ev.metrics, "labels": ev.report}, indent=2))
        return 0
    m = ev.metrics
    groups = (f", {len(set(corpus.groups))} groups resampled"
              if corpus.groups is not None else "")
    print(f"{args.model} on {args.file}: {ev.n_records} records{groups}")
    print(f"{'task':<10} {'metric':<16} {'value':>6}  {'95% interval':<16} {'majority':>8} "
          f"{'codebook':>8}")
    for t in corpus.tasks:
        for k in HEADLINE:
            v = m.get(key(t.name, k))
            if v is None:
                continue
            lo, hi = m.get(key(t.name, k, ci="ci_low")), m.get(key(t.name, k, ci="ci_high"))
            ci = f"[{lo:.3f}, {hi:.3f}]" if lo is not None else ""
            base = [m.get(key(t.name, k, prefix=f"baseline/{b}")) for b in ("majority",
                                                                            "codebook")]
            base = [f"{x:.3f}" if x is not None else "—" for x in base]
            print(f"{t.name:<10} {k:<16} {v:>6.3f}  {ci:<16} {base[0]:>8} {base[1]:>8}")
    print(f"\n{'task':<10} {'label':<16} {'precision':>9} {'recall':>7} {'F1':>6}  "
          f"{'95% interval':<16} {'support':>7} {'codebook F1':>11}")
    for r in ev.report:
        ci = (f"[{r['f1_ci_low']:.3f}, {r['f1_ci_high']:.3f}]" if "f1_ci_low" in r else "")
        cb = f"{r['baseline_codebook_f1']:.3f}" if "baseline_codebook_f1" in r else "—"
        print(f"{r['task']:<10} {r['label']:<16} {r['precision']:>9.3f} {r['recall']:>7.3f} "
              f"{r['f1']:>6.3f}  {ci:<16} {r['support']:>7} {cb:>11}")
    return 0


# -- the annotation loop ---------------------------------------------------------------------
def _tasks(args, model=None):
    from framing.annotation import resolve_tasks

    return resolve_tasks(getattr(args, "task", None), getattr(args, "data_config", None), model)


def _write_text(out: str | None, text: str) -> None:
    """Text to stdout, or atomically to a file."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    from framing.storage import atomic_write_text

    atomic_write_text(out, text)


def cmd_agree(args) -> int:
    from framing.agreement import agreement, disagreements, markdown, read_annotations, table

    if args.n_boot < 0:
        raise FramingDataError(f"--n-boot {args.n_boot}: give 0 (no intervals) or more.")
    _check_output(args.output, args.files)
    ann = read_annotations(args.files, _tasks(args))
    rows = agreement(ann, args.n_boot, args.seed)
    todo = disagreements(ann)
    if args.output:
        n = _write_lines(iter(todo), args.output)
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
    from framing.agreement import merge, read_annotations

    _check_output(args.output, [args.adjudicated, *args.files])
    ann = read_annotations(args.files, _tasks(args))
    gold = merge(args.adjudicated, ann)
    n = _write_lines(iter(gold), args.output)
    print(f"{n} gold units ({len(ann.annotators)} annotators, disputes from "
          f"{args.adjudicated})" + (f" -> {args.output}" if args.output else ""),
          file=sys.stderr)
    return 0


def _pool(files: list[str], exclude: list[str] | None) -> list[dict[str, Any]]:
    """Unlabelled units: JSON-lines records (a text, an id) or raw articles (.txt files,
    cut by the segmenter); ids of ``exclude`` files left out."""
    from framing.annotation import check_unit, read_jsonl, where
    from framing.corpus import Segmenter, read_article

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
    from framing.selection import queue_records, select

    _check_output(args.output, [args.model, *args.files])
    model = _load(args.model)
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
    n = _write_lines(iter(records), args.output)
    cap = f", at most {args.per_article} per article" if args.per_article else ""
    print(f"queued {n} of {len(units)} units ({args.strategy}{cap})"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from framing.annotation import check_unit, read_jsonl, where
    from framing.labelstudio import labeling_config, to_tasks

    _check_output(args.output, [args.file])
    _check_output(args.config, [args.file])
    model = _load(args.model) if args.model else None
    tasks = _tasks(args, model)
    records = []
    for line, rec in read_jsonl(args.file):
        rid, text = check_unit(rec, where(args.file, line))
        records.append({**rec, "id": rid, "text": text})
    if not records:
        raise FramingDataError(f"{args.file}: no records. The file is empty.")
    if model is not None:
        guesses = model.predict([r["text"] for r in records])
        version = f"{Path(args.model).name} ({(model.card.get('created') or '')[:19]})"
    else:
        guesses = [r.get("model_guess") for r in records]
        version = "framing queue"
    out = to_tasks(records, tasks, guesses, version)
    _write_text(args.output, json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    if args.config:
        _write_text(args.config, labeling_config(tasks))
    with_pred = sum(1 for t in out if t.get("predictions"))
    print(f"{len(out)} Label Studio tasks ({with_pred} with pre-annotations)"
          + (f" -> {args.output}" if args.output else "")
          + (f"; labeling config -> {args.config}" if args.config else ""), file=sys.stderr)
    return 0


def cmd_import(args) -> int:
    from framing.labelstudio import from_export

    _check_output(args.output, [args.file])
    model = _load(args.model) if args.model else None
    records, skipped = from_export(args.file, _tasks(args, model), args.annotator,
                                   args.skip_unannotated)
    n = _write_lines(iter(records), args.output)
    left = f"; {skipped} unannotated tasks left out" if skipped else ""
    print(f"{n} labelled units from {args.file}{left}"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def cmd_simulate(args) -> int:
    from framing.config import compose, settings
    from framing.data import load_corpus
    from framing.fitting import Fitter
    from framing.loop_sim import plot, simulate

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for out in (args.plot, args.output):
        _check_output(out, [])
    cfg = settings(compose(["tracking=off", "eval.n_boot=0", "eval.thresholds=fixed",
                            *args.overrides]))
    corpus = load_corpus(cfg.data)
    curve = simulate(corpus, Fitter.from_config(cfg), strategies, args.start, args.batch,
                     args.random_repeats, args.seed, args.per_article, args.max_starts,
                     args.jobs)
    print("\n".join(curve.table()))
    if args.output:
        _write_text(args.output, json.dumps(curve.to_dict(), indent=2) + "\n")
    if args.plot:
        plot(curve, args.plot)
        print(f"figure -> {args.plot}", file=sys.stderr)
    if args.mlflow:
        from framing.tracking import log_simulation

        _log_curve_run(args, curve, plot, log_simulation, args.overrides)
    return 0


def _log_curve_run(args, curve, plot, log, overrides) -> None:
    """Log a curve (simulation or learning curve) and its figure to ``--mlflow``'s store
    (the project's by default)."""
    import tempfile

    from framing.config import project_root

    uri = args.mlflow if args.mlflow != "project" else \
        f"sqlite:///{project_root() / 'mlflow.db'}"
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(args.plot) if args.plot else plot(curve, Path(tmp) / "learning_curve.png")
        run_id = log(uri, curve, png, " ".join(overrides))
    print(f"logged to {uri}, run {run_id}", file=sys.stderr)


def _data_overrides(items: list[str]) -> list[str]:
    """A first word without ``=`` is the corpus file: ``data.path`` (with ``data=jsonl``,
    ``csv`` or ``parquet`` by its ending when tasks are given and no data group is)."""
    if not items or "=" in items[0]:
        return list(items)
    path, rest = items[0], list(items[1:])
    if not Path(path).exists():
        raise FramingDataError(f"{path}: no such file. Give the labelled corpus (JSON lines, "
                               "CSV or Parquet) or overrides such as data=jsonl data.path=FILE.")
    group = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
        Path(path).suffix.lower())
    head = []
    if group and not any(o.startswith("data=") for o in rest) and any(
            o.startswith("data.tasks=") for o in rest):
        head.append(f"data={group}")
    return [*head, f"data.path={Path(path).resolve()}", *rest]


def cmd_learning_curve(args) -> int:
    from framing.config import compose, settings
    from framing.curve import learning_curve, plot
    from framing.data import load_corpus
    from framing.fitting import Fitter

    for out in (args.plot, args.output):
        _check_output(out, [])
    overrides = _data_overrides(args.overrides)
    cfg = settings(compose(["tracking=off", "eval.n_boot=0", *overrides]))
    corpus = load_corpus(cfg.data)
    if corpus.split is not None:
        corpus = corpus.subset([i for i, v in enumerate(corpus.split) if v == "train"])
    sizes = args.sizes or cfg.eval.curve_sizes
    curve = learning_curve(corpus, Fitter.from_config(cfg), sizes, args.draws or
                           cfg.eval.curve_draws, cfg.eval.n_splits, cfg.seed, more=args.more)
    print(f"{corpus.name}: {len(corpus)} records, {curve.n_groups} {curve.unit}; macro-F1 on "
          f"held-out {curve.unit} (mean over folds and {curve.draws} draws, 95% intervals)")
    print("\n".join(curve.table()))
    print("\n".join(curve.gain_lines()))
    if args.output:
        _write_text(args.output, json.dumps(curve.to_dict(), indent=2) + "\n")
    if args.plot:
        plot(curve, args.plot)
        print(f"figure -> {args.plot}", file=sys.stderr)
    if args.mlflow:
        from framing.tracking import log_curve

        _log_curve_run(args, curve, plot, log_curve, overrides)
    return 0


def cmd_info(args) -> int:
    """Versions, where things are, and the models found."""
    import importlib.metadata as md
    import platform

    import framing
    from framing.config import project_root
    from framing.resources import model_path, shipped

    root = project_root()
    print(f"framing {framing.__version__} (Python {platform.python_version()})")
    for lib in ("scikit-learn", "numpy", "scipy", "joblib", "hydra-core", "mlflow",
                "datasets", "krippendorff", "cleanlab"):
        try:
            print(f"  {lib} {md.version(lib)}")
        except md.PackageNotFoundError:
            print(f"  {lib} not installed")
    store = root / "mlflow.db"
    print(f"project root: {root}")
    print(f"MLflow store: sqlite:///{store}" + ("" if store.is_file() else " (not created yet)"))
    models = sorted((root / "models").glob("*.joblib")) if (root / "models").is_dir() else []
    print(f"models in {root / 'models'}: {len(models) or 'none'}")
    for p in models:
        print(f"  {p.name}: {_describe(p)}")
    print("shipped models: " + ", ".join(f"{n} ({_describe(model_path(n))})"
                                          for n in shipped()))
    return 0


def _describe(path: Path) -> str:
    import framing

    try:
        m = framing.load(path, verify=False, on_version_mismatch="ignore")
    except FramingError as e:
        return f"cannot be read ({str(e).split(': ', 1)[-1][:80]})"
    data = m.card.get("data") or {}
    tasks = ", ".join(f"{t} ({len(m.labels[t])})" for t in m.tasks)
    return (f"corpus {data.get('name')!r}, {data.get('n_records')} records; tasks {tasks}; "
            f"made {m.card.get('created', '?')}")


def cmd_ui(args) -> int:
    from framing.config import project_root

    root = project_root()
    uri = args.uri or f"sqlite:///{root / 'mlflow.db'}"
    base = f"http://{args.host}:{args.port}"
    print(f"MLflow UI on {base} (store {uri}); Ctrl-C stops it.", flush=True)
    for name, url in _experiment_views(uri, base):
        print(f"  {name}: {url}", flush=True)
    cmd = ["mlflow", "server", "--backend-store-uri", uri, "--host", args.host, "--port",
           str(args.port)]
    if uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (root / "mlartifacts").as_uri()]
    exe = Path(sys.executable).with_name("mlflow")
    if exe.is_file():
        cmd[0] = str(exe)
    return serve(cmd)


def _experiment_views(uri: str, base: str) -> list[tuple[str, str]]:
    """(experiment, address of its runs table in framing's shared view), if the store
    exists."""
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return []
    try:
        from mlflow.tracking import MlflowClient

        from framing.tracking import VIEW_KEY

        exps = MlflowClient(uri).search_experiments()
    except Exception:  # noqa: BLE001 - the server will say what is wrong with the store
        return []
    return [(e.name, f"{base}/#/experiments/{e.experiment_id}/runs?viewStateShareKey="
             f"{VIEW_KEY}") for e in exps if e.name != "Default"]


def serve(cmd: list[str]) -> int:
    """Run a server in its own process group; Ctrl-C and SIGTERM reach the whole group,
    and nothing of it outlives this process. The exit status is the server's, or that of
    the signal that stopped it (130, 143), as for every command."""
    import os
    import signal
    import subprocess

    # the MLflow server's own deprecation notice (starlette's WSGI middleware, which it
    # uses) says nothing to a user: one line per worker, left out
    quiet = "ignore:starlette.middleware.wsgi is deprecated:UserWarning"
    env = {**os.environ, "PYTHONWARNINGS": ",".join(
        x for x in (os.environ.get("PYTHONWARNINGS"), quiet) if x)}
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    stopped: list[int] = []

    def forward(signum, frame):
        stopped.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
        return 128 + stopped[0] if stopped else code
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            if sig == signal.SIGTERM:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    continue
                # workers of the group may still be ending
                import time

                time.sleep(0.5)


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give whole numbers of articles "
                                         "separated by commas, e.g. 1,2,4,8")
    return sizes


def _positive(value: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is too small; give 1 or more")
    return n


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: what is wrong and where to read more."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="framing", description=__doc__.splitlines()[0])
    from framing import __version__

    p.add_argument("--version", action="version", version=f"framing {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("segment", help="cut raw articles into paragraph records (JSON lines)")
    s.add_argument("files", nargs="+", help="article text files (UTF-8)")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_segment)

    s = sub.add_parser("predict", help="label paragraphs or whole articles")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("files", nargs="*", help="JSON lines with a 'text' field, CSV/TSV or "
                   "Parquet with a 'text' column, or plain text with one paragraph a line; "
                   "'-' or nothing reads stdin")
    s.add_argument("--text-column", default="text",
                   help="the field or column holding the text (default: text)")
    s.add_argument("--id-column", default=None,
                   help="the field or column of the ids, kept in the output (default: id, "
                   "when present; else <file>-<line>)")
    s.add_argument("--article", action="store_true",
                   help="each file is one raw article: segment it and add its profile")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.add_argument("--batch-size", type=_positive, default=512,
                   help="paragraphs per batch: input is read and output written a batch at a "
                   "time, so files larger than memory stream through")
    s.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    s.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="dask: label Parquet/JSON-lines shards on a Dask cluster into a "
                   "folder of Parquet shards (-o FOLDER)")
    s.add_argument("--scheduler", help="with --engine dask: a running scheduler's address "
                   "(default: a local cluster)")
    s.add_argument("--workers", type=_positive, default=2,
                   help="with --engine dask: workers of the local cluster (default 2)")
    s.set_defaults(func=cmd_predict)

    s = sub.add_parser("explain", help="show the features behind a prediction")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("text", help="one paragraph")
    s.add_argument("--task", help="only this task")
    s.add_argument("--label", help="explain this label instead of the predicted one")
    s.add_argument("-k", type=_positive, default=10, help="how many features")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("evaluate", help="score a saved model on a labelled file")
    s.add_argument("model", help="model file (.joblib)")
    s.add_argument("file", help="labelled JSON lines, CSV/TSV or Parquet with the model's "
                   "task columns")
    s.add_argument("--text-column", help="default: the training data's, else 'text'")
    s.add_argument("--id-column", help="default: 'id' when the file has one")
    s.add_argument("--group-column", help="resample these groups (articles) for the "
                   "intervals; default: the training data's group column, if the file has it")
    s.add_argument("--n-boot", type=int, default=1000, help="bootstrap draws (0: none)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print JSON instead of tables")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run (default store: the project's mlflow.db)")
    s.set_defaults(func=cmd_evaluate)

    _annotation_parsers(sub)
    s = sub.add_parser("info", help="versions, the MLflow store and the models found")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("ui", help="start the MLflow UI on the project's store")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--uri", help="tracking store URI (default: the project's mlflow.db)")
    s.set_defaults(func=cmd_ui)
    return p


def _task_options(s, model: bool = False) -> None:
    s.add_argument("--task", action="append", metavar="NAME:KIND:LABELS",
                   help="a task and its labels, e.g. theme:multilabel:security,economy,"
                   "diplomacy,gaza (repeat for each task; default: the guidelines' theme and "
                   "tone" + (", or the model's tasks with --model" if model else "") + ")")
    s.add_argument("--data-config", metavar="YAML",
                   help="take the tasks from a data config (e.g. conf/data/seeds.yaml)")


def _annotation_parsers(sub) -> None:
    s = sub.add_parser("agree", help="inter-annotator agreement of two or more annotators' "
                       "files; write the disagreements to adjudicate")
    s.add_argument("files", nargs="+", metavar="ANNOTATOR.jsonl",
                   help="each annotator's file of the same units (record format, matched "
                   "by id)")
    _task_options(s)
    s.add_argument("-o", "--output", metavar="DISAGREEMENTS.jsonl",
                   help="write the units they disagree on, each with every annotator's "
                   "labels and an empty \"adjudicated\" field")
    s.add_argument("--n-boot", type=int, default=1000,
                   help="bootstrap draws over articles for the 95%% intervals (0: none)")
    s.add_argument("--seed", type=int, default=0)
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--markdown", action="store_true",
                     help="print the datasheet's table (label | agreement | kappa)")
    s.set_defaults(func=cmd_agree)

    s = sub.add_parser("adjudicate", help="merge adjudicated disagreements and the "
                       "annotators' files into a gold file")
    s.add_argument("adjudicated", metavar="DISAGREEMENTS.jsonl",
                   help="the file framing agree -o wrote, its \"adjudicated\" fields filled")
    s.add_argument("files", nargs="+", metavar="ANNOTATOR.jsonl",
                   help="the annotators' files it was written from")
    _task_options(s)
    s.add_argument("-o", "--output", help="the gold file (atomically; default: stdout)")
    s.set_defaults(func=cmd_adjudicate)

    from framing.selection import STRATEGIES

    s = sub.add_parser("queue", help="choose the unlabelled paragraphs to annotate next")
    s.add_argument("model", help="model file (.joblib)")
    s.add_argument("files", nargs="+", metavar="FILE",
                   help="unlabelled paragraphs: JSON lines (id, text, article) or raw "
                   "articles (.txt, cut into paragraphs as framing segment does)")
    s.add_argument("-n", type=_positive, default=50, help="how many units (default 50)")
    s.add_argument("--strategy", choices=STRATEGIES, default="uncertainty",
                   help="uncertainty: closest to a decision; disagreement: model and "
                   "codebook rules disagree; diverse: across TF-IDF clusters; random")
    s.add_argument("--per-article", type=_positive, metavar="K",
                   help="at most K units of one article")
    s.add_argument("--exclude", action="append", metavar="FILE",
                   help="leave out the ids of this file (e.g. the gold file); repeatable")
    s.add_argument("--seed", type=int, default=0, help="seed of diverse and random")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_queue)

    s = sub.add_parser("export", help="write units as tasks of an annotation tool")
    s.add_argument("format", choices=["labelstudio"], help="the tool: labelstudio")
    s.add_argument("file", help="units to annotate (JSON lines, e.g. framing queue's output)")
    s.add_argument("--model", help="pre-annotate with this model (default: the file's "
                   "model_guess fields, if any); its tasks become the controls")
    _task_options(s, model=True)
    s.add_argument("-o", "--output", help="the tasks JSON (atomically; default: stdout)")
    s.add_argument("--config", metavar="LABELING.xml",
                   help="also write the labeling config the tasks fit")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="read an annotation tool's export into the record "
                       "format")
    s.add_argument("format", choices=["labelstudio"], help="the tool: labelstudio")
    s.add_argument("file", help="Label Studio's JSON export of the project")
    s.add_argument("--model", help="take the tasks and labels from this model")
    _task_options(s, model=True)
    s.add_argument("--annotator", metavar="ID",
                   help="this annotator's annotations (completed_by: id or e-mail), when "
                   "tasks have several")
    s.add_argument("--skip-unannotated", action="store_true",
                   help="leave out tasks nobody annotated (default: an error)")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("simulate", help="simulate the annotation loop on a labelled corpus: "
                       "each strategy against random")
    s.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="framing-train overrides (data, features, model; default: the seeds "
                   "and the default model, thresholds fixed)")
    s.add_argument("--strategies", default=",".join(STRATEGIES),
                   help=f"comma-separated (default {','.join(STRATEGIES)})")
    s.add_argument("--start", type=_positive, default=2, help="articles labelled at the start")
    s.add_argument("--batch", type=_positive, default=10, help="units added per batch")
    s.add_argument("--random-repeats", type=_positive, default=3,
                   help="seeds of the random strategy (averaged)")
    s.add_argument("--per-article", type=_positive, metavar="K",
                   help="at most K units of one article per batch")
    s.add_argument("--max-starts", type=_positive,
                   help="at most this many start sets per held-out article (default: all)")
    s.add_argument("--jobs", type=int, default=1, help="parallel processes (-1: all cores)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--plot", metavar="PNG", help="draw the learning curves")
    s.add_argument("-o", "--output", metavar="JSON", help="write the curves as JSON")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run with the table and the figure (default store: the "
                   "project's mlflow.db)")
    s.set_defaults(func=cmd_simulate)
    s = sub.add_parser("learning-curve", help="macro-F1 against annotated articles, and what "
                       "annotating more is expected to gain")
    s.add_argument("overrides", nargs="*", metavar="[DATA] KEY=VALUE",
                   help="the labelled corpus file, then framing-train overrides (data.tasks, "
                   "model, features; default: the seeds and the default model)")
    s.add_argument("--draws", type=_positive, help="random draws of articles a size "
                   "(default eval.curve_draws, 5)")
    s.add_argument("--sizes", metavar="N,N,...", type=_sizes, help="articles per training "
                   "set (default: about five from 1 to a fold's training part)")
    s.add_argument("--more", type=_positive, metavar="N", help="state the expected gain of N "
                   "more articles (default: as many as the corpus has, at least 5)")
    s.add_argument("--plot", metavar="PNG", help="draw the curve")
    s.add_argument("-o", "--output", metavar="JSON", help="write the curve as JSON")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run with the table and the figure (default store: the "
                   "project's mlflow.db)")
    s.set_defaults(func=cmd_learning_curve)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``framing``."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse leaves file names given after an option (predict MODEL --article FILE).
    if extra and args.command in ("predict", "segment", "agree", "adjudicate", "queue",
                                  "simulate") and not any(
            e.startswith("-") and e != "-" for e in extra):
        if args.command == "simulate":
            args.overrides = [*args.overrides, *extra]
        else:
            args.files = [*args.files, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    terminate_on_sigterm()
    import warnings

    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return _run(args)
    finally:
        warnings.showwarning = shown


def _run(args) -> int:
    """A parsed command, its errors as one line and an exit status."""
    try:
        return int(args.func(args) or 0)
    except (FramingError, ValueError) as e:
        return _fail(str(e), e, 2)
    except OSError as e:
        if isinstance(e, BrokenPipeError):  # the reader (e.g. `head`) stopped early
            sys.stderr.close()
            return 0
        return _fail(describe_os_error(e), e, 2)
    except KeyboardInterrupt as e:
        return _fail("interrupted", e, 130)
    except Terminated as e:
        return _fail("terminated", e, 143)


def _fail(message: str, e: BaseException, code: int) -> int:
    """Print the one-line error (and, after a partial stream on stdout, say so)."""
    print(f"framing: error: {message}", file=sys.stderr)
    n = getattr(e, "incomplete", None)
    if n:
        print(f"framing: the output is incomplete: {n} records were written before the "
              "error", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())


def _entry() -> None:
    sys.exit(main())
