"""``framing segment``, ``predict``, ``explain``, ``evaluate`` and ``info``: a model on
files of texts. ``segment``, ``predict`` and ``explain`` need only the predictor's
dependencies.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from framing.cli.common import (
    Table,
    count_of,
    load_model,
    record_output,
    write_records,
)
from framing.core.errors import (
    FramingDataError,
    FramingError,
    input_file,
)
from framing.data.texts import (
    blank_note,
    count_records,
    file_columns,
    open_lines,
    read_texts,
)

#: The columns of ``framing segment``'s records, for a CSV, TSV or Parquet output.
SEGMENT_TABLE = Table([("id", "str"), ("article", "str"), ("paragraph", "int"),
                       ("text", "str")], dict)


def cmd_segment(args) -> int:
    from framing.text.segment import Segmenter, read_article

    fmt = record_output(args.output, args.files)
    segmenter = Segmenter()
    paras = []
    for name in args.files:
        found = segmenter.segment(read_article(name), Path(name).stem)
        if not found:
            _warn(f"{name}: no paragraph in the article (empty, or page chrome only); "
                  "nothing written for it")
        paras += found
    n = write_records((p.to_record() for p in paras), args.output, fmt, SEGMENT_TABLE)
    k = len(args.files)
    print(f"{count_of(n, 'paragraph')} from {count_of(k, 'article')}", file=sys.stderr)
    return 0


def _warn(message: str) -> None:
    print(f"framing: warning: {message}", file=sys.stderr)


def predict_table(model, id_key: str = "id") -> Table:
    """The columns of ``framing predict``'s records in a CSV, TSV or Parquet file: the id,
    one column per task (a label; a multi-label task's list of labels) and a
    ``<task>/<label>`` score column per label, as :meth:`FramingModel.predict_frame`
    names them. A blank text's scores are missing (empty cells, nulls)."""
    columns = [(id_key, "str")]
    columns += [(t, "list" if model.kinds[t] == "multilabel" else "str") for t in model.tasks]
    columns += [(f"{t}/{lab}", "float") for t in model.tasks for lab in model.labels[t]]

    def flatten(r):
        row = {id_key: r[id_key], **{t: r[t] for t in model.tasks}}
        for t in model.tasks:
            for lab in model.labels[t]:
                row[f"{t}/{lab}"] = r["scores"][t].get(lab)
        return row

    return Table(columns, flatten)


def cmd_predict(args) -> int:

    if args.engine == "dask":
        return _predict_dask(args)
    sources = args.files or ["-"]
    fmt = record_output(args.output, sources)
    if args.article and fmt != "jsonl":
        raise FramingDataError(f"{args.output}: --article writes one nested record per "
                               "article (its paragraphs and its profile), as JSON lines; "
                               "name the output .jsonl.")
    model = load_model(args.model)
    total = None
    if args.progress and not args.article:
        counts = [count_records(name) for name in sources]
        total = None if None in counts else sum(counts)
    progress = _Progress(args.progress, total, "articles" if args.article else "paragraphs")
    id_key = args.id_column or "id"

    def records():
        for name in sources:
            if args.article:
                display, lines = open_lines(name)
                stem = "stdin" if name == "-" else Path(name).stem
                art = model.predict_article("".join(lines), article=stem)
                if not art["n_paragraphs"]:
                    _warn(f"{display}: no paragraph in the article (empty, or page chrome "
                          "only); its record has none")
                yield art
                progress(1)
                continue
            blank: list[str] = []
            seen = 0
            batch: list[tuple[str, str]] = []
            for item in read_texts(name, args.text_column, args.id_column, args.batch_size,
                                   on_blank=blank.append):
                seen += 1
                batch.append(item)
                if len(batch) >= args.batch_size:
                    yield from _predict_batch(model, batch, id_key)
                    progress(len(batch))
                    batch = []
            if batch:
                yield from _predict_batch(model, batch, id_key)
                progress(len(batch))
            display = "<stdin>" if name == "-" else name
            if blank:
                _warn(blank_note(display, blank))
            if not seen:
                _warn(f"{display}: no paragraphs in the input (it holds no records); "
                      "nothing to label there")

    table = None if args.article else predict_table(model, id_key)
    n = write_records(records(), args.output, fmt, table)
    progress.close(n)
    if args.output not in (None, "-"):
        unit = "article" if args.article else "paragraph"
        print(f"{count_of(n, unit)} labelled, written to {args.output}", file=sys.stderr)
    return 0


def _predict_dask(args) -> int:
    """``--engine dask``: shards in, a folder of labelled Parquet shards out."""
    from framing.scale.shards import predict_shards

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

    model = load_model(args.model)
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


def labelled_corpus(model, path: str, text_column: str | None = None,
                    id_column: str | None = None, group_column: str | None = None):
    """A labelled file read with the model's tasks: every task's column must be there."""
    from framing.data.corpus import column_hint, load_corpus

    p = input_file(path)
    source = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}.get(p.suffix.lower(),
                                                                         "jsonl")
    cols = file_columns(p, source)
    if not cols:
        _no_columns(p, source)
    data = (model.card.get("config") or {}).get("data") or {}
    trained = {t["name"]: t for t in data.get("tasks") or []}
    tasks, missing = [], []
    for t in model.tasks:
        # the column the model was trained on, else one named after the task
        column = (trained.get(t) or {}).get("column") or t
        found = next((c for c in (column, t) if c in cols), None)
        if found is not None:
            tasks.append({"name": t, "column": found, "kind": model.kinds[t],
                          "labels": model.labels[t],
                          "separator": (trained.get(t) or {}).get("separator")})
        else:
            missing.append((t, column))
    hints = "".join(f"; {h}" for h in (column_hint(column, cols) for _, column in missing)
                    if h)
    if not tasks:
        which = ", ".join(t if c == t else f"{t} (trained on column {c!r})"
                          for t, c in missing)
        raise FramingDataError(f"{p}: no column of the model's tasks ({which}); columns "
                               f"present: {cols}{hints}. Score a file labelled for this "
                               "model, its label column named after the task or as in "
                               "training.")
    if missing:
        which = ", ".join(f"task {t!r} (column {c!r})" for t, c in missing)
        raise FramingDataError(f"{p}: no column of the model's {which}; columns present: "
                               f"{cols}{hints}. Rename the column, or score a file labelled "
                               f"for every task of the model ({', '.join(model.tasks)}).")
    group = group_column or (data.get("group_column") if data.get("group_column") in cols
                             else None)
    spec = {"source": source, "path": str(p), "name": p.stem,
            "text_column": text_column or data.get("text_column") or "text",
            "id_column": id_column or ("id" if "id" in cols else None),
            "group_column": group, "tasks": tasks}
    return load_corpus(spec, training=False, text_option="--text-column")


def _no_columns(p: Path, source: str) -> None:
    """A labelled file of no columns: empty (no records), or a first line the loader
    cannot read (its own error, naming the line)."""
    with p.open("rb") as f:
        blank = not any(line.strip() for line in f)
    if blank:
        raise FramingDataError(f"{p}: no records; the file is empty. Score a file labelled "
                               "for this model.")
    if source == "jsonl":
        from framing.data.corpus import iter_jsonl

        for _ in iter_jsonl(p):  # the first malformed line is the error
            break


def cmd_evaluate(args) -> int:
    from framing.core.metrics import HEADLINE, key
    from framing.evaluate.evaluation import evaluate

    if args.n_boot < 0:
        raise FramingDataError(f"--n-boot {args.n_boot}: give 0 (no intervals) or more.")
    model = load_model(args.model)
    corpus = labelled_corpus(model, args.file, args.text_column, args.id_column,
                             args.group_column)
    ev = evaluate(model, corpus, args.n_boot, args.seed)
    if args.mlflow:
        from framing.config.tree import project_root
        from framing.track.runs import log_evaluation

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

    def fig(r, k, width):
        return f"{r[k]:>{width}.3f}" if k in r else f"{'—':>{width}}"

    for r in ev.report:
        ci = (f"[{r['f1_ci_low']:.3f}, {r['f1_ci_high']:.3f}]" if "f1_ci_low" in r else "")
        print(f"{r['task']:<10} {r['label']:<16} {fig(r, 'precision', 9)} "
              f"{fig(r, 'recall', 7)} {fig(r, 'f1', 6)}  {ci:<16} {r['support']:>7} "
              f"{fig(r, 'baseline_codebook_f1', 11)}")
    if any(k not in r for r in ev.report for k in ("precision", "recall", "f1")):
        print("— : undefined (0/0: a label never predicted has no precision, one that never "
              "occurs no recall, one neither occurring nor predicted no F1 and is left out "
              "of the macro-F1)")
    return 0


def cmd_info(args) -> int:
    """Versions, where things are, and the models found."""
    import importlib.metadata as md
    import platform

    import framing
    from framing.config.tree import models_dir, root_origin, shared_dir
    from framing.resources import model_path, shipped

    root, origin = root_origin()
    print(f"framing {framing.__version__} (Python {platform.python_version()})")
    for lib in ("scikit-learn", "numpy", "scipy", "joblib", "hydra-core", "mlflow",
                "datasets", "krippendorff", "cleanlab"):
        try:
            print(f"  {lib} {md.version(lib)}")
        except md.PackageNotFoundError:
            print(f"  {lib} not installed")
    store = root / "mlflow.db"
    print(f"project root: {root} ({origin})")
    print(f"MLflow store: sqlite:///{store}" + ("" if store.is_file() else " (not created yet)"))
    shared = shared_dir()
    print(f"shared corpora (dev set, benchmarks; not part of the package): {shared}"
          + ("" if shared.is_dir() else " (not found: set FRAMING_SHARED to their folder)"))
    folder = models_dir()
    models = sorted(folder.glob("*.joblib")) if folder.is_dir() else []
    print(f"models in {folder}: {len(models) or 'none'}")
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
