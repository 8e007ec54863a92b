"""Knowledge first: the prior model, the voice and aux feature families, the shipped
subjectivity model, and evaluation on another corpus (config, CLI, MLflow)."""

import json
from pathlib import Path

import numpy as np
import pytest

import framing
from framing.learn.estimators import PriorLinear, PriorOneVsRest
from framing.predict.model import card_path
from framing.resources import model_path

from conftest import SEEDS, SHARED, run_cli, write_jsonl

DEVSET = SHARED / "devset" / "paragraphs.jsonl"
needs_devset = pytest.mark.skipif(not DEVSET.is_file(),
                                  reason=f"the dev set is not beside the project ({DEVSET})")


def test_prior_model_is_the_rule_until_the_data_disagree():
    rng = np.random.default_rng(0)
    rule = rng.integers(0, 2, 40).astype(float)
    noise = rng.random((40, 5))
    X = np.column_stack([rule, noise])
    y = rule.astype(int)  # the data agree with the rule
    m = PriorLinear(prior_columns={1: [0]}).fit(X, y)
    assert m.coef_[0, 0] > 3.5 and np.abs(m.coef_[0, 1:]).max() < 1.0
    assert (m.predict(X) == y).all()
    # no data at all in favour: a strong prior keeps the rule even against a few records
    few = PriorLinear(prior_columns={1: [0]}, prior_strength=100.0).fit(X[:4], 1 - y[:4])
    assert few.coef_[0, 0] > 3.0
    # a binary task whose rule marks the first class: the rule pushes toward classes_[0]
    neg = PriorLinear(prior_columns={0: [0]}).fit(X, np.where(rule > 0, "a", "b"))
    assert list(neg.classes_) == ["a", "b"] and neg.coef_[0, 0] < -3.0


def test_prior_one_vs_rest_gives_each_label_its_own_rule():
    rng = np.random.default_rng(1)
    R = rng.integers(0, 2, (50, 2)).astype(float)
    X = np.column_stack([R, rng.random((50, 3))])
    m = PriorOneVsRest(prior_columns=[[0], [1]]).fit(X, R.astype(int))
    assert m.predict_proba(X).shape == (50, 2)
    assert m.estimators_[0].coef_[0, 0] > 3 and m.estimators_[1].coef_[0, 1] > 3
    assert abs(m.estimators_[0].coef_[0, 1]) < 1
    # a label on every record still gets a model
    Y = np.column_stack([np.ones(50, int), R[:, 1].astype(int)])
    assert PriorOneVsRest(prior_columns=[[0], [1]]).fit(X, Y).predict(X)[:, 0].all()


def test_shipped_subjectivity_model_loads_and_tells_opinion_from_statement():
    path = model_path("subjectivity")
    assert path.parent.name == "resources" and path.is_file()
    model = framing.load(path)
    s = model.predict_proba(["This is a wonderful, deeply moving and beautiful film.",
                             "The film follows a man who moves to Paris in 1950."])["label"]
    j = model.labels["label"].index("subjective")
    assert s[0, j] > 0.5 > s[1, j]
    assert model.card["data"]["name"] == "subj" and model.card["data"]["n_records"] == 10000


def toy_model(tmp_path) -> Path:
    """A tiny sport/politics model saved to disk (an auxiliary model for another)."""
    rng = np.random.default_rng(0)
    words = {"sport": ["match", "goal", "team", "player", "score", "coach", "league"],
             "politics": ["minister", "vote", "parliament", "election", "party", "law"]}
    labels = ["sport" if i % 2 else "politics" for i in range(40)]
    texts = [" ".join(rng.choice(words[lab], 6)) for lab in labels]
    model, _ = framing.fit(texts, labels, overrides=["features=ngrams", "eval.n_boot=0"])
    return model.save(tmp_path / "toy.joblib")


def test_any_model_file_feeds_another_models_features(tmp_path):
    aux = toy_model(tmp_path)
    texts = ["the coach praised the team after the match", "parliament passed the law",
             "a goal in the league", "the party won the vote", "the player scored",
             "the minister called an election"] * 4
    labels = ["fun" if i % 2 == 0 else "dull" for i in range(len(texts))]
    model, _ = framing.fit(texts, labels, overrides=[
        "features=ngrams", "eval.n_boot=0", "features.aux.enabled=true",
        f"features.aux.models=[{aux}]"])
    names = list(model.feature_names())
    assert "aux__toy/label:sport" in names and "aux__toy/label:politics" in names
    X = model.transform(texts[:2]).toarray()
    expect = framing.load(aux).predict_proba(texts[:2])["label"]
    col = names.index("aux__toy/label:sport")
    assert np.allclose(X[:, col], expect[:, framing.load(aux).labels["label"].index("sport")])
    # per sentence: mean and maximum over the paragraph's sentences
    model, _ = framing.fit(texts, labels, overrides=[
        "features=ngrams", "eval.n_boot=0", "features.aux.enabled=true",
        f"features.aux.models=[{aux}]", "features.aux.sentences=true"])
    assert "aux__toy/label:sport/max" in list(model.feature_names())


def test_a_missing_auxiliary_model_is_a_clear_error(tmp_path):
    with pytest.raises(framing.ModelLoadError, match="no such model file"):
        framing.fit(["alpha beta", "gamma delta"] * 6, ["x", "y"] * 6, overrides=[
            "features=ngrams", "features.aux.enabled=true",
            f"features.aux.models=[{tmp_path / 'none.joblib'}]"])


def seeds_split(tmp_path):
    """The seeds as training (articles 000, 002, 004) and another corpus (001, 003)."""
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["article"][:3] in ("000", "002", "004")]
    other = [r for r in rows if r["article"][:3] in ("001", "003")]
    return write_jsonl(tmp_path / "train.jsonl", train), write_jsonl(tmp_path / "other.jsonl",
                                                                     other)


def test_training_scores_another_corpus_given_in_the_config(cfg_factory, tmp_path, caplog):
    from framing.cli.train import train

    train_file, other = seeds_split(tmp_path)
    cfg = cfg_factory(["data=jsonl", f"data.path={train_file}", "data.group_column=article",
                       "data.tasks=[{name: theme, kind: multilabel, labels: [security, "
                       "economy, diplomacy, gaza]}, {name: tone, labels: [promotional, "
                       "reportorial]}]", "test=file", f"test.path={other}",
                       "eval.n_boot=100"])
    with caplog.at_level("INFO", logger="framing"):
        train(cfg)
    model = framing.load(cfg.output.model_path)
    m = model.card["evaluation"]["metrics"]
    assert model.card["evaluation"]["test"]["n_records"] == 13
    for k in ("test/theme/macro_f1", "test/theme/macro_f1/ci_low", "test/tone/accuracy",
              "test/theme/gaza/f1", "test/baseline/codebook/theme/macro_f1",
              "test/baseline/majority/tone/macro_f1"):
        assert k in m, k
    assert any(r.getMessage().startswith("test theme: macro-F1") for r in caplog.records)
    assert "### Other corpus: other (13 records)" in card_path(cfg.output.model_path).read_text()
    # framing evaluate gives the same figures from the saved model
    code, out, err = run_cli("framing", "evaluate", cfg.output.model_path, other, "--json",
                             "--n-boot", "100")
    assert code == 0, err
    got = json.loads(out)
    assert got["n_records"] == 13 and got["groups"] == 2
    assert got["metrics"]["theme/macro_f1"] == pytest.approx(m["test/theme/macro_f1"])
    assert got["metrics"]["theme/macro_f1/ci_low"] == pytest.approx(
        m["test/theme/macro_f1/ci_low"])


def test_framing_evaluate_prints_a_table_and_refuses_bad_input(trained, tmp_path):
    model = trained[0]
    code, out, err = run_cli("framing", "evaluate", model, SEEDS / "paragraphs.jsonl",
                             "--n-boot", "50")
    assert code == 0, err
    assert "55 records, 5 groups resampled" in out
    assert "theme      macro_f1" in out and "codebook F1" in out
    no_labels = write_jsonl(tmp_path / "plain.jsonl", [{"id": "a", "text": "Talks."}])
    for args, msg in (
        ([tmp_path / "none.jsonl"], "none.jsonl: no such file"),
        ([no_labels], "no column of the model's tasks (theme, tone)"),
        ([SEEDS / "paragraphs.jsonl", "--n-boot", "-1"], "--n-boot -1"),
    ):
        code, out, err = run_cli("framing", "evaluate", model, *args)
        assert code == 2 and msg in err and "Traceback" not in err, err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x", "theme": [], "tone": "loud"}\n')
    code, _, err = run_cli("framing", "evaluate", model, bad)
    assert code == 2 and "label 'loud' of task 'tone' is not in its label set" in err


def test_framing_evaluate_logs_to_mlflow(trained, tmp_path):
    from mlflow.tracking import MlflowClient

    db = tmp_path / "store.db"
    code, out, err = run_cli("framing", "evaluate", trained[0], SEEDS / "paragraphs.jsonl",
                             "--n-boot", "20", "--mlflow", f"sqlite:///{db}")
    assert code == 0, err
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("framing-evaluate")
    (run,) = client.search_runs([exp.experiment_id], "tags.`framing.role` = 'evaluation'")
    assert "test/theme/macro_f1" in run.data.metrics
    assert run.data.tags["framing.data_name"] == "paragraphs"


@needs_devset
@pytest.mark.slow
def test_default_beats_its_rules_on_other_articles(cfg_factory):
    """The bars of the default on the dev set (other articles), trained on the seeds."""
    from framing.pipeline.trainer import Trainer

    trainer = Trainer(cfg_factory(["test=devset", "eval.n_boot=0"]))
    corpus, dev = trainer.load_data()
    _, report = trainer.fit(corpus, dev)
    m = report.metrics
    assert m["test/theme/macro_f1"] >= 0.90
    assert m["test/theme/macro_f1"] > m["test/baseline/codebook/theme/macro_f1"]
    for lab in ("security", "economy", "diplomacy", "gaza"):
        assert m[f"test/theme/{lab}/f1"] >= m[f"test/baseline/codebook/theme/{lab}/f1"], lab
    assert m["test/tone/macro_f1"] >= 0.80 and m["test/tone/promotional/f1"] >= 0.65
