"""Benchmarks: ``python benchmarks/bench.py`` (or ``make bench``) prints the tables.

1. Quality and speed on public corpora, side by side on the same 10 folds: framing's
   default text pipeline (``experiment=bench_<corpus>``), framing running the plain
   pipeline (to measure the framework's own overhead), plain scikit-learn TF-IDF +
   LinearSVC, and fastText supervised with bigrams when ``fasttext`` is installed.
2. The predictor: import time, load time, single-paragraph latency, batch throughput.
3. Scale: the streaming path on generated corpora (10k, 100k, 1M paragraphs by
   default), wall time and peak memory of training and of prediction, and their growth.
4. Many labels: a generated long-tail corpus (10,000 documents, 90 labels by default)
   trained by ``framing-train`` beside scikit-learn's one-vs-rest LinearSVC.
5. Scale out: 1M generated paragraphs in Parquet shards labelled in one process, with
   ``framing predict --engine dask`` on local clusters of 1 and 2 workers, and with
   ``mlflow.pyfunc.spark_udf`` in Spark local mode (when pyspark and Java are there).
6. Whole runs: ``framing-train`` as a user runs it (tracked, given split), the default
   config and ``experiment=text_classifier``, on three generated shapes (many labels,
   short texts, long documents) beside the same task as a plain scikit-learn script in
   its own process: seconds, ratios, macro-F1, the share spent logging, the phase line.

Figures are printed, never asserted: machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CORPORA = ("subj", "mr", "cr", "mpqa")
# Wang & Manning (2012), table 3: NBSVM with bigrams, 10-fold cross-validation.
PUBLISHED_NBSVM = {"subj": 93.2, "mr": 79.4, "cr": 81.8, "mpqa": 86.3}


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _framing_cv(corpus: str, overrides: list[str]) -> tuple[float, float, float]:
    """(accuracy %, cross-validation seconds, total seconds) of a framing config."""
    from framing.config.tree import compose
    from framing.pipeline.trainer import Trainer

    cfg = compose([f"experiment=bench_{corpus}", "tracking=off", "eval.n_boot=0", *overrides])
    t0 = time.perf_counter()
    trainer = Trainer(cfg)
    data, _ = trainer.load_data()
    _, report = trainer.fit(data)
    total = time.perf_counter() - t0
    m = report.metrics
    return 100 * m["label/accuracy"], m["time/eval_seconds"], total


def _sklearn_cv(rows: list[dict]) -> tuple[float, float]:
    """Plain scikit-learn: TF-IDF (1-2-grams, sublinear) + LinearSVC on the same folds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    t0 = time.perf_counter()
    correct = 0
    for fold in sorted({r["fold"] for r in rows}):
        tr = [r for r in rows if r["fold"] != fold]
        te = [r for r in rows if r["fold"] == fold]
        pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                             LinearSVC())
        pipe.fit([r["text"] for r in tr], [r["label"] for r in tr])
        correct += int(np.sum(pipe.predict([r["text"] for r in te]) ==
                              np.array([r["label"] for r in te])))
    return 100 * correct / len(rows), time.perf_counter() - t0


def _fasttext_cv(rows: list[dict], tmp: Path) -> tuple[float, float] | None:
    """fastText supervised, bigrams, 25 epochs, lr 0.5, on the same folds (if installed)."""
    try:
        import fasttext
    except ImportError:
        return None
    t0 = time.perf_counter()
    correct = 0
    rng = np.random.default_rng(0)
    for fold in sorted({r["fold"] for r in rows}):
        # fastText reads its file in order and the corpora are sorted by label: shuffle.
        tr = [r for r in rows if r["fold"] != fold]
        train_file = tmp / f"ft{fold}.txt"
        train_file.write_text("".join(f"__label__{tr[i]['label']} {tr[i]['text']}\n"
                                      for i in rng.permutation(len(tr))), encoding="utf-8")
        model = fasttext.train_supervised(str(train_file), wordNgrams=2, epoch=25, lr=0.5,
                                          verbose=0, seed=0)
        te = [r for r in rows if r["fold"] == fold]
        labels, _ = model.predict([r["text"] for r in te])
        correct += sum(lab[0] == f"__label__{r['label']}" for lab, r in zip(labels, te,
                                                                             strict=True))
    return 100 * correct / len(rows), time.perf_counter() - t0


def quality_table(bench_dir: Path, corpora, fasttext: bool = True) -> list[str]:
    """Markdown rows of the quality and speed comparison."""
    out = ["| corpus | framing default | s (1 job) | s (2 jobs) | framing plain | s | "
           "overhead vs sklearn | sklearn TF-IDF+LinearSVC | s | fastText | s | "
           "framing (2 jobs) / fastText time | NBSVM-bi (W&M 2012) |",
           "| --- " * 13 + "|"]
    for name in corpora:
        rows = _rows(bench_dir / name / "all.jsonl")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            acc, cv_s, _ = _framing_cv(name, ["eval.n_jobs=1"])
            _, cv_par, _ = _framing_cv(name, ["eval.n_jobs=2"])
            # features=ngrams is scikit-learn's TfidfVectorizer with its default tokens.
            plain_acc, plain_s, _ = _framing_cv(name, [
                "features=ngrams", "model=linear_svm", "model.calibration_cv=0",
                "model.class_weight=null", "eval.n_jobs=1"])
            sk_acc, sk_s = _sklearn_cv(rows)
            ft = _fasttext_cv(rows, tmp) if fasttext else None
        ft_cells = (f"{ft[0]:.1f} | {ft[1]:.1f} | {cv_par / ft[1]:.2f}x" if ft
                    else "— | — | —")
        out.append(f"| {name} | {acc:.1f} | {cv_s:.1f} | {cv_par:.1f} | {plain_acc:.1f} | "
                   f"{plain_s:.1f} | {plain_s / sk_s:.2f}x | {sk_acc:.1f} | {sk_s:.1f} | "
                   f"{ft_cells} | {PUBLISHED_NBSVM[name]} |")
        print(out[-1], flush=True)
    return out


def _seed_rows() -> list[dict]:
    from framing.config.tree import seeds_dir

    return [json.loads(x) for x in (seeds_dir() / "paragraphs.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]


class _Plain:
    """The same task written directly in scikit-learn: TF-IDF word 1-2-grams and
    logistic regression, one-vs-rest for theme, no codebook, style or sentence rule."""

    def __init__(self, rows):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MultiLabelBinarizer

        texts = [r["text"] for r in rows]
        self.vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        X = self.vec.transform(texts)
        y = MultiLabelBinarizer().fit_transform([r["theme"] for r in rows])
        self.theme = OneVsRestClassifier(LogisticRegression()).fit(X, y)
        self.tone = LogisticRegression().fit(X, [r["tone"] for r in rows])

    def predict(self, texts):
        X = self.vec.transform(texts)
        return self.theme.predict_proba(X), self.tone.predict_proba(X)


class _FastText:
    """fastText supervised, one model per task (theme: one-vs-all), bigrams, 25 epochs."""

    def __init__(self, rows, tmp: Path):
        import fasttext

        def fit(name, lines, **kw):
            path = tmp / f"{name}.txt"
            path.write_text("".join(lines), encoding="utf-8")
            return fasttext.train_supervised(str(path), wordNgrams=2, epoch=25, lr=0.5,
                                             verbose=0, seed=0, **kw)

        clean = [r["text"].replace("\n", " ") for r in rows]
        self.theme = fit("theme", [" ".join(f"__label__{x}" for x in r["theme"] or ["none"])
                                   + f" {t}\n" for r, t in zip(rows, clean, strict=True)],
                         loss="ova")
        self.tone = fit("tone", [f"__label__{r['tone']} {t}\n"
                                 for r, t in zip(rows, clean, strict=True)])

    def predict(self, texts):
        texts = [t.replace("\n", " ") for t in texts]
        return self.theme.predict(texts, k=-1, threshold=0.5), self.tone.predict(texts)


def predictor_table(model_path: Path, n_single: int = 550, n_batch: int = 20000,
                    rounds: int = 5, fasttext: bool = True) -> list[str]:
    """Markdown rows: the model against plain scikit-learn and fastText on the same
    paragraphs — batch throughput (median of interleaved rounds), one-paragraph latency —
    and the model's import and load time in a fresh process."""
    code = ("import time, sys; t = time.perf_counter(); import framing; i = time.perf_counter()"
            " - t; m = framing.load(sys.argv[1]); l = time.perf_counter() - t; "
            "m.predict('Iran and Pakistan signed eight agreements on trade.'); "
            "print(i, l, time.perf_counter() - t, int('sklearn' in sys.modules))")
    # as an installed package runs: its bytecode cached (by the first, unmeasured run)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    fresh = [tuple(map(float, subprocess.run([sys.executable, "-c", code, str(model_path)],
                                             capture_output=True, text=True, check=True,
                                             env=env).stdout.split())) for _ in range(6)][1:]
    import framing

    rows = _seed_rows()
    texts = [r["text"] for r in rows]
    batch = [f"{texts[i % len(texts)]} ({i})" for i in range(n_batch)]
    contenders = {"framing (default model, both tasks)": framing.load(model_path),
                  "scikit-learn TF-IDF + logistic regression": _Plain(rows)}
    with tempfile.TemporaryDirectory() as tmp:
        if fasttext:
            with contextlib.suppress(ImportError):
                contenders["fastText (two models)"] = _FastText(rows, Path(tmp))
        speed = {k: [] for k in contenders}
        for _ in range(rounds):  # interleaved, so that load on the machine hits all alike
            for name, m in contenders.items():
                t = time.perf_counter()
                m.predict(batch)
                speed[name].append(n_batch / (time.perf_counter() - t))
        # one call per paragraph, every seed paragraph (headlines to long paragraphs), in
        # turn, n_single calls in all; and the paragraph of median length alone
        latency = {}
        typical = sorted(texts, key=len)[len(texts) // 2]
        for name, m in contenders.items():
            def one(t, m=m, name=name):
                m.predict([t] if name.startswith(("scikit", "fastText")) else t)
            for t in texts:
                one(t)
            lat, mid = [], []
            for i in range(max(n_single, len(texts))):
                t = time.perf_counter()
                one(texts[i % len(texts)])
                lat.append(time.perf_counter() - t)
                t = time.perf_counter()
                one(typical)
                mid.append(time.perf_counter() - t)
            latency[name] = (statistics.median(lat), float(np.quantile(lat, 0.95)),
                             statistics.median(mid))
    base = statistics.median(speed["scikit-learn TF-IDF + logistic regression"])
    out = [f"| predictor | paragraphs/s (median of {rounds} rounds) | vs scikit-learn | "
           f"latency p50 (ms), all {len(texts)} seed paragraphs | p95 (ms) | "
           f"p50 (ms), a typical paragraph ({len(typical)} characters) |",
           "| --- | --- | --- | --- | --- | --- |"]
    for name in contenders:
        s = statistics.median(speed[name])
        out.append(f"| {name} | {s:,.0f} | {s / base:.2f}x | {1000 * latency[name][0]:.3f} | "
                   f"{1000 * latency[name][1]:.3f} | {1000 * latency[name][2]:.3f} |")
    imp, both, first = (statistics.median(f[k] for f in fresh) for k in range(3))
    sklearn = "not imported" if not any(f[3] for f in fresh) else "imported"
    out += ["", f"`import framing`: {imp:.3f} s; `import framing` + `framing.load`: "
            f"{both:.3f} s; and a first `predict`: {first:.3f} s (fresh process, median of "
            f"5; scikit-learn {sklearn}). {n_batch:,} paragraphs of the seeds (numbered), "
            "one call per predictor and round."]
    return out


def generate(path: Path, n: int, seed: int = 0) -> Path:
    """A synthetic two-class corpus of n paragraphs (about 40 words each) as JSON lines."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20000)])
    cues = {"a": vocab[:200], "b": vocab[200:400]}
    with path.open("w", encoding="utf-8") as f:
        for start in range(0, n, 10000):
            k = min(10000, n - start)
            labels = rng.choice(["a", "b"], k)
            body = rng.choice(vocab, (k, 36))
            for i in range(k):
                words = list(body[i]) + list(rng.choice(cues[labels[i]], 4))
                f.write(json.dumps({"id": f"p{start + i}", "text": " ".join(words),
                                    "label": str(labels[i])}) + "\n")
    return path


def generate_multilabel(path: Path, n_docs: int = 10000, n_labels: int = 90, seed: int = 0,
                        test_share: float = 0.2) -> Path:
    """A newswire-like multi-label corpus as JSON lines: a long tail of label frequencies
    (the rarest labels have a handful of documents), 1-3 labels a document, each label
    signalled by a few of its own words among background words, a train/test split."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(30000)])
    cues = [vocab[100 + 25 * j: 100 + 25 * (j + 1)] for j in range(n_labels)]
    freq = 1.0 / np.arange(1, n_labels + 1) ** 1.2
    freq /= freq.sum()
    labels = [f"l{j:02d}" for j in range(n_labels)]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n_docs):
            k = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
            mine = sorted(set(rng.choice(n_labels, size=k, p=freq).tolist()))
            words = list(rng.choice(vocab[3000:], 40))
            for j in mine:
                words += list(rng.choice(cues[j], 5))
            noise = int(rng.integers(n_labels))  # a stray cue of another label
            words.append(str(rng.choice(cues[noise])))
            rng.shuffle(words)
            f.write(json.dumps({"id": f"d{i}", "text": " ".join(words),
                                "topics": [labels[j] for j in mine],
                                "part": "test" if rng.random() < test_share else "train"})
                    + "\n")
    return path


_MULTI_TRAIN = """
import json, sys
from framing.config.tree import compose
from framing.pipeline.trainer import Trainer
trainer = Trainer(compose(json.loads(sys.argv[1])))
corpus, _ = trainer.load_data()
model, report = trainer.fit(corpus)
model.save(sys.argv[2])
m, ev = report.metrics, report.evaluation
print(json.dumps({"macro": m["topics/macro_f1"], "micro": m["topics/micro_f1"],
                  "strategy": ev.strategy, "folds": ev.n_folds}))
"""
_LOAD = ("import sys, time; t = time.perf_counter(); import framing; framing.load(sys.argv[1]); "
         "print(time.perf_counter() - t)")


def framing_multilabel(path: Path, n_labels: int, overrides: list[str] = (),
                       split: bool = True) -> dict:
    """framing's default trainer on a generated many-label corpus, in a fresh process:
    macro- and micro-F1 (on the given test split, or out of fold without it), wall
    seconds from start to exit, peak memory of all its processes."""
    labels = [f"l{j:02d}" for j in range(n_labels)]
    task = f"{{name: topics, kind: multilabel, labels: [{', '.join(labels)}]}}"
    cfg = ["data=jsonl", f"data.path={path}", f"data.split_column={'part' if split else 'null'}",
           f"data.tasks=[{task}]", "tracking=off", "eval.n_boot=0", *overrides]
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "model.joblib"
        r, wall, peak, *_ = run_measured([sys.executable, "-c", _MULTI_TRAIN, json.dumps(cfg),
                                            str(saved)])
        if r.returncode:
            raise RuntimeError(f"framing on {path} failed: {r.stderr[-2000:]}")
        load = subprocess.run([sys.executable, "-c", _LOAD, str(saved)], capture_output=True,
                              text=True, check=True)
        size = saved.stat().st_size / 2 ** 20
    return {**json.loads(r.stdout.strip().splitlines()[-1]), "s": wall, "peak_mb": peak,
            "model_mb": size, "load_s": float(load.stdout.split()[-1])}


def multilabel_row(path: Path, n_labels: int, overrides: list[str] = ()) -> dict:
    """framing's macro-F1 and time on a generated many-label corpus (its given test
    split), beside scikit-learn's TF-IDF + one-vs-rest LinearSVC (balanced) on the same
    split and its 5-fold cross-validation on the training part, written directly."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.model_selection import cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    fr = framing_multilabel(path, n_labels, overrides)
    labels = [f"l{j:02d}" for j in range(n_labels)]
    rows = _rows(path)
    mlb = MultiLabelBinarizer(classes=labels)
    y = mlb.fit_transform([r["topics"] for r in rows])
    train = np.array([r["part"] == "train" for r in rows])
    texts = np.array([r["text"] for r in rows], dtype=object)

    def svc():
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                             OneVsRestClassifier(LinearSVC(class_weight="balanced")))
    t0 = time.perf_counter()
    sk = svc().fit(texts[train], y[train])
    sk_f1 = f1_score(y[~train], sk.predict(texts[~train]), average="macro", zero_division=0)
    split_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    oof = cross_val_predict(svc(), texts[train], y[train], cv=5)
    cv_s = time.perf_counter() - t0
    return {"framing_macro_f1": fr["macro"], "framing_micro_f1": fr["micro"],
            "framing_s": fr["s"], "framing_peak_mb": fr["peak_mb"],
            "framing_model_mb": fr["model_mb"], "framing_load_s": fr["load_s"],
            "sklearn_macro_f1": float(sk_f1), "sklearn_split_s": split_s,
            "sklearn_cv5_s": cv_s, "sklearn_cv5_macro_f1": float(
                f1_score(y[train], oof, average="macro", zero_division=0))}


# Peak memory is read from /proc/self/status (VmHWM): unlike ru_maxrss it starts afresh
# in the new process instead of carrying over the parent's peak.
_PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
"""



def _tree_rss_mb(root: int) -> tuple[float, float, float, float]:
    """Resident MB now of process ``root`` and all its descendants together, of ``root``
    itself, of the largest Python worker among the descendants (a Dask worker, a Spark
    Python worker), and of the Java processes (Spark's JVM) together."""
    parent, rss, java = {}, {}, set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:  # gone meanwhile
            continue
        pid = int(d)
        parent[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0] or 0) / 1024
        if fields.get("Name", "").strip() == "java":
            java.add(pid)
    tree, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in tree} - tree
        tree |= new
        grew = bool(new)
    others = tree - {root}
    workers = [rss.get(p, 0.0) for p in others - java]
    return (sum(rss.get(p, 0.0) for p in others) + rss.get(root, 0.0), rss.get(root, 0.0),
            max(workers, default=0.0), sum(rss.get(p, 0.0) for p in others & java))


def run_measured(cmd: list[str], env: dict | None = None, every: float = 0.1
                 ) -> tuple[subprocess.CompletedProcess, float, float, float, float, float]:
    """Run a command; (its result, wall seconds, peak MB of all its processes together,
    of the command's own process, of its largest Python worker, of its Java processes),
    resident memory sampled every ``every`` s over the process and everything it starts
    (workers, a JVM, daemons)."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    peaks = [0.0, 0.0, 0.0, 0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peaks[:] = map(max, peaks, _tree_rss_mb(proc.pid))
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), wall, *peaks


_STREAM_TRAIN = _PEAK + """
import sys, time
from framing.config.tree import compose
from framing.scale.stream import StreamTrainer
t = time.perf_counter()
cfg = compose(["experiment=streaming", "data=jsonl", "data.path=" + sys.argv[1],
               "data.tasks=[{name: label, kind: multiclass, labels: [a, b]}]",
               "tracking=off", "stream.progress=false", "eval.n_boot=0"])
model, report = StreamTrainer(cfg).fit()
model.save(sys.argv[2])
print(time.perf_counter() - t, peak_mb(), report.metrics["label/accuracy"])
"""

_STREAM_PREDICT = _PEAK + """
import sys, time
from framing.cli.main import main
t = time.perf_counter()
code = main(["predict", sys.argv[1], sys.argv[2], "-o", sys.argv[3]])
print(time.perf_counter() - t, peak_mb())
"""


def scale_table(sizes, workdir: Path) -> list[str]:
    """Markdown rows: streaming train and predict, wall time and peak RSS per size."""
    out = ["| paragraphs | file MB | train s | train peak MB | held-out acc | predict s | "
           "predict peak MB | predict paragraphs/s |", "| --- " * 8 + "|"]
    times_train, times_pred = [], []
    for n in sizes:
        data = generate(workdir / f"gen_{n}.jsonl", n)
        model = workdir / f"stream_{n}.joblib"
        r = subprocess.run([sys.executable, "-c", _STREAM_TRAIN, str(data), str(model)],
                           capture_output=True, text=True, check=True)
        tr_s, tr_mb, acc = map(float, r.stdout.split())
        r = subprocess.run([sys.executable, "-c", _STREAM_PREDICT, str(model), str(data),
                            str(workdir / f"pred_{n}.jsonl")], capture_output=True, text=True,
                           check=True)
        pr_s, pr_mb = map(float, r.stdout.split())
        times_train.append(tr_s)
        times_pred.append(pr_s)
        out.append(f"| {n:,} | {data.stat().st_size / 2**20:.0f} | {tr_s:.1f} | {tr_mb:.0f} | "
                   f"{acc:.3f} | {pr_s:.1f} | {pr_mb:.0f} | {n / pr_s:,.0f} |")
        print(out[-1], flush=True)
        for f in (data, workdir / f"pred_{n}.jsonl", model):
            f.unlink(missing_ok=True)
    if len(sizes) > 1:
        x = np.log(np.asarray(sizes, dtype=float))
        for name, ts in (("training", times_train), ("prediction", times_pred)):
            slope = np.polyfit(x, np.log(ts), 1)[0]
            kind = "linear" if slope < 1.15 else "worse than linear"
            out.append(f"\n{name} time grows as n^{slope:.2f} over {sizes[0]:,}–{sizes[-1]:,}"
                       f" paragraphs: {kind}.")
    return out


_DASK_PREDICT = _PEAK + """
import sys, time
from framing.cli.main import main
t = time.perf_counter()
args = ["predict", sys.argv[1], *sys.argv[3:], "-o", sys.argv[2]]
code = main(args)
print(time.perf_counter() - t, peak_mb())
"""


_SPARK_PREDICT = _PEAK + """
import os, sys, time
import mlflow
os.environ["PYSPARK_PYTHON"] = sys.executable
mlflow.set_tracking_uri("sqlite:///" + sys.argv[2] + "/mlflow.db")
t = time.perf_counter()
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[" + sys.argv[4] + "]")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
         .getOrCreate())
label = mlflow.pyfunc.spark_udf(spark, sys.argv[1], env_manager="local")
df = spark.read.parquet(sys.argv[3])
df.withColumn("framing", label("text")).select("id", "framing.*").write.parquet(
    sys.argv[2] + "/spark_out")
spark.stop()
print(time.perf_counter() - t, peak_mb())
"""


def _log_model(model: Path, workdir: Path) -> str:
    """Log a model file to an MLflow store in ``workdir``; its model URI."""
    import mlflow

    from framing.track.pyfunc import log_pyfunc

    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    exp = mlflow.create_experiment("bench", artifact_location=(workdir / "art").as_uri())
    with mlflow.start_run(experiment_id=exp):
        return log_pyfunc(str(model), ["An example paragraph."]).model_uri


def dask_table(n: int, n_shards: int, workers: list[int], workdir: Path) -> list[str]:
    """Markdown rows: labelling n generated paragraphs in Parquet shards with the
    streaming model, in one process (``framing predict`` on the JSON lines) and with
    ``--engine dask`` on a local cluster of each number of workers."""
    import pandas as pd

    data = generate(workdir / f"gen_{n}.jsonl", n)
    model = workdir / "stream.joblib"
    subprocess.run([sys.executable, "-c", _STREAM_TRAIN, str(data), str(model)],
                   capture_output=True, text=True, check=True)
    frame = pd.read_json(data, lines=True, dtype=False)[["id", "text"]]
    (workdir / "shards").mkdir(exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(frame)), n_shards)):
        frame.iloc[part].to_parquet(workdir / "shards" / f"part{i:03d}.parquet", index=False)
    del frame
    out = [f"| engine ({n:,} paragraphs, {n_shards} Parquet shards) | seconds | "
           "paragraphs/s | peak MB, all processes | the command's process | largest Python "
           "worker | JVM |", "| --- | --- | --- | --- | --- | --- | --- |"]

    def row(name, cmd, env=None):
        r, wall, total, own, worker, jvm = run_measured(cmd, env)
        if r.returncode:
            return r
        cells = [f"{x:,.0f}" if x else "–" for x in (worker, jvm)]
        out.append(f"| {name} | {wall:.1f} | {n / wall:,.0f} | {total:,.0f} | {own:,.0f} | "
                   f"{cells[0]} | {cells[1]} |")
        print(out[-1], flush=True)
        return r

    row("one process (`framing predict`, JSON lines)",
        [sys.executable, "-c", _STREAM_PREDICT, str(model), str(data),
         str(workdir / "one.jsonl")])
    for w in workers:
        row(f"Dask, local cluster of {w} worker{'s' if w > 1 else ''}",
            [sys.executable, "-c", _DASK_PREDICT, str(model), str(workdir / f"out{w}"),
             str(workdir / "shards" / "*.parquet"), "--engine", "dask", "--workers", str(w)])
    if importlib.util.find_spec("pyspark") is not None and shutil.which("java"):
        uri = _log_model(model, workdir)  # once, as a user's training run would have
        for w in workers:
            r = row(f"Spark local mode ({w} core{'s' if w > 1 else ''}), "
                    "`mlflow.pyfunc.spark_udf`",
                    [sys.executable, "-c", _SPARK_PREDICT, uri, str(workdir),
                     str(workdir / "shards"), str(w)],
                    {**os.environ, "PYSPARK_PYTHON": sys.executable})
            if r.returncode:
                print(f"Spark row skipped: {r.stderr.strip().splitlines()[-1:]}", flush=True)
                break
            shutil.rmtree(workdir / "spark_out", ignore_errors=True)
    out += ["", "Seconds run from process start to exit (imports, starting the cluster or "
            "the JVM, reading the model, writing the results); memory is resident memory "
            "sampled every 0.1 s over the command's process and every process it starts "
            "(Dask workers and their nanny; Spark's JVM and its Python workers): the total's "
            "peak, the command's own, the largest single Python worker's, and the JVM's."]
    return out


def multilabel_table(n_docs: int, n_labels: int, workdir: Path,
                     experiments: Sequence[str] = ()) -> list[str]:
    """Markdown rows: the many-label training comparison (:func:`multilabel_row`),
    framing's 5-fold cross-validation of the training part beside scikit-learn's, and
    the given split trained with each of ``experiments`` (named experiments)."""
    path = generate_multilabel(workdir / "multilabel.jsonl", n_docs, n_labels)
    r = multilabel_row(path, n_labels)
    train_part = workdir / "multilabel_train.jsonl"
    train_part.write_text("".join(json.dumps(x) + "\n" for x in _rows(path)
                                  if x["part"] == "train"), encoding="utf-8")
    cv = framing_multilabel(train_part, n_labels, split=False)
    n_train = len(_rows(train_part))
    out = [f"| trainer ({n_docs:,} documents, {n_labels} labels) | macro-F1 | seconds | "
           "peak MB | model MB |", "| --- | --- | --- | --- | --- |",
           f"| framing, default config, given split: fit on train, score test | "
           f"{r['framing_macro_f1']:.4f} (test) | {r['framing_s']:.1f} | "
           f"{r['framing_peak_mb']:,.0f} | {r['framing_model_mb']:,.1f} |",
           f"| scikit-learn TF-IDF + one-vs-rest LinearSVC (balanced), the same split | "
           f"{r['sklearn_macro_f1']:.4f} (test) | {r['sklearn_split_s']:.1f} | | |",
           f"| framing, default config, 5-fold cross-validation of the {n_train:,} training "
           f"documents ({cv['strategy']}), thresholds, final fit | {cv['macro']:.4f} "
           f"(out of fold) | {cv['s']:.1f} | {cv['peak_mb']:,.0f} | {cv['model_mb']:,.1f} |",
           f"| scikit-learn, the same pipeline, 5-fold `cross_val_predict` | "
           f"{r['sklearn_cv5_macro_f1']:.4f} (out of fold) | {r['sklearn_cv5_s']:.1f} | | |"]
    for name in experiments:
        e = framing_multilabel(path, n_labels, [f"experiment={name}"])
        out.append(f"| framing, `experiment={name}`, given split | {e['macro']:.4f} (test) | "
                   f"{e['s']:.1f} | {e['peak_mb']:,.0f} | {e['model_mb']:,.1f} |")
    return out + [
        "",
        f"`import framing` + `framing.load` of the default config's model in a fresh "
        f"process: {r['framing_load_s']:.2f} s. framing's 5-fold run took "
        f"{cv['s'] / r['sklearn_cv5_s']:.2f}x scikit-learn's 5-fold `cross_val_predict` "
        f"(framing: from process start to exit, saving the model included, peak memory of "
        f"all its processes; scikit-learn: in the benchmark's process, fits only)."]


def _pseudo_words(n: int, rng) -> list[str]:
    """``n`` distinct lower-case letter strings of 3-9 letters (words for generated text,
    so that character n-grams see word-like strings)."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    seen: dict[str, None] = {}
    while len(seen) < n:
        for k in rng.integers(3, 10, n):
            seen.setdefault("".join(rng.choice(letters, int(k))), None)
    return list(seen)[:n]


def generate_short(path: Path, n_train: int = 5452, n_test: int = 500, n_classes: int = 6,
                   seed: int = 0) -> Path:
    """A question-type-like corpus as JSON lines: short texts (about 10 words) of one of
    ``n_classes`` unequally frequent classes, each signalled by one or two of its own words
    among Zipf-distributed background words (a stray cue of another class in one text of
    six), in a train/test split (``part``)."""
    rng = np.random.default_rng(seed)
    vocab = np.array(_pseudo_words(8000, rng))
    cues = [vocab[30 * j: 30 * (j + 1)] for j in range(n_classes)]
    background = vocab[30 * n_classes:]
    zipf = 1.0 / np.arange(1, len(background) + 1)
    zipf /= zipf.sum()
    freq = np.linspace(2.0, 0.5, n_classes)
    freq /= freq.sum()
    labels = [f"c{j}" for j in range(n_classes)]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n_train + n_test):
            c = int(rng.choice(n_classes, p=freq))
            words = list(rng.choice(background, int(rng.integers(6, 11)), p=zipf))
            words += list(rng.choice(cues[c], int(rng.integers(1, 3))))
            if rng.random() < 1 / 6:
                words.append(str(rng.choice(cues[int(rng.integers(n_classes))])))
            rng.shuffle(words)
            f.write(json.dumps({"id": f"q{i}", "text": " ".join(words), "label": labels[c],
                                "part": "train" if i < n_train else "test"}) + "\n")
    return path


def generate_long(path: Path, n_docs: int = 500, n_words: int = 3000, n_labels: int = 14,
                  test_share: float = 0.17, seed: int = 0) -> Path:
    """An article-level frames-like corpus as JSON lines: long documents (about
    ``n_words`` words of Zipf-distributed background), one to three of ``n_labels``
    labels each, each label signalled by 40 to 110 of its own words spread through the
    text, in a train/test split (``part``)."""
    rng = np.random.default_rng(seed)
    vocab = np.array(_pseudo_words(30000, rng))
    cues = [vocab[40 * j: 40 * (j + 1)] for j in range(n_labels)]
    background = vocab[40 * n_labels:]
    zipf = 1.0 / np.arange(1, len(background) + 1)
    zipf /= zipf.sum()
    freq = 1.0 / np.arange(1, n_labels + 1) ** 0.8
    freq /= freq.sum()
    labels = [f"f{j:02d}" for j in range(n_labels)]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n_docs):
            k = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
            mine = sorted(set(rng.choice(n_labels, size=k, p=freq).tolist()))
            words = list(rng.choice(background, n_words, p=zipf))
            for j in mine:
                words += list(rng.choice(cues[j], int(rng.integers(40, 110))))
            for j in rng.choice(n_labels, 2):  # stray cues of other labels
                words += list(rng.choice(cues[int(j)], 5))
            rng.shuffle(words)
            f.write(json.dumps({"id": f"a{i}", "text": " ".join(words),
                                "frames": [labels[j] for j in mine],
                                "part": "test" if rng.random() < test_share else "train"})
                    + "\n")
    return path


# The same task written directly in scikit-learn, as a user's script: imports, reading the
# JSON lines, TF-IDF 1-2-grams (sublinear) + LinearSVC (balanced; one-vs-rest for several
# labels), fit on the train part, predict the test part, macro-F1.
_PLAIN = """
import json, sys
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
path, column, kind = sys.argv[1:4]
labels = json.loads(sys.argv[4])
with open(path, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if line.strip()]
train = [r for r in rows if r["part"] == "train"]
test = [r for r in rows if r["part"] == "test"]
if kind == "multilabel":
    mlb = MultiLabelBinarizer(classes=labels)
    y_train = mlb.fit_transform([r[column] for r in train])
    y_test = mlb.transform([r[column] for r in test])
    model = OneVsRestClassifier(LinearSVC(class_weight="balanced"))
else:
    y_train, y_test = [r[column] for r in train], [r[column] for r in test]
    model = LinearSVC(class_weight="balanced")
pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), model)
pipe.fit([r["text"] for r in train], y_train)
pred = pipe.predict([r["text"] for r in test])
print(json.dumps({"macro": f1_score(y_test, pred, average="macro", zero_division=0)}))
"""

# The shapes of the whole-run table: (name, generator, its arguments, task column, kind,
# labels). Sizes follow the public corpora they stand in for.
WHOLE_RUN_SHAPES = {
    "many-label": ("newswire-like, {n:,} documents, 90 labels", generate_multilabel,
                   {"n_docs": 10000, "n_labels": 90}, "topics", "multilabel",
                   [f"l{j:02d}" for j in range(90)]),
    "short-text": ("question-like, {n:,} short texts, 6 classes", generate_short,
                   {"n_train": 5452, "n_test": 500}, "label", "multiclass",
                   [f"c{j}" for j in range(6)]),
    "long-document": ("frames-like, {n:,} documents of ~3,000 words, 14 labels",
                      generate_long, {"n_docs": 500}, "frames", "multilabel",
                      [f"f{j:02d}" for j in range(14)]),
}


_FLOORS = {"n_docs": 150, "n_train": 300, "n_test": 50}


def _phase_line(text: str) -> str:
    """The run's ``time: …`` summary line (without the logger's prefix), or ''."""
    for line in reversed(text.splitlines()):
        if "time: " in line and " in all" in line:
            return line[line.index("time: "):].strip()
    return ""


def _phase_seconds(line: str, phase: str) -> float | None:
    """Seconds of one phase (``log``, ``in all``) in a ``time: …`` line."""
    import re

    m = (re.search(r"([0-9.]+) s in all", line) if phase == "in all" else
         re.search(rf"(?:^time: |, ){re.escape(phase)} ([0-9.]+) s", line))
    return float(m.group(1)) if m else None


def _macro_f1(text: str, task: str) -> float | None:
    """The task's macro-F1 as the run's summary prints it (``<task>: … macro-F1 0.812``)."""
    import re

    for line in text.splitlines():
        m = re.search(rf"\b{re.escape(task)}\b.*?macro-F1 ([0-9.]+)", line)
        if m:
            return float(m.group(1))
    return None


def whole_run(path: Path, column: str, kind: str, labels: list[str], home: Path,
              overrides: Sequence[str] = ()) -> dict:
    """A whole ``framing-train`` process as a user runs it (tracking on, the local SQLite
    store under ``home``, the given split): wall seconds, the test macro-F1 it prints, its
    phase line, peak MB."""
    exe = Path(sys.executable).with_name("framing-train")
    task = f"{{name: {column}, kind: {kind}, labels: [{', '.join(labels)}]}}"
    env = {**os.environ, "FRAMING_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    cmd = [str(exe), "data=jsonl", f"data.path={path}", "data.split_column=part",
           f"data.tasks=[{task}]", *overrides]
    r, wall, peak, *_ = run_measured(cmd, env=env)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed: {(r.stderr or r.stdout)[-2000:]}")
    text = r.stdout + "\n" + r.stderr
    return {"s": wall, "macro": _macro_f1(text, column), "phases": _phase_line(text),
            "peak_mb": peak}


def plain_run(path: Path, column: str, kind: str, labels: list[str]) -> dict:
    """The same task as a plain scikit-learn script in a fresh process (:data:`_PLAIN`)."""
    r, wall, peak, *_ = run_measured([sys.executable, "-c", _PLAIN, str(path), column, kind,
                                      json.dumps(labels)])
    if r.returncode:
        raise RuntimeError(f"the scikit-learn script failed: {r.stderr[-2000:]}")
    return {"s": wall, "macro": json.loads(r.stdout.strip().splitlines()[-1])["macro"],
            "peak_mb": peak}


def whole_run_table(shapes: Sequence[str], workdir: Path, experiments: Sequence[str] = (
        "text_classifier",), scale: float = 1.0) -> list[str]:
    """Markdown rows: whole ``framing-train`` processes (tracked, given split) on each
    generated shape — the default config and each named experiment — beside the same task
    as a plain scikit-learn script; seconds, ratios, test macro-F1, the share of the run
    spent logging to MLflow, and each run's own phase line. ``scale`` shrinks the corpora
    (0.1: a tenth of the documents) for a quick look."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    # The store is created once, before any timed run, as a user's already exists.
    subprocess.run([sys.executable, "-c", "import mlflow, sys; mlflow.set_tracking_uri("
                    "sys.argv[1]); mlflow.search_experiments()", f"sqlite:///{home}/mlflow.db"],
                   check=True, capture_output=True)
    out = ["| shape | run | seconds | vs plain script | macro-F1 (test) | MLflow logging |",
           "| --- | --- | --- | --- | --- | --- |"]
    phases = []
    for name in shapes:
        if name not in WHOLE_RUN_SHAPES:
            raise SystemExit(f"--whole-run: unknown shape {name!r}; known: "
                             f"{', '.join(WHOLE_RUN_SHAPES)}")
        title, gen, kwargs, column, kind, labels = WHOLE_RUN_SHAPES[name]
        # Scaled down, a corpus keeps enough documents for every label to occur.
        kwargs = {k: max(_FLOORS.get(k, 0), round(v * scale)) if k in _FLOORS else v
                  for k, v in kwargs.items()}
        path = gen(workdir / f"{name}.jsonl", **kwargs)
        n = sum(1 for _ in path.open(encoding="utf-8"))
        label = title.format(n=n)
        plain = plain_run(path, column, kind, labels)
        runs = [("framing-train, default config", whole_run(path, column, kind, labels,
                                                             home))]
        for e in experiments:
            runs.append((f"framing-train `experiment={e}`",
                         whole_run(path, column, kind, labels, home, [f"experiment={e}"])))
        out.append(f"| {label} | plain scikit-learn script | {plain['s']:.1f} | 1.00x | "
                   f"{plain['macro']:.3f} | |")
        for run, r in runs:
            log = _phase_seconds(r["phases"], "log")
            share = f"{log:.1f} s ({100 * log / r['s']:.0f}%)" if log is not None else ""
            f1 = f"{r['macro']:.3f}" if r["macro"] is not None else "?"
            out.append(f"| {label} | {run} | {r['s']:.1f} | {r['s'] / plain['s']:.2f}x | "
                       f"{f1} | {share} |")
            phases.append(f"- {label}, {run}: `{r['phases'] or 'no phase line printed'}`")
            print(out[-1], flush=True)
    return out + ["", "Each run's own phase line (seconds inside the process; the table's "
                  "seconds are the whole process, start-up included):", "", *phases]


def _train_seconds(overrides: list[str]) -> float:
    """Wall seconds of a whole ``framing-train`` process (tracking off, no model written)."""
    exe = Path(sys.executable).with_name("framing-train")
    r, wall, *_ = run_measured([str(exe), "tracking=off", "output.write_model=false",
                                *overrides])
    if r.returncode:
        raise RuntimeError(f"framing-train {' '.join(overrides)} failed: {r.stderr[-2000:]}")
    return wall


def choice_cost_table(workdir: Path, multilabel: str = "10000x90") -> list[str]:
    """Markdown rows: what the model choice (``model=auto``, the default) costs against one
    fixed configuration (``model=prior``) — whole processes on the seeds (median of 3)
    and on the generated many-label corpus (given split)."""
    out = ["| corpus | model=auto s | model=prior s | ratio | auto macro-F1 | prior macro-F1 |",
           "| --- | --- | --- | --- | --- | --- |"]
    auto = statistics.median(_train_seconds(["model=auto"]) for _ in range(3))
    prior = statistics.median(_train_seconds(["model=prior"]) for _ in range(3))
    out.append(f"| seeds (55 paragraphs, leave-one-article-out) | {auto:.1f} | {prior:.1f} | "
               f"{auto / prior:.2f}x | | |")
    if multilabel:
        n_docs, n_labels = map(int, multilabel.lower().split("x"))
        path = generate_multilabel(workdir / "choice_multilabel.jsonl", n_docs, n_labels)
        a = framing_multilabel(path, n_labels, ["model=auto"])
        b = framing_multilabel(path, n_labels, ["model=prior"])
        out.append(f"| generated, {n_docs:,} documents x {n_labels} labels (given split) | "
                   f"{a['s']:.1f} | {b['s']:.1f} | {a['s'] / b['s']:.2f}x | "
                   f"{a['macro']:.4f} | {b['macro']:.4f} |")
    return out


def devset_curve_table(draws: int = 5, sizes: Sequence[int] = (0, 5, 10, 15, 20)
                       ) -> list[str]:
    """Markdown rows: the learning curve on the dev set — the seeds plus k dev articles
    (k drawn at random from four fifths of the 25 articles, ``draws`` times), scored on
    the held-out fifth, five folds — for the default, ``rules_only`` and ``model=logreg``:
    theme / tone macro-F1 with 95% intervals over folds and draws."""
    from framing.config.tree import compose, settings
    from framing.data.corpus import load_corpus
    from framing.evaluate.curve import learning_curve
    from framing.learn.fitting import Fitter

    seeds = load_corpus(settings(compose([])).data)
    dev = load_corpus(settings(compose(["test=devset"])).test, training=False)
    configs = [("default (model=auto)", []), ("experiment=rules_only",
                                               ["experiment=rules_only"]),
               ("model=logreg", ["model=logreg"])]
    head = "| config | " + " | ".join(f"k = {k}" for k in sizes) + " |"
    out = [head, "|" + " --- |" * (len(sizes) + 1)]
    for name, overrides in configs:
        t0 = time.perf_counter()
        curve = learning_curve(dev, Fitter.from_config(settings(compose(overrides))),
                               list(sizes), draws, 5, 0, base=seeds)
        cells = []
        for k in range(len(curve.sizes)):
            parts = []
            for task in ("theme", "tone"):
                m, lo, hi = curve.point(task, k)
                parts.append(f"{m:.3f} [{lo:.3f}, {hi:.3f}]")
            cells.append(" / ".join(parts))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
        print(out[-1] + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def machine() -> str:
    """One line describing this machine."""
    import sklearn

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, scikit-learn {sklearn.__version__}, numpy "
            f"{np.__version__}")


def main(argv=None) -> int:
    from framing.config.tree import project_root

    p = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.split(
        "\n")[0])
    root = project_root()
    p.add_argument("--benchmarks", default=os.environ.get(
        "FRAMING_BENCHMARKS", str(root.parent / "shared" / "benchmarks")))
    p.add_argument("--corpora", default=",".join(CORPORA))
    p.add_argument("--sizes", default="10000,100000,1000000",
                   help="generated corpus sizes for the scale table ('' skips it)")
    p.add_argument("--model", default=str(root / "models" / "framing.joblib"),
                   help="bundle for the predictor table (make train writes it)")
    p.add_argument("--multilabel", default="10000x90",
                   help="DOCSxLABELS of the generated many-label corpus ('' skips it)")
    p.add_argument("--multilabel-experiments", default="",
                   help="named experiments also trained on that corpus (comma-separated)")
    p.add_argument("--dask", default="1000000x10",
                   help="PARAGRAPHSxSHARDS labelled with --engine dask ('' skips it)")
    p.add_argument("--dask-workers", default="1,2")
    p.add_argument("--whole-run", default=",".join(WHOLE_RUN_SHAPES),
                   help="generated shapes timed as whole framing-train runs beside a plain "
                        "scikit-learn script (comma-separated; '' skips them)")
    p.add_argument("--whole-run-experiments", default="text_classifier",
                   help="named experiments also run on each whole-run shape")
    p.add_argument("--whole-run-scale", type=float, default=1.0,
                   help="share of each whole-run shape's documents (0.1: a quick look)")
    p.add_argument("--no-fasttext", action="store_true")
    p.add_argument("--no-choice", dest="choice", action="store_false",
                   help="skip the model choice's cost table")
    p.add_argument("--no-devset-curve", dest="devset_curve", action="store_false",
                   help="skip the learning curve on the dev set (needs ../shared)")
    p.add_argument("--output", help="also write the report (Markdown) to this file")
    args = p.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("framing").setLevel(logging.WARNING)
    report = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.", ""]
    corpora = [c for c in args.corpora.split(",") if c]
    if corpora:
        print("## Quality and speed (10-fold, accuracy %, seconds for all 10 folds)\n",
              flush=True)
        report += ["## Quality and speed", "",
                   *quality_table(Path(args.benchmarks), corpora, not args.no_fasttext), ""]
    if Path(args.model).is_file():
        print("\n## Predictor\n", flush=True)
        rows = predictor_table(Path(args.model), fasttext=not args.no_fasttext)
        print("\n".join(rows), flush=True)
        report += ["## Predictor", "", *rows, ""]
    else:
        skipped = (f"The predictor table is left out: no model at {args.model} (`make train` "
                   "writes it; `--model FILE` names another).")
        print(f"\n## Predictor\n\n{skipped}", flush=True)
        report += ["## Predictor", "", skipped, ""]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print("\n## Scale (streaming path)\n", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows = scale_table(sizes, Path(tmp))
        print("\n".join(rows[-2:]), flush=True)
        report += ["## Scale (streaming path, generated corpora)", "", *rows, ""]
    if args.multilabel:
        n_docs, n_labels = map(int, args.multilabel.lower().split("x"))
        print("\n## Many labels\n", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows = multilabel_table(n_docs, n_labels, Path(tmp), [
                e for e in args.multilabel_experiments.split(",") if e])
        print("\n".join(rows), flush=True)
        report += ["## Many labels (generated corpus)", "", *rows, ""]
    shapes = [s for s in args.whole_run.split(",") if s]
    if shapes:
        print("\n## Whole runs against a plain scikit-learn script\n", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows = whole_run_table(shapes, Path(tmp), [
                e for e in args.whole_run_experiments.split(",") if e], args.whole_run_scale)
        print("\n".join(rows), flush=True)
        report += ["## Whole runs against a plain scikit-learn script", "", *rows, ""]
    if args.choice:
        print("\n## Model choice: cost against one fixed configuration\n", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows = choice_cost_table(Path(tmp), args.multilabel)
        print("\n".join(rows), flush=True)
        report += ["## Model choice: cost", "", *rows, ""]
    if args.devset_curve:
        print("\n## Learning curve on the dev set (theme / tone macro-F1)\n", flush=True)
        from framing.core.errors import FramingDataError

        try:
            rows = devset_curve_table()
            report += ["## Learning curve on the dev set", "", *rows, ""]
        except FramingDataError as e:
            print(f"skipped: {e}", flush=True)
    if args.dask and importlib.util.find_spec("distributed") is None:
        print("\nScale out (Dask) skipped: the scale extra is not installed "
              "(pip install -c constraints.txt -e '.[scale]').", flush=True)
    elif args.dask:
        n, n_shards = map(int, args.dask.lower().split("x"))
        print("\n## Scale out (Dask and Spark)\n", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows = dask_table(n, n_shards, [int(w) for w in args.dask_workers.split(",")],
                              Path(tmp))
        report += ["## Scale out (Dask and Spark)", "", *rows, ""]
    if args.output:
        from framing.predict.storage import atomic_write_text

        atomic_write_text(args.output, "\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
