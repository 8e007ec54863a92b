import importlib.util
import shutil

import pytest

from conftest import ROOT, run_cli


@pytest.mark.slow
def test_bench_prints_every_table(trained, tmp_path):
    report = tmp_path / "bench.md"
    dask = importlib.util.find_spec("distributed") is not None
    code, out, err = run_cli("python", str(ROOT / "benchmarks" / "bench.py"), "--corpora", "",
                             "--sizes", "1000,3000", "--model", trained[0], "--multilabel", "600x8",
                             "--multilabel-experiments", "text_classifier",
                             "--dask", "4000x2", "--dask-workers", "2", "--no-fasttext",
                             "--no-devset-curve", "--whole-run", "long-document",
                             "--whole-run-scale", "0.05", "--output", report)
    assert code == 0, err[-2000:]
    assert "| framing (default model, both tasks) |" in out and "vs scikit-learn" in out
    assert "`import framing` + `framing.load`" in out
    assert "| 1,000 |" in out and "| 3,000 |" in out
    assert "training time grows as n^" in out and "prediction time grows as n^" in out
    assert ("| trainer (600 documents, 8 labels) | macro-F1 | seconds | peak MB | model MB |"
            in out)
    assert "one-vs-rest LinearSVC (balanced)" in out and "5-fold `cross_val_predict`" in out
    assert "| framing, `experiment=text_classifier`, given split |" in out
    assert "framing's 5-fold run took" in out and "`framing.load` of the default" in out
    assert "| seeds (55 paragraphs, leave-one-article-out) |" in out
    assert "| generated, 600 documents x 8 labels (given split) |" in out
    assert "| frames-like, 150 documents of ~3,000 words, 14 labels | framing-train " in out
    text = report.read_text()
    assert "## Whole runs against a plain scikit-learn script" in text
    assert text.startswith("Run ") and "## Scale (streaming path, generated corpora)" in text
    assert "## Many labels (generated corpus)" in text
    if dask:
        assert "| largest Python worker | JVM |" in text
        assert "| Dask, local cluster of 2 workers |" in text
        assert "| one process (`framing predict`, JSON lines) |" in text
        if importlib.util.find_spec("pyspark") is not None and shutil.which("java"):
            assert "| Spark local mode (2 cores), `mlflow.pyfunc.spark_udf` |" in text
    else:
        assert "Scale out (Dask) skipped" in out


def test_memory_is_sampled_per_worker():
    """The sampler tells the command's own process from the Python processes it starts."""
    import sys

    from bench import run_measured

    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'b = bytearray(300 * 2 ** 20); import time; time.sleep(1.0)'])")
    r, wall, total, own, worker, jvm = run_measured([sys.executable, "-c", code])
    assert r.returncode == 0 and wall > 1.0
    assert worker > 300 and own < worker and total >= own + worker - 1
    assert jvm == 0


def test_a_whole_run_is_timed_beside_a_plain_script(tmp_path):
    """The whole-run table times real framing-train processes (tracked, given split) and
    the plain scikit-learn script on the same generated corpus, and reads each run's own
    phase line and macro-F1."""
    import re

    from bench import whole_run_table

    rows = whole_run_table(["short-text"], tmp_path, experiments=(), scale=0.05)
    shape = "question-like, 350 short texts, 6 classes"
    plain = next(r for r in rows if r.startswith(f"| {shape} | plain scikit-learn script |"))
    run = next(r for r in rows if r.startswith(f"| {shape} | framing-train, default config |"))
    cells = [c.strip() for c in run.strip("|").split("|")]
    seconds, ratio, f1, log = float(cells[2]), cells[3], float(cells[4]), cells[5]
    plain_s = float(plain.split("|")[3])
    # the ratio of the unrounded seconds: within the rounding of the printed ones
    assert ratio.endswith("x")
    assert float(ratio[:-1]) == pytest.approx(seconds / plain_s, abs=0.06 * seconds / plain_s)
    assert 0 <= f1 <= 1
    share = re.fullmatch(r"([0-9.]+) s \(([0-9]+)%\)", log)
    assert share and float(share.group(1)) < seconds
    phases = next(r for r in rows if r.startswith(f"- {shape}, framing-train, default"))
    assert "`time: start-up " in phases and " log " in phases and " in all`" in phases
    # the store was made before the timed runs; the run logged into it
    assert (tmp_path / "home" / "mlflow.db").is_file()
