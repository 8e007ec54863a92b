"""Learning from the annotations: the model chosen from the data (model=auto), a prior
that yields to evidence, thresholds that cannot collapse, learning curves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framing.config.tree import compose, settings
from framing.core.errors import FramingConfigError
from framing.core.metrics import compute
from framing.core.tasks import TaskSpec
from framing.learn.fitting import Fitter

from conftest import run_cli, write_jsonl

PLACES = ["Gwadar", "Karachi", "Quetta", "Zahedan", "Chabahar", "Panjgur", "Turbat"]
FILL = ["today", "officials", "said", "local", "residents", "reported", "that", "on", "the",
        "morning", "of", "week"]
THEME = TaskSpec("theme", "theme", "multilabel", ["security", "economy"])


def _paragraph(kind: str, rng) -> tuple[str, list[str]]:
    p, n, f = rng.choice(PLACES), int(rng.integers(2, 40)), " ".join(rng.choice(FILL, 4))
    if kind == "walkout":  # a labour strike: economy to these annotators, security to the rule
        who = rng.choice(["dock workers", "teachers", "truck drivers", "miners", "nurses"])
        why = rng.choice(["unpaid wages", "pay cuts", "fuel prices", "pensions"])
        return f"{n} {who} in {p} went on strike over {why}, {f}.", ["economy"]
    if kind == "drone":
        return f"A drone strike hit a militant hideout near {p}, {f}.", ["security"]
    if kind == "security":
        return f"Militants attacked a police post near {p}, killing {n} people, {f}.", ["security"]
    if kind == "economy":
        return f"The two countries signed a trade deal on gas and oil in {p}, {f}.", ["economy"]
    return f"The weather in {p} was mild this week, {f}.", []


def rule_wrong_corpus(n_articles: int, seed: int, walkouts: float = 0.4, only=None,
                      mixed: bool = False):
    """Articles of a few paragraphs where the codebook's security rule ('strike') is wrong
    for labour strikes, which these annotators code as economy."""
    rng = np.random.default_rng(seed)
    texts, y, groups = [], [], []
    for a in range(n_articles):
        kinds = only or ["security", "economy", "none", "drone", "economy"] + (
            ["walkout"] if rng.random() < walkouts else [])
        if mixed:  # a few paragraphs of random kinds: one article shows little
            kinds = list(rng.choice(["security", "economy", "none", "drone", "walkout"],
                                    int(rng.integers(2, 5))))
        for k in kinds:
            t, labs = _paragraph(k, rng)
            texts.append(t)
            y.append([int(lab in labs) for lab in THEME.labels])
            groups.append(f"a{seed}-{a}")
    return texts, np.array(y), np.array(groups, dtype=object)


def _auto(*overrides):
    return Fitter.from_config(settings(compose(["model=auto", *overrides])))


def test_the_default_is_auto_and_names_its_candidates():
    cfg = settings(compose([]))
    assert cfg.model.family == "auto"
    names = [c["name"] for c in cfg.model.candidates]
    assert names[0] == "rules"
    assert {"prior", "prior_weak", "logreg_c10", "logreg_c100", "word_char_nb"} <= set(names)
    strengths = {c["name"]: c.get("prior_strength") for c in cfg.model.candidates}
    assert strengths["prior"] == 1.0 and strengths["logreg_c10"] == 0.0


def test_a_rule_wrong_for_a_subset_is_corrected_as_labels_grow():
    """F1 on the texts the rule gets wrong: about 0 with one article that holds none of
    them, at least 0.8 with a few hundred labelled paragraphs."""
    fitter = _auto()
    held, y_held, _ = rule_wrong_corpus(15, seed=99, only=["walkout"])
    f1 = {}
    for k, walkouts in ((1, 0.0), (40, 0.4)):
        texts, y, groups = rule_wrong_corpus(k, seed=1, walkouts=walkouts)
        model = fitter.fit(texts, {"theme": y}, [THEME], groups)
        pred = model.decide("theme", model.scores(held)["theme"])
        f1[len(texts)] = compute(THEME, y_held, pred)["micro_f1"]
        chosen = model.choice["tasks"][0]["chosen"]
        assert len(chosen) == 2  # one choice per label
    small, large = sorted(f1)
    assert large >= 200
    assert f1[small] <= 0.2, f1
    assert f1[large] >= 0.8, f1


def test_choice_is_reported_with_intervals_and_reproducible():
    texts, y, groups = rule_wrong_corpus(12, seed=3)
    a = _auto().fit(texts, {"theme": y}, [THEME], groups)
    b = _auto().fit(texts, {"theme": y}, [THEME], groups)
    def no_time(choice):
        return [{**t, "candidates": [{k: v for k, v in r.items() if k != "seconds"}
                                     for r in t["candidates"]]} for t in choice["tasks"]]

    assert no_time(a.choice) == no_time(b.choice)
    np.testing.assert_array_equal(a.scores(texts)["theme"], b.scores(texts)["theme"])
    task = a.choice["tasks"][0]
    assert task["scheme"].startswith("grouped 3-fold")
    for row in task["candidates"]:
        for lab in THEME.labels:
            if lab in row:
                lo, hi = row[lab]["ci"]
                assert lo <= row[lab]["f1"] <= hi
        if "mean" in row:  # the mean says how many labels it is over
            assert row["mean"]["labels"] == sum(lab in row for lab in THEME.labels)
    # the one-standard-error rule: each chosen candidate falls short of the best by at
    # most the standard error of their paired difference, and no simpler one does
    names = [r["candidate"] for r in task["candidates"]]
    for u, lab in enumerate(THEME.labels):
        scored = [r for r in task["candidates"] if lab in r]
        best = max(r[lab]["f1"] for r in scored)
        pick = next(r for r in scored if r["candidate"] == task["chosen"][u])
        assert pick[lab]["f1"] >= best - task["margins"][u] - 1e-9
        simpler = [r for r in scored if names.index(r["candidate"]) <
                   names.index(pick["candidate"])]
        assert all(r[lab]["f1"] < best for r in simpler)


def test_the_model_keeps_only_the_families_its_choice_reads():
    texts, y, groups = rule_wrong_corpus(6, seed=4)
    two = ["model.candidates=[{name: rules, family: prior, families: [codebook]}, "
           "{name: words, family: prior, prior_strength: 0.0, C: 10.0, families: [word]}]"]
    for rule in ("one_se", "best"):
        model = _auto(*two, f"model.select.rule={rule}").fit(texts, {"theme": y}, [THEME],
                                                             groups)
        chosen = set(model.choice["tasks"][0]["chosen"])
        want = {"rules": "codebook", "words": "word"}
        assert {n for n, _ in model.features.transformer_list} == {want[c] for c in chosen}
        assert model.runtime is not None  # one linear head per label, as any model
    # a family the run switches on that no candidate names is read by every candidate
    one = ["model.candidates=[{name: rules, family: prior, families: [codebook]}]"]
    model = _auto(*one).fit(texts, {"theme": y}, [THEME], groups)
    assert [n for n, _ in model.features.transformer_list] == ["word", "codebook"]
    model = _auto(*one, "features.word.enabled=false").fit(texts, {"theme": y}, [THEME],
                                                            groups)
    assert [n for n, _ in model.features.transformer_list] == ["codebook"]


def test_a_widened_model_scores_as_its_narrow_fit(tmp_path):
    """A candidate that reads some families only is fitted on those columns; in the
    final model it reads the whole matrix with zeros elsewhere: same scores."""
    import framing
    from framing.learn.choice import fit_binary, widen

    texts, y, groups = rule_wrong_corpus(8, seed=5)
    cands = ("model.candidates=[{name: words, family: prior, prior_strength: 0.0, C: 10.0, "
             "families: [word]}, {name: rules, family: prior, families: [codebook]}]")
    model = _auto(cands, "model.select.rule=best").fit(texts, {"theme": y}, [THEME], groups)
    path = model.save(tmp_path / "m.joblib")
    loaded = framing.load(path)
    np.testing.assert_allclose(loaded.scores(texts)["theme"], model.scores(texts)["theme"],
                               atol=1e-9)
    X = np.random.default_rng(0).random((30, 4))
    est = fit_binary({"family": "logreg", "C": 1.0, "class_weight": None},
                     X[:, [0, 2]], (X[:, 0] > 0.5).astype(int), [])
    narrow = est.predict_proba(X[:, [0, 2]])
    wide = widen(est, np.array([0, 2]), 4).predict_proba(X)
    np.testing.assert_allclose(wide, narrow)


def test_candidates_are_validated():
    for bad, word in (("[{family: prior}]", "name"),
                      ("[{name: a, family: nope}]", "family"),
                      ("[{name: a, C: -1}]", "C"),
                      ("[{name: a, families: [words]}]", "families"),
                      ("[{name: a, colour: red}]", "unknown keys"),
                      ("[{name: a}, {name: a}]", "twice")):
        with pytest.raises(FramingConfigError, match=word):
            settings(compose(["model=auto", f"model.candidates={bad}"]))


def test_safe_thresholds_refuse_a_collapse_and_never_lose_to_fixed():
    from framing.learn.estimators import safe_thresholds, tune_thresholds

    rng = np.random.default_rng(0)
    n = 400
    y = np.zeros((n, 3), dtype=int)
    y[:, 0] = rng.random(n) < 0.3
    y[rng.choice(n, 4, replace=False), 1] = 1  # a rare label
    y[:, 2] = rng.random(n) < 0.2
    s = np.column_stack([
        np.clip(0.35 + 0.3 * y[:, 0] + rng.normal(0, 0.1, n), 0, 1),  # a shifted scale
        rng.random(n) * 1e-3,  # a rare label's scores all sit near zero
        np.clip(0.2 + 0.6 * y[:, 2] + rng.normal(0, 0.1, n), 0, 1)])
    raw = tune_thresholds(y, s)
    assert raw[1] < 1e-3  # unguarded tuning would switch the rare label on widely
    thr, msgs = safe_thresholds(y, s, ["a", "rare", "c"], seed=0)
    assert thr[1] == 0.5
    assert any("'rare'" in m for m in msgs)
    assert 0.4 < thr[0] < 0.6 or thr[0] == 0.5
    f1 = {}
    for name, t in (("safe", thr), ("fixed", np.full(3, 0.5))):
        p = (s >= t).astype(int)
        f1[name] = compute(TaskSpec("x", "x", "multilabel", ["a", "rare", "c"]), y, p)["macro_f1"]
    assert f1["safe"] >= f1["fixed"]


def test_tuned_thresholds_on_many_labels_predict_about_as_many_labels_as_gold(tmp_path):
    """The many-label shape where tuned thresholds collapsed (a long tail of rare labels,
    the general pipeline): labels predicted per document within 2x of gold."""
    from bench import generate_multilabel

    from framing.pipeline.trainer import Trainer

    n_labels = 40
    path = generate_multilabel(tmp_path / "ml.jsonl", n_docs=1200, n_labels=n_labels, seed=1)
    labels = ", ".join(f"l{j:02d}" for j in range(n_labels))
    cfg = compose(["data=jsonl", f"data.path={path}", "data.split_column=part",
                   f"data.tasks=[{{name: topics, kind: multilabel, labels: [{labels}]}}]",
                   "experiment=text_classifier", "tracking=off", "eval.n_boot=0",
                   "eval.label_issues=off"])
    trainer = Trainer(cfg)
    corpus, _ = trainer.load_data()
    model, report = trainer.fit(corpus)
    pred = report.evaluation.predictions
    te = pred.evaluated
    per_doc = pred.preds["topics"][te].sum(1).mean()
    gold = corpus.targets["topics"][te].sum(1).mean()
    assert gold / 2 <= per_doc <= 2 * gold, (per_doc, gold)


def test_learning_curve_rises_and_states_its_gain(tmp_path):
    from framing.config.schema import DataConfig, Kind, TaskConfig
    from framing.data.corpus import corpus_from_records
    from framing.evaluate.curve import learning_curve

    texts, y, groups = rule_wrong_corpus(20, seed=7, mixed=True)
    rows = [{"id": str(i), "text": t, "article": g,
             "theme": [lab for lab, v in zip(THEME.labels, row, strict=True) if v]}
            for i, (t, row, g) in enumerate(zip(texts, y, groups, strict=True))]
    spec = DataConfig(path="gen", name="gen", group_column="article",
                      tasks=[TaskConfig(name="theme", column="theme", kind=Kind.multilabel,
                                        labels=list(THEME.labels))])
    corpus = corpus_from_records(rows, spec, where="gen")
    fitter = Fitter.from_config(settings(compose(["model=logreg"])))
    curve = learning_curve(corpus, fitter, sizes=[1, 4, 15], draws=3, n_splits=4, seed=0)
    assert curve.sizes == [1, 4, 15] and curve.unit == "articles"
    means = [curve.point("theme", k)[0] for k in range(3)]
    assert means[-1] > means[0]
    for k in range(3):
        m, lo, hi = curve.point("theme", k)
        assert lo <= m <= hi
    g = curve.gain["theme"]
    assert g is not None and g["ci"][0] <= g["gain"] <= g["ci"][1]
    assert "more articles" in curve.gain_lines()[0]
    again = learning_curve(corpus, fitter, sizes=[1, 4, 15], draws=3, n_splits=4, seed=0)
    assert again.to_dict() == curve.to_dict()


def test_learning_curve_command(tmp_path):
    texts, y, groups = rule_wrong_corpus(10, seed=8)
    rows = [{"id": str(i), "text": t, "article": g,
             "theme": [lab for lab, v in zip(THEME.labels, row, strict=True) if v]}
            for i, (t, row, g) in enumerate(zip(texts, y, groups, strict=True))]
    data = write_jsonl(tmp_path / "gen.jsonl", rows)
    out = tmp_path / "curve.json"
    png = tmp_path / "curve.png"
    code, stdout, stderr = run_cli(
        "framing", "learning-curve", data, "data.group_column=article",
        "data.tasks=[{name: theme, kind: multilabel, labels: [security, economy]}]",
        "model=logreg", "--sizes", "1,3,6", "--draws", "2", "-o", out, "--plot", png)
    assert code == 0, stderr
    assert "| articles | records | theme |" in stdout
    assert "expected to change macro-F1" in stdout
    doc = json.loads(out.read_text())
    assert doc["sizes"] == [1, 3, 6] and doc["unit"] == "articles"
    assert png.stat().st_size > 1000
    code, _, stderr = run_cli("framing", "learning-curve", tmp_path / "missing.jsonl")
    assert code != 0 and "missing.jsonl: no such file" in stderr
    assert "Traceback" not in stderr
    tasks = "data.tasks=[{name: theme, kind: multilabel, labels: [security, economy]}]"
    for bad, says in ((["--sizes", "a,b"], "give whole numbers of articles"),
                      (["--sizes", "100"], "no size of the learning curve (100) fits this "
                                          "corpus: a size is between 1 and")):
        code, _, stderr = run_cli("framing", "learning-curve", data, "data.group_column=article",
                                  tasks, "model=logreg", *bad)
        assert code != 0 and says in stderr and "Traceback" not in stderr, stderr


@pytest.mark.slow
def test_a_tracked_run_logs_its_choice_and_learning_curve(tmp_path):
    """framing-train with the default model and eval.learning_curve=true: the choice and
    the curve in the terminal summary, the model card and the MLflow run."""
    from mlflow import MlflowClient

    import framing
    from framing.cli.train import train
    from framing.predict.model import card_path

    from conftest import compose as compose_tmp

    cfg = compose_tmp(tmp_path, ["eval.n_boot=50", "eval.learning_curve=true",
                                 "eval.curve_draws=1", "eval.curve_sizes=[1,2,4]"],
                      tracking="sqlite")
    train(cfg)
    path = tmp_path / "models" / "framing.joblib"
    card = framing.load(path).card
    choice = card["evaluation"]["model_choice"]
    assert [t["task"] for t in choice["tasks"]] == ["theme", "tone"]
    assert card["evaluation"]["learning_curve"]["sizes"] == [1, 2, 4]
    md = card_path(path).read_text()
    assert "## Model choice" in md and "| rules | codebook+voice |" in md
    assert "## Learning curve" in md and "more articles (from 5): expected" in md
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("framing/seeds")
    (run,) = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'model'")
    assert run.data.params["choice/tone"] in {c["name"] for c in
                                              settings(compose([])).model.candidates}
    assert "curve/theme/4" in run.data.metrics and "time/choice_seconds" in run.data.metrics
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model_choice.md", "model_choice.json", "learning_curve.md",
            "learning_curve.json"} <= top
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/learning_curve.png" in plots


def test_a_mean_over_some_labels_only_says_so():
    """A candidate left in the last round for some labels only (successive halving): the
    table says its mean is over those, so that it is not read beside a mean over all."""
    from framing.predict.card import choice_table

    def row(name, f1, labels):
        return {"candidate": name, "families": ["word"], "seconds": 1.0,
                "mean": {"f1": f1, "ci": [f1, f1], "labels": labels}}
    choice = {"tasks": [{"task": "topics", "scheme": "hold-out quarter", "units": ["a", "b", "c"],
                         "chosen": ["prior"] * 3,
                         "candidates": [row("prior", 0.5, 3), row("logreg_c100", 1.0, 1)]}]}
    lines = choice_table(choice, per_label=False)
    prior = next(x for x in lines if x.startswith("| prior "))
    other = next(x for x in lines if x.startswith("| logreg_c100 "))
    assert "*0.500 [0.500, 0.500] |" in prior
    assert "1.000 [1.000, 1.000] (its 1 of 3 labels) |" in other
