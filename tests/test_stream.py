import json

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

import framing
from framing.cli.train import train
from framing.core.errors import FramingConfigError, FramingDataError
from framing.scale.stream import StreamTrainer, is_holdout, iter_records

from conftest import run_cli

WORDS = {"pos": ["good", "great", "fine", "superb", "lovely", "nice"],
         "neg": ["bad", "awful", "poor", "dire", "grim", "nasty"]}


def make_corpus(path, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        for i in range(n):
            lab = "pos" if rng.random() < 0.5 else "neg"
            words = list(rng.choice(WORDS[lab], 4)) + list(rng.choice(
                ["the", "a", "of", "and", "film", "story", "plot"], 4))
            tags = [t for t, on in (("long", i % 3 == 0), ("short", i % 3 != 0)) if on]
            f.write(json.dumps({"id": f"g{i}", "text": " ".join(words), "label": lab,
                                "tags": tags}) + "\n")
    return path


LABEL = "{name: label, column: label, kind: multiclass, labels: [neg, pos]}"
TAGS = "{name: tags, column: tags, kind: multilabel, labels: [long, short]}"


def stream(cfg_factory, path, tasks=(LABEL,), **settings):
    """A StreamTrainer on ``path`` (experiment=streaming, small hashing space)."""
    over = {"stream.progress": "false", "stream.chunk_size": 1000, "stream.holdout": 0.1,
            "features.hashing.n_features": 2**16, "eval.n_boot": 0, **settings}
    return StreamTrainer(cfg_factory(["experiment=streaming", "data=jsonl", f"data.path={path}",
                                      f"data.tasks=[{', '.join(tasks)}]",
                                      *[f"{k}={v}" for k, v in over.items()]]))


def test_chunks_cover_the_file_once(tmp_path):
    p = make_corpus(tmp_path / "c.jsonl", 2500)
    sizes = [len(c) for c in iter_records(p, 1000)]
    assert sizes == [1000, 1000, 500]


def test_streamed_model_equals_the_in_memory_model(cfg_factory, tmp_path):
    """Chunked partial_fit over the file = one partial_fit pass over all rows in memory."""
    p = make_corpus(tmp_path / "c.jsonl", 3000)
    model, _ = stream(cfg_factory, p, **{"stream.chunk_size": 700}).fit()
    rows = [json.loads(x) for x in p.read_text().splitlines()]
    held = [is_holdout(r["id"], 0.1) for r in rows]
    X = model.transform([r["text"] for r in rows])
    y = np.array([r["label"] for r in rows], dtype=object)
    ref = SGDClassifier(loss="log_loss", alpha=1e-6, random_state=0)
    for start in range(0, len(rows), 700):  # the same sample order
        keep = [i for i in range(start, min(start + 700, len(rows))) if not held[i]]
        ref.partial_fit(X[keep], y[keep], classes=np.array(["neg", "pos"], dtype=object))
    assert np.allclose(model.estimators["label"].coef_, ref.coef_)
    assert np.array_equal(model.estimators["label"].predict(X), ref.predict(X))


def test_held_out_share_is_stable_and_scored(cfg_factory, tmp_path):
    p = make_corpus(tmp_path / "c.jsonl", 3000)
    model, report = stream(cfg_factory, p, (LABEL, TAGS)).fit()
    expected = sum(is_holdout(f"g{i}", 0.1) for i in range(3000))
    assert report.evaluation.n_records == expected
    assert report.metrics["n_train"] == 3000 - expected
    assert 200 < expected < 400
    assert report.metrics["label/accuracy"] > 0.95
    assert report.metrics["tags/macro_f1"] > 0.4
    assert "baseline/majority/label/macro_f1" in report.metrics
    assert model.card["data"]["n_records"] == 3000 and len(model.card["data"]["digest"]) == 64


def test_stream_errors_name_the_line(cfg_factory, tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "text": "good", "label": "pos"}\n'
                 '{"id": "b", "text": "bad", "label": "meh"}\n')
    with pytest.raises(FramingDataError, match=r"bad\.jsonl, line 2: label 'meh'"):
        stream(cfg_factory, p, **{"stream.chunk_size": 10}).fit()


@pytest.mark.parametrize("override, message", [
    ("model=logreg", "model.family=logreg: only sgd learns from chunks"),
    ("features=default", "features word: only hashing without IDF"),
    ("eval.thresholds=tune", r"eval.thresholds=tune \(tuning needs a second pass; set "
                             r"fixed\)"),
    ("model.class_weight=balanced", "partial_fit cannot balance classes"),
    ("+model.per_task.label.alpha=0.01", "model.per_task is not read by the stream"),
    ("+model.task_defaults.label.alpha=0.01",
     r"model.task_defaults \(label\) is not read by the stream"),
], ids=["model family", "features with a vocabulary", "tuned thresholds", "class weights",
        "a task's own settings", "a task's default settings"])
def test_settings_the_stream_cannot_honour_are_refused(cfg_factory, tmp_path, override,
                                                       message):
    p = make_corpus(tmp_path / "c.jsonl", 100)
    with pytest.raises(FramingConfigError, match=message):
        stream(cfg_factory, p, **dict([override.split("=", 1)]))


def test_the_streaming_experiment_streams_from_the_command_line(tmp_path):
    # the experiment's stream.enabled reaches the run (train.yaml's own values come first
    # in its defaults, so an experiment overrides them): it streams, and refuses what the
    # stream cannot honour instead of training in memory
    p = make_corpus(tmp_path / "c.jsonl", 2000)
    args = ["experiment=streaming", "data=jsonl", f"data.path={p}", f"data.tasks=[{LABEL}]",
            "tracking=off", "stream.progress=false", f"output.model_path={tmp_path / 'm.joblib'}",
            f"hydra.run.dir={tmp_path / 'run'}"]
    code, out, err = run_cli("framing-train", *args)
    assert code == 0, err[-2000:]
    assert "streamed 2000 records (199 held out)" in out + err
    card = framing.load(tmp_path / "m.joblib").card
    assert card["evaluation"]["strategy"] == "streaming hold-out (10% by id hash)"
    code, out, err = run_cli("framing-train", *args, "eval.thresholds=tune")
    assert code == 2 and "the streaming path cannot honour eval.thresholds=tune" in err


def test_streaming_training_writes_a_predictor_and_cli_streams_predictions(cfg_factory,
                                                                           tmp_path):
    p = make_corpus(tmp_path / "c.jsonl", 2000)
    cfg = cfg_factory(["experiment=streaming", "stream.progress=false", "stream.chunk_size=500",
                       "features.hashing.n_features=65536", "data=jsonl", f"data.path={p}",
                       "data.tasks=[{name: label, column: label, kind: multiclass, "
                       "labels: [neg, pos]}, {name: tags, column: tags, kind: multilabel, "
                       "labels: [long, short]}]"])
    value = train(cfg)
    assert value > 0.6
    model = framing.load(cfg.output.model_path)
    assert model.card["evaluation"]["strategy"].startswith("streaming hold-out")
    assert model.predict("good great superb")["label"] == "pos"
    e = model.explain("awful grim", "label", k=3)
    assert e["label"] == "neg" and e["contributions"][0]["feature"].startswith("hashing__hash_")
    out = tmp_path / "pred.jsonl"
    code, _, err = run_cli("framing", "predict", cfg.output.model_path, p, "-o", out,
                           "--batch-size", "300", "--progress")
    assert code == 0, err
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == 2000 and recs[0]["id"] == "g0"
    assert recs[:5] == [{"id": f"g{i}", **r} for i, r in enumerate(
        model.predict([json.loads(x)["text"] for x in p.read_text().splitlines()[:5]]))]


def test_parquet_streams_like_json_lines(cfg_factory, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = make_corpus(tmp_path / "c.jsonl", 1500)
    rows = [json.loads(x) for x in p.read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet", row_group_size=400)
    a, ra = stream(cfg_factory, p, **{"stream.chunk_size": 500}).fit()
    b, rb = stream(cfg_factory, tmp_path / "c.parquet", **{"stream.chunk_size": 500,
                                                          "data.source": "parquet"}).fit()
    assert ra.metrics["n_train"] == rb.metrics["n_train"]
    assert np.allclose(a.estimators["label"].coef_, b.estimators["label"].coef_)


def test_cli_predicts_from_parquet_like_from_json_lines(trained, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"p{i}", "text": t} for i, t in enumerate(
        ["Trade and the gas pipeline were discussed.", "Gaza was bombed.", "Talks went on."])]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    outs = []
    for src in ("in.parquet", "in.jsonl"):
        code, out, err = run_cli("framing", "predict", trained[0], tmp_path / src)
        assert code == 0, err
        outs.append([json.loads(x) for x in out.splitlines()])
    assert outs[0] == outs[1] and [r["id"] for r in outs[0]] == ["p0", "p1", "p2"]


def test_a_label_the_held_out_share_lacks_counts_alike_in_its_interval(cfg_factory,
                                                                       tmp_path):
    # label odd is on 60 training records and on no held-out one: left out of the
    # held-out macro-F1 unless predicted there, in the estimate as in the draws
    p = make_corpus(tmp_path / "c.jsonl", 1500)
    odd = [f"odd{i}" for i in range(400) if not is_holdout(f"odd{i}", 0.1)][:60]
    with p.open("a") as f:
        for rid in odd:
            f.write(json.dumps({"id": rid, "text": "zebra quartz violin oboe", "label": "odd",
                                "tags": ["long"]}) + "\n")
    three = "{name: label, column: label, kind: multiclass, labels: [neg, odd, pos]}"
    _, report = stream(cfg_factory, p, (three,), **{"eval.n_boot": 200}).fit()
    m = report.metrics
    predicted = (report.evaluation.predictions.preds["label"] == "odd").any()
    assert ("label/odd/f1" in m) == predicted
    shown = [m[f"label/{lab}/f1"] for lab in ("neg", "odd", "pos") if f"label/{lab}/f1" in m]
    assert m["label/macro_f1"] == pytest.approx(np.mean(shown))
    assert m["label/accuracy"] > 0.95
    for name in ("macro_f1", "micro_f1", "accuracy"):
        assert m[f"label/{name}/ci_low"] <= m[f"label/{name}"] <= m[f"label/{name}/ci_high"]
