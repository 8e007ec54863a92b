"""The README's examples run: every shell and Python block, as a user pastes it, in a
fresh project folder with the files the examples name (a seed article, a tiny corpus of
one's own, a labelled file)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS

README = ROOT / "README.md"
SHARED = Path(os.environ.get("FRAMING_SHARED", ROOT.parent / "shared"))
# Lines a test cannot run, and why.
SKIP = {
    "make ": "the set-up itself: CI runs make test on a fresh clone",
    "framing ui": "a server that runs until stopped (tests/test_tracking.py starts one)",
    "mlflow server": "a server that runs until stopped (tests/test_tracking.py starts one)",
}
# Commands a test cannot run wherever these appear in them, and why.
SKIP_ANY = {
    "--scheduler tcp://": "a running Dask cluster's scheduler (tests/test_scale.py runs a "
                          "local cluster)",
    "submitit_slurm": "a SLURM cluster (tests/test_tracking.py runs submitit_local)",
}


def blocks(lang: str) -> list[tuple[int, str]]:
    """(first line number, body) of every fenced block in the given language."""
    out, lines = [], README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == f"```{lang}":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            out.append((i + 2, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def corpus_rows(n: int = 48) -> list[dict]:
    frames = ["conflict", "economic", "human"]
    words = {"conflict": "clash troops fighting border attack",
             "economic": "trade prices market investment budget",
             "human": "families children story grief community"}
    rows = []
    for i in range(n):
        frame = frames[i % 3]
        rows.append({"id": f"f{i}", "outlet": f"outlet{i % 4}", "frame": frame,
                     "topics": [["health"], ["crime"], ["health", "crime"]][i % 3],
                     "text": f"{words[frame]} item {i}."})
    return rows


@pytest.fixture(scope="module")
def project(trained, tmp_path_factory):
    """A project folder with the files the README's examples name."""
    w = tmp_path_factory.mktemp("readme")
    (w / "models").mkdir()
    for src in trained[0].parent.iterdir():
        if src.is_file() and src.name.startswith("framing."):
            shutil.copy2(src, w / "models" / src.name)
    article, other = sorted(SEEDS.glob("*.txt"))[:2]
    shutil.copy2(article, w / "article.txt")
    shutil.copy2(other, w / "other.txt")
    seeds = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    (w / "notes.txt").write_text("\n".join(r["text"] for r in seeds[:3]) + "\n")
    shutil.copy2(SEEDS / "paragraphs.jsonl", w / "labelled.jsonl")
    with open(w / "paragraphs.csv", "w", newline="") as f:
        import csv

        out = csv.writer(f)
        out.writerow(["id", "text"])
        out.writerows([r["id"], r["text"]] for r in seeds[:5])
    annotation_round(w, seeds)
    rows = corpus_rows()
    (w / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    import datasets
    import pandas as pd

    df = pd.DataFrame(rows)
    df.assign(topics=["|".join(t) for t in df.topics]).to_csv(w / "frames.csv", index=False)
    df.to_parquet(w / "frames.parquet")
    (w / "data").mkdir()
    for i, part in enumerate((seeds[:30], seeds[30:])):
        pd.DataFrame([{"id": r["id"], "text": r["text"]} for r in part]).to_parquet(
            w / "data" / f"part{i}.parquet")
    datasets.Dataset.from_pandas(df).save_to_disk(str(w / "frames_dataset"))
    return w


def annotation_round(w: Path, seeds: list[dict]) -> None:
    """Two annotators' Label Studio exports of the seed units (the second changed three
    labels) and their disagreements adjudicated as the seeds have them."""
    from framing.annotate.agreement import disagreements, read_annotations
    from framing.annotate.records import guideline_tasks

    other = [dict(r) for r in seeds]
    other[3]["theme"] = ["security", "diplomacy"]
    other[10]["tone"] = "reportorial" if other[10]["tone"] == "promotional" else "promotional"
    other[21]["theme"] = []
    for name, recs in (("a", seeds), ("b", other)):
        tasks = []
        for k, r in enumerate(recs, 1):
            result = [{"from_name": "theme", "to_name": "text", "type": "choices",
                       "value": {"choices": r["theme"]}}] if r["theme"] else []
            result.append({"from_name": "tone", "to_name": "text", "type": "choices",
                           "value": {"choices": [r["tone"]]}})
            data = {k2: r[k2] for k2 in ("id", "article", "paragraph", "text")}
            tasks.append({"id": k, "data": data, "annotations": [
                {"id": k, "completed_by": 1, "was_cancelled": False, "result": result}]})
        (w / f"export_{name}.json").write_text(json.dumps(tasks))
        (w / f"_{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    ann = read_annotations([w / "_a.jsonl", w / "_b.jsonl"], guideline_tasks())
    gold = {r["id"]: r for r in seeds}
    todo = disagreements(ann)
    for rec in todo:
        rec["adjudicated"] = {t: gold[rec["id"]][t] for t in rec["adjudicated"]}
    (w / "adjudicated.jsonl").write_text("".join(json.dumps(r) + "\n" for r in todo))
    for name in ("a", "b"):
        (w / f"_{name}.jsonl").unlink()


def env_for(project: Path) -> dict[str, str]:
    return {**os.environ, "FRAMING_HOME": str(project), "FRAMING_SHARED": str(SHARED),
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}


def runnable(script: str) -> str:
    """The block with the lines a test cannot run replaced by a note; every training run
    with fewer bootstrap draws (the figures are not what is checked here)."""
    out, lines = [], []
    for line in script.splitlines():  # a command continued over lines is one command
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + line.strip()
        else:
            lines.append(line)
    for line in lines:
        reason = next((r for p, r in SKIP.items() if line.lstrip().startswith(p)), None)
        reason = reason or next((r for p, r in SKIP_ANY.items() if p in line), None)
        if reason is None and "test=devset" in line and not (SHARED / "devset").is_dir():
            reason = f"the dev set is not beside the project ({SHARED / 'devset'})"
        out.append(f"true  # skipped: {reason}" if reason else line)
    prelude = ('framing-train() { command framing-train "$@" eval.n_boot=20; }\n'
               "set -euo pipefail\n")
    return prelude + "\n".join(out) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("line, script", blocks("sh"), ids=lambda v: f"line {v}"
                         if isinstance(v, int) else "")
def test_shell_examples_run(project, line, script):
    r = subprocess.run(["bash", "-c", runnable(script)], cwd=project, env=env_for(project),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"README line {line}:\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr


PRELUDE = """
import json
import pandas as pd
rows = [json.loads(x) for x in open("frames.jsonl")]
df = pd.DataFrame(rows)
texts = [r["text"] for r in rows]
labels = frames = [r["frame"] for r in rows]
topic_lists = [r["topics"] for r in rows]
outlets = [r["outlet"] for r in rows]
seeds = [json.loads(x) for x in open("labelled.jsonl")]
text1, text2 = seeds[0]["text"], seeds[1]["text"]
many_texts = [r["text"] for r in seeds] * 20
raw_article = open("article.txt", encoding="utf-8").read()
"""


# Python blocks a test cannot run as pasted, and why.
SKIP_PYTHON = {
    "spark_udf": "a model id of the reader's store, pyspark and Java "
                 "(tests/test_tracking.py runs the same calls on a logged model)",
}


@pytest.mark.slow
@pytest.mark.parametrize("line, code", blocks("python"), ids=lambda v: f"line {v}"
                         if isinstance(v, int) else "")
def test_python_examples_run(project, line, code):
    reason = next((r for p, r in SKIP_PYTHON.items() if p in code), None)
    if reason:
        pytest.skip(f"README line {line}: {reason}")
    r = subprocess.run([sys.executable, "-c", PRELUDE + code], cwd=project,
                       env=env_for(project), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"README line {line}:\n{r.stderr[-3000:]}"


def test_the_readme_has_examples_of_both_kinds():
    assert len(blocks("sh")) >= 5 and len(blocks("python")) >= 2
    assert all(re.search(r"\S", body) for _, body in blocks("sh") + blocks("python"))
