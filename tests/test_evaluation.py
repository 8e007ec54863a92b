"""Evaluation pieces on tiny corpora: splits, metrics, bootstrap, baselines, scoring."""

import json
import re

import numpy as np
import pytest
from sklearn.metrics import f1_score

from framing.config.schema import FeaturesConfig
from framing.core.errors import FramingConfigError
from framing.core.metrics import bootstrap, compute, key
from framing.core.tasks import TaskSpec
from framing.data.corpus import Corpus
from framing.evaluate import baselines
from framing.evaluate.evaluation import Predictions, evaluate, score
from framing.evaluate.splits import make_splits
from framing.learn.fitting import Fitter

from conftest import run_cli

TONE = TaskSpec("tone", kind="multiclass", labels=["a", "b"])
THEME = TaskSpec("theme", kind="multilabel", labels=["x", "y"])


def corpus(n=12, groups=True, folds=False, split=False):
    texts = [f"{'alpha' if i % 2 else 'beta'} text {i}" for i in range(n)]
    tone = np.array(["b" if i % 2 else "a" for i in range(n)], dtype=object)
    theme = np.array([[i % 2, int(i % 3 == 0)] for i in range(n)], dtype=np.int8)
    return Corpus(texts, [f"r{i}" for i in range(n)], [THEME, TONE],
                  {"theme": theme, "tone": tone},
                  groups=np.array([f"g{i % 3}" for i in range(n)]) if groups else None,
                  folds=np.array([i % 4 for i in range(n)]) if folds else None,
                  split=np.array(["test" if i >= n - 3 else "train" for i in range(n)])
                  if split else None, name="tiny")


def test_auto_splits_follow_the_corpus_columns():
    strategy, splits = make_splits(corpus())
    assert strategy == "logo" and len(splits) == 3
    c = corpus()
    for tr, te in splits:
        assert not set(c.groups[tr]) & set(c.groups[te])
    assert make_splits(corpus(groups=False, folds=True))[0] == "fold_column"
    assert make_splits(corpus(split=True))[0] == "split"
    strategy, splits = make_splits(corpus(groups=False), n_splits=3)
    assert strategy == "stratified_kfold" and len(splits) == 3
    strategy, splits = make_splits(corpus(), max_logo_groups=2, n_splits=2)
    assert strategy == "group_kfold" and len(splits) == 2
    # every record is tested exactly once
    assert sorted(np.concatenate([te for _, te in splits]).tolist()) == list(range(12))


def test_grouped_strategy_with_one_group_is_refused():
    c = corpus()
    c.groups[:] = "same"
    with pytest.raises(FramingConfigError, match="group column has one value only"):
        make_splits(c, "logo")
    with pytest.raises(FramingConfigError, match="needs data.fold_column"):
        make_splits(corpus(), "fold_column")


def test_metrics_match_a_hand_computed_case():
    m = compute(TONE, np.array(["a", "a", "b", "b"], dtype=object),
                np.array(["a", "b", "b", "b"], dtype=object),
                np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]]))
    assert m["accuracy"] == 0.75
    assert m["a/f1"] == pytest.approx(2 / 3) and m["b/f1"] == pytest.approx(0.8)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["a/precision"] == 1.0 and m["a/recall"] == 0.5 and m["b/support"] == 2
    assert m["roc_auc"] == 1.0  # every b scores above every a
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])))
    y = np.array([[1, 0], [1, 1], [0, 0]])
    p = np.array([[1, 0], [0, 1], [0, 1]])
    ml = compute(THEME, y, p)
    assert ml["x/f1"] == pytest.approx(2 / 3) and ml["y/f1"] == pytest.approx(2 / 3)
    assert ml["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert ml["hamming_loss"] == pytest.approx(2 / 6)
    assert ml["subset_accuracy"] == pytest.approx(1 / 3)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b"], 60).astype(object)
    p = np.where(rng.random(60) < 0.8, y, np.where(y == "a", "b", "a")).astype(object)
    groups = np.repeat(np.arange(12), 5)
    ci = bootstrap(TONE, y, p, groups, n_boot=300, seed=1)
    point = compute(TONE, y, p)["macro_f1"]
    assert ci["macro_f1"][0] <= point <= ci["macro_f1"][1]
    assert ci == bootstrap(TONE, y, p, groups, n_boot=300, seed=1)
    assert set(ci) >= {"macro_f1", "accuracy", "a/f1"} and "a/precision" not in ci


def test_a_draw_without_a_label_leaves_it_out_rather_than_scoring_it_0():
    # a rare label in one article of ten, always found: every draw that holds the
    # article scores it 1; a draw without it says nothing about it
    y = np.zeros((50, 2), dtype=np.int8)
    y[:, 0] = 1
    y[:5, 1] = 1
    groups = np.repeat(np.arange(10), 5)
    ci = bootstrap(THEME, y, y.copy(), groups, n_boot=200, seed=0)
    assert ci["y/f1"] == (1.0, 1.0) and ci["macro_f1"] == (1.0, 1.0)
    # the point estimate follows the same rule: a label absent from the whole set and
    # never predicted is left out, not scored 0
    none = np.zeros((4, 2), dtype=np.int8)
    none[:, 0] = 1
    m = compute(THEME, none, none.copy())
    assert m["macro_f1"] == 1.0 and "y/f1" not in m and m["x/f1"] == 1.0


def test_a_label_absent_from_the_file_counts_alike_in_the_estimate_and_its_interval():
    # a held-out file that never holds label c, whose model never predicts c: it has no
    # F1 (0/0), in the estimate as in every draw; scikit-learn's zero_division=np.nan
    frame = TaskSpec("frame", kind="multiclass", labels=["a", "b", "c"])
    y = np.array(["a", "b"] * 10, dtype=object)
    groups = np.repeat(np.arange(5), 4)
    m = compute(frame, y, y.copy())
    ci = bootstrap(frame, y, y.copy(), groups, n_boot=200)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0 and ci["macro_f1"] == (1.0, 1.0)
    assert "c/f1" not in m and "c/precision" not in m and "c/recall" not in m
    assert m["c/support"] == 0
    assert m["macro_f1"] == f1_score(y, y, labels=frame.labels, average="macro",
                                     zero_division=np.nan)
    # zero_division=0 counts it as a miss, in the estimate and the draws alike
    m0 = compute(frame, y, y.copy(), zero_division=0.0)
    ci0 = bootstrap(frame, y, y.copy(), groups, n_boot=200, zero_division=0.0)
    assert m0["c/f1"] == 0.0 and m0["macro_f1"] == pytest.approx(2 / 3)
    assert ci0["macro_f1"] == pytest.approx((2 / 3, 2 / 3))
    assert m0["macro_f1"] == pytest.approx(f1_score(y, y, labels=frame.labels,
                                                    average="macro", zero_division=0))
    # predicted but absent: a false positive, F1 0, counted
    p = y.copy()
    p[0] = "c"
    m = compute(frame, y, p)
    assert m["c/f1"] == 0.0 and m["c/precision"] == 0.0 and "c/recall" not in m
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, labels=frame.labels,
                                                   average="macro", zero_division=np.nan))


def random_case(seed: int):
    """Random truth and decisions (multi-label on odd seeds, single-label on even ones)
    of 1 to 24 records, where some labels never occur, some are never predicted, some
    neither; articles of a few records each, or none."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 25)), int(rng.integers(2, 6))
    labels = [f"l{j}" for j in range(k)]
    if seed % 2:
        task = TaskSpec("t", kind="multilabel", labels=labels)
        rate = rng.random(k) * rng.choice([0.0, 0.3, 1.0], k)
        y = (rng.random((n, k)) < rate).astype(np.int8)
        flip = rng.random(k) * rng.choice([0.0, 0.5], k)
        p = np.where(rng.random((n, k)) < flip, 1 - y, y).astype(np.int8)
    else:
        task = TaskSpec("t", kind="multiclass", labels=labels)
        w = rng.dirichlet(np.ones(k) * 0.5)
        w[rng.random(k) < 0.3] = 0
        w = w / w.sum() if w.sum() else np.eye(k)[0]
        y = rng.choice(labels, n, p=w).astype(object)
        other = rng.choice(labels, n, p=rng.dirichlet(np.ones(k) * 0.5)).astype(object)
        p = np.where(rng.random(n) < rng.random(), y, other).astype(object)
    groups = rng.integers(0, max(1, n // 3), n) if rng.random() < 0.5 else None
    return task, y, p, groups


def test_every_estimate_lies_in_its_interval_and_follows_scikit_learn():
    from sklearn.metrics import precision_recall_fscore_support

    cases = [random_case(seed) for seed in range(100)]
    one = TaskSpec("t", kind="multilabel", labels=["x", "y"])
    cases += [(TONE, np.array(["a"], dtype=object), np.array(["b"], dtype=object), None),
              (one, np.array([[1, 0]]), np.array([[1, 0]]), None),
              (one, np.array([[0, 0], [0, 0]]), np.array([[0, 0], [0, 1]]), None)]
    checked = absent = 0
    for i, (task, y, p, groups) in enumerate(cases):
        m = compute(task, y, p)
        ci = bootstrap(task, y, p, groups, n_boot=100, seed=i)
        for k, (lo, hi) in ci.items():
            assert k in m and lo <= m[k] <= hi, (i, k, m.get(k), lo, hi)
            checked += 1
        # the point estimate is scikit-learn's with zero_division=np.nan
        kw = {"labels": task.labels} if task.kind == "multiclass" else {}
        for avg in ("macro", "micro"):
            ref = f1_score(y, p, average=avg, zero_division=np.nan, **kw)
            assert (np.isnan(ref) and f"{avg}_f1" not in m) or \
                m[f"{avg}_f1"] == pytest.approx(ref), (i, avg)
        prf = precision_recall_fscore_support(y, p, average=None, zero_division=np.nan, **kw)
        for j, lab in enumerate(task.labels):
            for name, ref in zip(("precision", "recall", "f1"), prf[:3], strict=False):
                got = m.get(f"{lab}/{name}")
                assert (np.isnan(ref[j]) and got is None) or got == pytest.approx(ref[j])
            absent += f"{lab}/f1" not in m
    assert checked > 500 and absent > 20  # the cases do hold absent labels


def test_baselines_majority_and_codebook_rules():
    prior = baselines.prior_of(THEME, np.array([[1, 0], [1, 1], [0, 0]]))
    assert baselines.majority(THEME, prior, 2).tolist() == [[1, 0], [1, 0]]
    assert baselines.majority(TONE, [0.25, 0.75], 1).tolist() == ["b"]
    book = {"tone:a": ["alpha"], "tone:b": ["beta", "gamma"]}
    got = baselines.predict("codebook", TONE, ["alpha beta gamma", "alpha", "nothing"],
                            np.array([0.9, 0.1]), book)
    assert got.tolist() == ["b", "a", "a"]  # most matches; none: the training majority
    assert baselines.predict("codebook", THEME, ["x"], prior, book) is None  # no entries


def test_score_names_metrics_intervals_and_baselines():
    c = corpus()
    pred = Predictions.empty(c)
    pred.evaluated[:] = True
    pred.preds["tone"][:] = c.targets["tone"]
    pred.scores["tone"][:] = np.where(c.targets["tone"][:, None] == np.array(["a", "b"]), 1, 0)
    pred.preds["theme"][:] = c.targets["theme"]
    pred.scores["theme"][:] = c.targets["theme"]
    base = {"majority": {"tone": np.array(["a"] * 12, dtype=object)}}
    m, report = score(c, pred, base, n_boot=50)
    assert m["tone/accuracy"] == 1.0 and m["tone/macro_f1/ci_low"] == 1.0
    assert m[key("tone", "macro_f1", prefix="baseline/majority")] == pytest.approx(1 / 3)
    assert m["n_records"] == 12
    assert [(r["task"], r["label"]) for r in report] == [("theme", "x"), ("theme", "y"),
                                                          ("tone", "a"), ("tone", "b")]


def test_evaluate_scores_a_model_on_another_corpus_beside_its_rules():
    train = corpus(40)
    fitter = Fitter(features=FeaturesConfig(), codebook={"tone:a": ["beta"],
                                                         "tone:b": ["alpha"],
                                                         "theme:x": ["alpha"],
                                                         "theme:y": ["zzz"]},
                    thresholds="fixed")
    model = fitter.fit(train.texts, train.targets, train.tasks)
    model.card = {"data": {"n_records": 40, "label_counts": train.label_counts()}}
    other = corpus(9, groups=True)
    ev = evaluate(model, other, n_boot=20)
    assert ev.n_records == 9 and ev.strategy == "held-out corpus"
    assert ev.metrics["tone/accuracy"] == 1.0
    assert ev.metrics["baseline/codebook/tone/accuracy"] == 1.0
    assert "baseline/majority/theme/macro_f1" in ev.metrics
    assert "tone/macro_f1/ci_low" in ev.metrics


def test_tuned_threshold_reaches_a_rare_label_scored_low():
    from framing.learn.estimators import tune_thresholds

    # three positives scored 0.010-0.030, the rest below 0.005: no grid step reaches them
    y = np.zeros((40, 1), dtype=np.int8)
    y[:3, 0] = 1
    s = np.concatenate([[0.03, 0.02, 0.01], np.linspace(0, 0.005, 37)])[:, None]
    (thr,) = tune_thresholds(y, s)
    assert 0.005 < thr <= 0.01
    assert ((s[:, 0] >= thr) == y[:, 0].astype(bool)).all()
    # a label with no positive keeps the default
    assert tune_thresholds(np.zeros((5, 1)), np.zeros((5, 1)))[0] == 0.5


def test_crossfit_thresholds_never_see_the_fold_they_decide():
    from framing.evaluate.evaluation import cross_validate
    from framing.learn.estimators import safe_thresholds

    c = corpus(36)
    fitter = Fitter(features=FeaturesConfig(), codebook={}, thresholds="tune")
    ev = cross_validate(c, fitter, n_boot=0, baselines=(), n_jobs=1, crossfit=True)
    assert ev.crossfit and ev.strategy == "logo"
    _, splits = make_splits(c)
    y, s = c.targets["theme"], ev.predictions.scores["theme"]
    labels = c.tasks[0].labels
    for _, te in splits:
        others = np.ones(len(c), dtype=bool)
        others[te] = False
        thr, _ = safe_thresholds(y[others], s[others], labels, c.groups[others])
        assert (ev.predictions.preds["theme"][te] == (s[te] >= thr)).all()
    # the final model's thresholds: tuned on every out-of-fold score (where safe)
    assert ev.thresholds["theme"] == pytest.approx(safe_thresholds(y, s, labels, c.groups)[0])


def test_given_split_fits_once_and_keeps_that_model():
    from framing.evaluate.evaluation import cross_validate

    c = corpus(30, groups=False, split=True)
    fitter = Fitter(features=FeaturesConfig(), codebook={}, thresholds="tune")
    ev = cross_validate(c, fitter, n_boot=0, baselines=(), n_jobs=1, crossfit=True)
    assert ev.strategy == "split" and not ev.crossfit  # no other folds to cross-fit on
    test = c.split == "test"
    got = ev.model.scores([t for t, k in zip(c.texts, test, strict=True) if k])
    assert got["theme"] == pytest.approx(ev.predictions.scores["theme"][test])


def test_given_split_fits_its_labels_in_parallel_to_the_same_model():
    """With given splits the one fold's model is the final one: it fits its one-vs-rest
    labels (and the inner cross-validation of its thresholds) in ``ovr_n_jobs``
    threads, and scores as the model fitted one label at a time."""
    from framing.evaluate.evaluation import cross_validate

    c = corpus(30, groups=False, split=True)
    fitter = Fitter(features=FeaturesConfig(), codebook={}, thresholds="tune")
    one = cross_validate(c, fitter, n_boot=0, baselines=(), n_jobs=1)
    two = cross_validate(c, fitter, n_boot=0, baselines=(), n_jobs=1, ovr_n_jobs=2)
    assert two.model.estimators["theme"].n_jobs == 2
    assert one.model.estimators["theme"].n_jobs is None
    test = c.split == "test"
    assert two.predictions.scores["theme"][test] == pytest.approx(
        one.predictions.scores["theme"][test], abs=1e-12)
    assert two.model._thr["theme"] == pytest.approx(one.model._thr["theme"])


def held_out(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


SPORT = ["match goal team", "coach league player", "goal team match"]


def test_framing_evaluate_on_a_file_without_one_label(tiny, tmp_path):
    # the held-out file has sport only: politics never occurs, and the model (right on
    # every record) never predicts it
    rows = [{"id": f"h{i}", "article": f"a{i % 3}", "text": t, "topic": "sport",
             "tags": ["a"]} for i, t in enumerate(SPORT * 3)]
    path = held_out(tmp_path / "heldout.jsonl", rows)
    code, out, err = run_cli("framing", "evaluate", tiny, path, "--n-boot", "200",
                             "--group-column", "article")
    assert code == 0, err
    line = re.compile(r"^(\S+)\s+(\w+)\s+(-?\d\.\d{3})\s+\[(\d\.\d{3}), (\d\.\d{3})\]")
    rows_ci = [m.groups() for m in map(line.match, out.splitlines()) if m]
    assert len(rows_ci) >= 6
    for task, metric, v, lo, hi in rows_ci:
        assert float(lo) <= float(v) <= float(hi), (task, metric, v, lo, hi)
    assert ("topic", "macro_f1", "1.000", "1.000", "1.000") in rows_ci
    assert ("topic", "accuracy", "1.000", "1.000", "1.000") in rows_ci
    politics = next(x for x in out.splitlines() if x.startswith("topic      politics"))
    assert politics.split()[2:5] == ["—", "—", "—"] and politics.split()[-2] == "0"
    assert "— : undefined (0/0" in out
    assert ("task 'topic': label 'politics' never occurs in " in err
            and "if the model predicts it there, its F1 is 0" in err)
    assert "never be predicted" not in err
    got = json.loads(run_cli("framing", "evaluate", tiny, path, "--n-boot", "200",
                             "--json")[1])["metrics"]
    assert got["topic/macro_f1"] == 1.0 and "topic/politics/f1" not in got
    assert got["topic/macro_f1/ci_low"] <= 1.0 <= got["topic/macro_f1/ci_high"]


def test_framing_evaluate_refuses_a_misnamed_task_column(tiny, tmp_path):
    rows = [{"id": f"h{i}", "text": t, "Topic": "sport", "tags": ["a"]}
            for i, t in enumerate(SPORT)]
    path = held_out(tmp_path / "heldout.jsonl", rows)
    code, out, err = run_cli("framing", "evaluate", tiny, path, "--n-boot", "0")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(f"framing: error: {path}: no column of the model's task 'topic' "
                          "(column 'topic'); columns present: ['id', 'text', 'Topic', "
                          "'tags']; the file has 'Topic' (names are case-sensitive). Rename "
                          "the column")
    assert "Traceback" not in err
    # a column the file lacks altogether: the same refusal, without the hint
    rows = [{"id": f"h{i}", "text": t, "tags": ["a"]} for i, t in enumerate(SPORT)]
    code, _, err = run_cli("framing", "evaluate", tiny, held_out(path, rows))
    assert code == 2 and "no column of the model's task 'topic' (column 'topic')" in err
    assert "the file has" not in err
    # a near spelling is named too, by the same rule as training's corpus check
    rows = [{"id": f"h{i}", "text": t, "topics": "sport", "tags": ["a"]}
            for i, t in enumerate(SPORT)]
    code, _, err = run_cli("framing", "evaluate", tiny, held_out(path, rows))
    assert code == 2 and "'tags']; the file has 'topics' (a near name). Rename" in err


def test_framing_evaluate_finds_a_task_by_its_training_column_or_its_name(tmp_path):
    """A model of task 'frame' trained on a column 'Frame' scores a file labelled under
    either name; a file with neither is refused naming both."""
    words = {"conflict": "clash protest dispute", "economy": "price tax market"}
    rows = [{"id": f"r{i}", "text": f"{words[lab]} {i}", "article": f"a{i % 4}", "Frame": lab}
            for i, lab in enumerate(["conflict", "economy"] * 12)]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = tmp_path / "m.joblib"
    code, out, err = run_cli("framing-train", "data=jsonl", f"data.path={corpus}",
                             "data.tasks=[{name: frame, column: Frame}]", "model=logreg",
                             "features=ngrams", "tracking=off", "eval.n_boot=0",
                             f"output.model_path={model}", f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 0, (out + err)[-2000:]
    for column in ("Frame", "frame"):
        held = [{"id": r["id"], "text": r["text"], column: r["Frame"]} for r in rows[:8]]
        code, out, err = run_cli("framing", "evaluate", model,
                                 held_out(tmp_path / f"{column}.jsonl", held), "--n-boot", "0")
        assert code == 0, err
        assert "frame" in out and "macro" in out.lower()
    held = [{"id": r["id"], "text": r["text"], "label": r["Frame"]} for r in rows[:8]]
    code, out, err = run_cli("framing", "evaluate", model, held_out(tmp_path / "x.jsonl", held))
    assert code == 2 and "Traceback" not in err
    assert "no column of the model's tasks (frame (trained on column 'Frame'))" in err


def test_plots_of_many_labels_show_the_most_frequent_and_stay_readable(tmp_path):
    """A 30-label task: the confusion figure draws the 24 most frequent labels in rows of
    8 (not 30 matrices side by side), and every plot is written."""
    from PIL import Image

    from framing.evaluate.evaluation import cross_validate
    from framing.evaluate.plots import MAX_MATRICES, write_plots

    labels = [f"l{j:02d}" for j in range(30)]
    task = TaskSpec("topics", "topics", "multilabel", labels)
    rng = np.random.default_rng(0)
    y = np.zeros((90, 30), dtype=np.int8)
    for i in range(90):
        y[i, rng.choice(30, 2, replace=False, p=np.arange(30, 0, -1) / 465)] = 1
    texts = [" ".join(labels[j] for j in np.flatnonzero(y[i])) + f" text {i}"
             for i in range(90)]
    c = Corpus(texts, [f"r{i}" for i in range(90)], [task], {"topics": y},
               groups=np.array([f"g{i % 5}" for i in range(90)]), name="many")
    ev = cross_validate(c, Fitter(features=FeaturesConfig(), codebook={}), n_boot=0,
                        baselines=(), n_jobs=1)
    written = write_plots(tmp_path, ev)
    assert {p.name for p in written} == {"confusion_topics.png", "f1_topics.png",
                                        "reliability_topics.png"}
    width, height = Image.open(tmp_path / "confusion_topics.png").size
    assert width == 8 * 320 and height == 3 * 320  # 24 matrices: 3 rows of 8, 100 dpi
    assert MAX_MATRICES == 24
