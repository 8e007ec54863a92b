"""``framing``: segment articles, predict, explain, and open the MLflow UI.

``segment``, ``predict`` and ``explain`` need only the predictor's dependencies.
Errors a user can cause print one line (what, where, what to do) and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framing.errors import FramingDataError, FramingError


def _write_lines(records: Iterator[dict[str, Any]], out: str | None) -> int:
    """Stream JSON lines to stdout, or to a file through a temporary file and a rename
    (an error midway leaves no partial output)."""
    if out is None or out == "-":
        n = 0
        for r in records:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
        sys.stdout.flush()
        return n
    import os
    import tempfile

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


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


def _parquet_inputs(name: str, batch_size: int) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from a Parquet file with a ``text`` column, a batch at a time."""
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
    if "text" not in cols:
        raise FramingDataError(f"{path}: no column 'text' (columns: {cols}).")
    row = 0
    for batch in pf.iter_batches(batch_size=batch_size,
                                 columns=["text"] + (["id"] if "id" in cols else [])):
        for rec in batch.to_pylist():
            row += 1
            if not isinstance(rec["text"], str) or not rec["text"].strip():
                raise FramingDataError(f"{path}, row {row}: 'text' is empty. Remove the row "
                                       "or give it text.")
            yield str(rec.get("id", f"{path.stem}-{row}")), rec["text"]


def _paragraph_inputs(name: str, lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from JSON lines (a ``text`` field) or plain text, a line each.

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
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            raise FramingDataError(f"{name}, line {n}: no string field 'text'. Each JSON line "
                                   "needs {\"text\": \"…\"} (an 'id' is optional).")
        if not rec["text"].strip():
            raise FramingDataError(f"{name}, line {n}: 'text' is empty. Remove the record or "
                                   "give it text.")
        yield str(rec.get("id", f"{stem}-{n}")), rec["text"]


def cmd_segment(args) -> int:
    from framing.corpus import segment_files

    paras = segment_files(args.files)
    n = _write_lines((p.to_record() for p in paras), args.output)
    print(f"{n} paragraphs from {len(args.files)} articles", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    import framing

    model = framing.load(args.model)
    sources = args.files or ["-"]

    progress = _Progress(args.progress)

    def records():
        for name in sources:
            display, lines = _open_lines(name)
            if args.article:
                stem = "stdin" if name == "-" else Path(name).stem
                yield model.predict_article("".join(lines), article=stem)
                progress(1)
                continue
            batch: list[tuple[str, str]] = []
            items = (_parquet_inputs(name, args.batch_size) if name.endswith(".parquet")
                     else _paragraph_inputs(display, lines))
            for item in items:
                batch.append(item)
                if len(batch) >= args.batch_size:
                    yield from _predict_batch(model, batch)
                    progress(len(batch))
                    batch = []
            if batch:
                yield from _predict_batch(model, batch)
                progress(len(batch))

    n = _write_lines(records(), args.output)
    progress.close(n)
    return 0


class _Progress:
    """A progress bar on stderr (tqdm when installed, else a counter); off unless asked."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.count = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(unit=" paragraphs", file=sys.stderr, mininterval=0.5)
            except ImportError:
                self.bar = None

    def __call__(self, n: int) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled:
            print(f"\r{self.count} done", end="", file=sys.stderr)

    def close(self, n: int) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(f"\r{n} written", file=sys.stderr)


def _predict_batch(model, batch):
    for (rid, _), res in zip(batch, model.predict([t for _, t in batch]), strict=True):
        yield {"id": rid, **res}


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


def cmd_ui(args) -> int:
    import subprocess

    from framing.config import project_root

    root = project_root()
    uri = args.uri or f"sqlite:///{root / 'mlflow.db'}"
    print(f"MLflow UI on http://{args.host}:{args.port} (store {uri}); Ctrl-C stops it.",
          flush=True)
    cmd = ["mlflow", "server", "--backend-store-uri", uri, "--host", args.host, "--port",
           str(args.port)]
    if uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (root / "mlartifacts").as_uri()]
    exe = Path(sys.executable).with_name("mlflow")
    if exe.is_file():
        cmd[0] = str(exe)
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="framing", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("segment", help="cut raw articles into paragraph records (JSON lines)")
    s.add_argument("files", nargs="+", help="article text files (UTF-8)")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_segment)

    s = sub.add_parser("predict", help="label paragraphs or whole articles")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("files", nargs="*", help="JSON lines with a 'text' field, Parquet with a "
                   "'text' column, or plain text with one paragraph a line; '-' or nothing "
                   "reads stdin")
    s.add_argument("--article", action="store_true",
                   help="each file is one raw article: segment it and add its profile")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.add_argument("--batch-size", type=int, default=512,
                   help="paragraphs per batch: input is read and output written a batch at a "
                   "time, so files larger than memory stream through")
    s.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    s.set_defaults(func=cmd_predict)

    s = sub.add_parser("explain", help="show the features behind a prediction")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("text", help="one paragraph")
    s.add_argument("--task", help="only this task")
    s.add_argument("--label", help="explain this label instead of the predicted one")
    s.add_argument("-k", type=int, default=10, help="how many features")
    s.set_defaults(func=cmd_explain)

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
    try:
        return int(args.func(args) or 0)
    except FramingError as e:
        print(f"framing: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"framing: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())


def _entry() -> None:
    sys.exit(main())
