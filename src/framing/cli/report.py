"""``framing report``: an article as the model reads it, on an HTML page to show.

One article and ``-o FILE.html``: its page. Several articles (or ``-o`` naming a folder):
a page per article in the folder and an ``index.html`` linking them. Every input is
read and checked before anything is written; each page is written atomically, the index
last. ``--mlflow`` also logs the pages as artifacts of a run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from framing.cli.common import count_of, load_model
from framing.core.errors import FramingDataError


def _folder_output(out: str, n_articles: int) -> bool:
    """Whether ``-o`` names a folder (bulk mode): it is one, ends with a slash, or there
    are several articles."""
    path = Path(out)
    if path.is_dir() or out.endswith(("/", os.sep)):
        return True
    if n_articles > 1:
        if path.exists() or path.suffix.lower() in (".html", ".htm"):
            raise FramingDataError(f"{out}: with {n_articles} articles, -o names a folder "
                                   "(e.g. -o reports/): a page per article and an "
                                   "index.html go there.")
        return True
    return False


def _articles(files: list[str]) -> list[str]:
    """Each article's text, every file checked first (exists, UTF-8, has a paragraph)."""
    from framing.text.segment import Segmenter, read_article

    seg, texts = Segmenter(), []
    for name in files:
        text = read_article(name)
        if not seg.split(text):
            raise FramingDataError(f"{name}: the article holds no paragraph (empty, or page "
                                   "chrome only); give a file with the article's text.")
        texts.append(text)
    return texts


def cmd_report(args) -> int:
    from framing.evaluate.report import page_names, read_article, render_index, render_page
    from framing.predict.storage import atomic_write_text

    bulk = _folder_output(args.output, len(args.files))
    out = Path(args.output)
    if bulk and out.exists() and not out.is_dir():
        raise FramingDataError(f"{out}: is a file; -o names a folder here.")
    names = page_names(args.files)
    targets = [out / n for n in names] if bulk else [out]
    inputs = {Path(f).resolve() for f in args.files} | {Path(args.model).resolve()}
    for t in targets + ([out / "index.html"] if bulk else []):
        if t.resolve() in inputs:
            raise FramingDataError(f"{t}: is also an input, which the report would replace; "
                                   "write the report elsewhere.")
    texts = _articles(args.files)
    model = load_model(args.model)
    model_name = Path(args.model).name
    readings = [read_article(model, text, Path(f).stem, source=Path(f).name, k=args.k)
                for f, text in zip(args.files, texts, strict=True)]
    index = "index.html" if bulk else None
    pages = [render_page(model, r, model_name, index) for r in readings]
    written = []
    for target, page in zip(targets, pages, strict=True):
        atomic_write_text(target, page)
        written.append(target)
    if bulk:
        atomic_write_text(out / "index.html", render_index(model, readings, names, model_name))
        written.append(out / "index.html")
    n_paras = sum(r.result["n_paragraphs"] for r in readings)
    where = f"{out}/ (index.html and {count_of(len(pages), 'page')})" if bulk else str(out)
    print(f"{count_of(len(readings), 'article')}, {count_of(n_paras, 'paragraph')}: report "
          f"written to {where}", file=sys.stderr)
    if args.mlflow:
        from framing.config.tree import project_root
        from framing.track.runs import log_report

        uri = args.mlflow if args.mlflow != "project" else \
            f"sqlite:///{project_root() / 'mlflow.db'}"
        profiles = {r.name: {"source": r.source, "n_paragraphs": r.result["n_paragraphs"],
                             "profile": r.result["profile"]} for r in readings}
        run_id = log_report(uri, Path(args.model), written, profiles)
        print(f"logged to {uri}, run {run_id}", file=sys.stderr)
    return 0
