"""``framing``: segment articles, predict, explain, evaluate, and open the MLflow UI.

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
    path = Path(name)
    if not path.is_file():
        raise FramingDataError(f"{path}: no such file. Check the path.")

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
    path = Path(name)
    if not path.is_file():
        raise FramingDataError(f"{path}: no such file. Check the path.")
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
    cols = reader.fieldnames or []
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
    print(f"{n} paragraphs from {len(args.files)} articles", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    import framing

    if args.engine == "dask":
        return _predict_dask(args)
    sources = args.files or ["-"]
    _check_output(args.output, sources)
    model = framing.load(args.model)
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
    import framing

    model = framing.load(args.model)
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

    p = Path(path)
    if not p.is_file():
        raise FramingDataError(f"{p}: no such file. Check the path.")
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
    import framing
    from framing.evaluation import evaluate
    from framing.metrics import HEADLINE, key

    if args.n_boot < 0:
        raise FramingDataError(f"--n-boot {args.n_boot}: give 0 (no intervals) or more.")
    model = framing.load(args.model)
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
                "datasets"):
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
    and nothing of it outlives this process."""
    import os
    import signal
    import subprocess

    proc = subprocess.Popen(cmd, start_new_session=True)

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
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

    s = sub.add_parser("info", help="versions, the MLflow store and the models found")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("ui", help="start the MLflow UI on the project's store")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--uri", help="tracking store URI (default: the project's mlflow.db)")
    s.set_defaults(func=cmd_ui)
    return p


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``framing``."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse leaves file names given after an option (predict MODEL --article FILE).
    if extra and args.command in ("predict", "segment") and not any(
            e.startswith("-") and e != "-" for e in extra):
        args.files = [*args.files, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    terminate_on_sigterm()
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
