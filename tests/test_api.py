"""framing.fit: training from Python on lists, records and DataFrames."""

import json

import numpy as np
import pandas as pd
import pytest

import framing
from framing.cli.train import train
from framing.core.errors import FramingDataError

from conftest import SEEDS

WORDS = {"sport": "match goal team player score coach league",
         "politics": "minister vote parliament election party law"}


def texts_and_labels(n=40):
    rng = np.random.default_rng(0)
    labels = ["sport" if i % 2 else "politics" for i in range(n)]
    return [" ".join(rng.choice(WORDS[lab].split(), 6)) for lab in labels], labels


def test_fit_on_a_list_of_texts_and_labels():
    texts, labels = texts_and_labels()
    model, report = framing.fit(texts, labels, overrides=["features=ngrams", "eval.n_boot=50"])
    assert isinstance(model, framing.FramingModel)
    assert model.labels == {"label": ["politics", "sport"]}  # inferred, sorted
    assert report.metrics["label/accuracy"] > 0.9
    assert report.evaluation.strategy == "stratified_kfold"
    assert any("inferred" in n for n in report.notes)
    assert model.predict("goal for the team")["label"] == "sport"
    assert "label: accuracy" in report.summary()[0]


def test_fit_on_several_tasks_infers_kinds_and_keeps_groups():
    texts, labels = texts_and_labels()
    tags = [["short"] if len(t) < 40 else ["long"] for t in texts]
    groups = [f"outlet{i % 4}" for i in range(len(texts))]
    model, report = framing.fit(texts, {"topic": labels, "tags": tags}, groups=groups,
                                overrides=["features=ngrams", "eval.n_boot=0"])
    assert model.kinds == {"topic": "multiclass", "tags": "multilabel"}
    assert report.evaluation.strategy == "logo" and report.evaluation.n_folds == 4


def test_fit_on_a_dataframe_gives_the_model_the_cli_writes(cfg_factory):
    df = pd.read_json(SEEDS / "paragraphs.jsonl", lines=True)
    cfg = cfg_factory(["eval.n_boot=0"])
    train(cfg)
    written = framing.load(cfg.output.model_path)
    model, report = framing.fit(
        df, tasks=[{"name": "theme", "kind": "multilabel",
                    "labels": ["security", "economy", "diplomacy", "gaza"]},
                   {"name": "tone", "labels": ["promotional", "reportorial"]}],
        id_column="id", group_column="article", overrides=["eval.n_boot=0"])
    probe = [json.loads(x)["text"] for x in (SEEDS / "paragraphs.jsonl").open()][:10]
    for t, p in written.predict_proba(probe).items():
        assert np.array_equal(p, model.predict_proba(probe)[t])
    assert model.thresholds == written.thresholds
    assert report.metrics["theme/macro_f1"] == \
        written.card["evaluation"]["metrics"]["theme/macro_f1"]
    assert model.card["data"]["digest"] == written.card["data"]["digest"]


def test_fit_takes_texts_and_labels_as_any_sequence_in_order():
    texts, labels = texts_and_labels()
    over = ["features=ngrams", "eval.n_boot=0"]
    probe = ["goal for the team", "a vote in parliament"]
    expected = framing.fit(texts, labels, overrides=over)[0].predict_proba(probe)
    # a Series of labels is read by position, whatever its index
    for data, target in [(pd.Series(texts), labels), (np.array(texts), labels),
                         ((t for t in texts), labels),
                         (texts, pd.Series(labels, index=range(100, 140)))]:
        got = framing.fit(data, target, overrides=over)[0].predict_proba(probe)
        assert all(np.array_equal(got[k], expected[k]) for k in expected)


def test_fit_refuses_unclear_input():
    texts, labels = texts_and_labels()
    with pytest.raises(FramingDataError, match="40 texts but 39 labels"):
        framing.fit(texts, labels[:-1])
    with pytest.raises(FramingDataError, match="give the labels"):
        framing.fit(texts)
    with pytest.raises(FramingDataError, match="name the label columns in tasks="):
        framing.fit(pd.DataFrame({"text": texts, "y": labels}), labels)
    with pytest.raises(FramingDataError, match="must be a list of texts"):
        framing.fit("one text", ["a"])


def test_feature_names_is_the_method_the_docs_show(tiny):
    """The README, the docs and the docstrings show ``feature_names()``, a method in the
    style of scikit-learn's ``get_feature_names_out()``; calling it gives the names."""
    import re

    from framing.predict import model as model_module

    from conftest import ROOT

    texts = {p.name: p.read_text() for p in [ROOT / "README.md",
                                             *sorted((ROOT / "docs").glob("*.md"))]}
    texts["framing.predict.model"] = "\n".join(
        f.__doc__ or "" for f in (model_module, model_module.load,
                                  model_module.FramingModel,
                                  *vars(model_module.FramingModel).values()))
    # a Sphinx method reference (:meth:`FramingModel.feature_names`) is a method already
    texts = {name: re.sub(r":meth:`[\w.]*feature_names`", "", t) for name, t in texts.items()}
    mentions = {name: re.findall(r"(?<!\w)feature_names(?!_)\S{0,2}", t)
                for name, t in texts.items()}
    assert mentions["README.md"], "the README names feature_names()"
    for name, found in mentions.items():
        assert all(m.startswith("feature_names()") for m in found), (name, found)
    model = framing.load(tiny)
    assert not hasattr(type(model), "feature_names_")
    names = model.feature_names()
    assert len(names) == model.transform(["goal"]).shape[1]
    assert all(isinstance(n, str) for n in names) and any("goal" in n for n in names)


def test_a_served_blank_text_answers_valid_json(tiny):
    """The scoring server's own answer (``mlflow models serve``'s invocations, in process)
    for a blank text is valid JSON: null scores and the API's empty labels, not NaN."""
    pytest.importorskip("mlflow")
    from mlflow.models import Model, infer_signature
    from mlflow.pyfunc import PyFuncModel
    from mlflow.pyfunc.scoring_server import invocations

    from framing.track.pyfunc import _load_pyfunc, to_frame

    served = _load_pyfunc(str(tiny))
    example = pd.DataFrame({"text": ["match goal team"]})
    meta = Model(signature=infer_signature(example, to_frame(served.predictor,
                                                             example["text"])))
    pyfunc = PyFuncModel(meta, served)
    texts = ["match goal team", "", "   "]
    body = json.dumps({"dataframe_split": {"columns": ["text"],
                                           "data": [[t] for t in texts]}})
    answer = invocations(body, "application/json", pyfunc, meta.get_input_schema())
    assert answer.status == 200

    def no_constants(word):
        raise AssertionError(f"not JSON: the answer holds {word}")

    predictions = json.loads(answer.response, parse_constant=no_constants)["predictions"]
    model = framing.load(tiny)
    direct = model.predict(texts)
    assert predictions[0]["topic"] == direct[0]["topic"]
    assert predictions[0]["topic/sport"] == pytest.approx(direct[0]["scores"]["topic"]["sport"])
    for p in predictions[1:]:
        assert p["topic"] is None and p["tags"] == []  # predict's empty result
        assert all(p[f"{t}/{lab}"] is None for t in model.tasks for lab in model.labels[t])
