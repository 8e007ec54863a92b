import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

import framing
from framing.predict.model import (
    FORMAT_VERSION,
    READABLE_VERSIONS,
    card_path,
    read_bundle,
    sha_path,
)

from conftest import ROOT, SEEDS, run_cli

TEXTS = ["Iran and Pakistan signed eight agreements on trade and the gas pipeline, "
         "officials said on Monday.",
         "This visit underscores the enduring bond and promises to unlock new opportunities.",
         "Raisi condemned Israel's attacks in Gaza."]


def test_predict_single_and_list_give_plain_json(trained):
    model = framing.load(trained[0])
    assert model.tasks == ["theme", "tone"]
    assert model.labels == {"theme": ["security", "economy", "diplomacy", "gaza"],
                            "tone": ["promotional", "reportorial"]}
    one = model.predict(TEXTS[0])
    assert isinstance(one, dict) and set(one) == {"theme", "tone", "scores"}
    assert isinstance(one["theme"], list) and one["tone"] in ("promotional", "reportorial")
    many = model.predict(TEXTS)
    assert isinstance(many, list) and len(many) == 3 and many[0] == one
    json.dumps(many)  # JSON-serialisable
    assert "economy" in many[0]["theme"] and "gaza" in many[2]["theme"]
    assert many[1]["tone"] == "promotional"
    proba = model.predict_proba(TEXTS)
    assert proba["theme"].shape == (3, 4) and proba["tone"].shape == (3, 2)
    assert np.allclose(proba["tone"].sum(axis=1), 1.0)
    for t, lab in zip(("security", "economy", "diplomacy", "gaza"), proba["theme"][0],
                      strict=True):
        assert (t in one["theme"]) == (lab >= model.thresholds["theme"][t])


def test_bad_inputs_are_clear_value_errors(trained):
    model = framing.load(trained[0])
    for bad, msg in ((None, "got None"), (42, "got int"), ([TEXTS[0], 3], "text 1 is int"),
                     (b"bytes", "decode")):
        with pytest.raises(ValueError, match=msg):
            model.predict(bad)
    empty = model.predict(["", "  "])
    assert empty == [{"theme": [], "tone": None, "scores": {"theme": {}, "tone": {}}}] * 2
    proba = model.predict_proba(["", TEXTS[0], " "])  # no scores for a blank text either
    for task, one in model.predict_proba(TEXTS[0]).items():
        assert np.isnan(proba[task][[0, 2]]).all() and np.allclose(proba[task][1], one[0])
    assert model.predict([]) == []
    assert model.predict(TEXTS, batch_size=np.int64(2)) == model.predict(TEXTS)  # any integer
    with pytest.raises(ValueError, match="unknown task"):
        model.explain(TEXTS[0], "frame")
    with pytest.raises(ValueError, match="text 0 is empty"):
        model.explain(" ", "tone")


def test_explain_gives_signed_contributions_that_add_up(trained):
    model = framing.load(trained[0])
    e = model.explain(TEXTS[1], "tone", k=5)
    assert e["label"] == "promotional" and len(e["contributions"]) == 5
    mags = [abs(c["contribution"]) for c in e["contributions"]]
    assert mags == sorted(mags, reverse=True)
    full = model.explain(TEXTS[1], "tone", k=100000)
    logit = sum(c["contribution"] for c in full["contributions"]) + full["intercept"]
    assert 1 / (1 + np.exp(-logit)) == pytest.approx(e["score"], abs=1e-6)
    g = model.explain(TEXTS[2], "theme", label="gaza", k=3)
    assert g["contributions"][0]["feature"] == "codebook__theme:gaza"


def test_predict_article_profiles_paragraphs(trained):
    model = framing.load(trained[0])
    text = (SEEDS / "003_ddd6b63e48831aae.txt").read_text(encoding="utf-8")
    res = model.predict_article(text, article="003")
    assert res["n_paragraphs"] == 8 and res["paragraphs"][0]["id"] == "003-00"
    share = res["profile"]["tone"]["share"]
    assert sum(share.values()) == pytest.approx(1.0)
    n_diplomacy = sum("diplomacy" in p["theme"] for p in res["paragraphs"])
    assert res["profile"]["theme"]["share"]["diplomacy"] == pytest.approx(n_diplomacy / 8)


def test_round_trip_in_a_fresh_process_gives_identical_predictions(trained, tmp_path):
    path = trained[0]
    here = framing.load(path).predict(TEXTS)
    code = ("import json, sys, framing; m = framing.load(sys.argv[1]); "
            "print(json.dumps(m.predict(json.loads(sys.argv[2]))))")
    r = subprocess.run([sys.executable, "-c", code, str(path), json.dumps(TEXTS)],
                       capture_output=True, text=True, check=True)
    assert json.loads(r.stdout) == here


def test_loading_imports_no_training_side(trained):
    code = ("import sys, framing; m = framing.load(sys.argv[1]); m.predict('x y'); "
            "print(sorted(k for k in ('hydra', 'mlflow', 'datasets', 'omegaconf') "
            "if k in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code, str(trained[0])], capture_output=True,
                       text=True, check=True)
    assert r.stdout.strip() == "[]"


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    sha_path(dst).write_text(sha_path(src).read_text().replace(src.name, dst.name))
    return dst


def test_tampered_bundle_refuses_to_load(trained, tmp_path):
    p = _copy(trained[0], tmp_path / "m.joblib")
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(framing.ModelLoadError, match="does not match m.joblib.sha256"):
        framing.load(p)


def test_truncated_bundle(trained, tmp_path):
    p = tmp_path / "m.joblib"
    p.write_bytes(trained[0].read_bytes()[:500])
    with pytest.raises(framing.ModelLoadError, match="not a readable model file.*truncated"):
        framing.load(p)
    joblib.dump(read_bundle(trained[0]), p)  # a version-2 file (one joblib stream), cut
    p.write_bytes(p.read_bytes()[:500])
    with pytest.raises(framing.ModelLoadError, match="not a readable model file.*truncated"):
        framing.load(p)


def test_foreign_joblib_file(tiny, tmp_path):
    p = tmp_path / "other.joblib"
    joblib.dump({"weights": [1, 2, 3]}, p)
    with pytest.raises(framing.ModelLoadError, match="not a framing model file"):
        framing.load(p)
    joblib.dump(framing.load(tiny), p)  # a model pickled whole: how to write one instead
    with pytest.raises(framing.ModelLoadError, match=r"a FramingModel pickled whole "
                       r"\(joblib.dump\), not a framing model file. Write it with "
                       r"model.save\(path\)"):
        framing.load(p, verify=False)
    q = tmp_path / "text.joblib"
    q.write_text("hello")
    with pytest.raises(framing.ModelLoadError, match="not a framing model file: it looks "
                       "like a text file"):
        framing.load(q)


def test_wrong_format_version(trained, tmp_path):
    bundle = read_bundle(trained[0])
    bundle["format_version"] = FORMAT_VERSION + 1
    p = tmp_path / "future.joblib"
    joblib.dump(bundle, p)
    readable = ", ".join(map(str, READABLE_VERSIONS))
    with pytest.raises(framing.ModelLoadError, match=f"format version {FORMAT_VERSION + 1}, "
                                                     r"written by a newer framing; this framing "
                                                     rf"\(.*\) reads versions {readable}\. "
                                                     r"Upgrade framing \(pip install -U"):
        framing.load(p)


def test_a_model_file_of_framing_0_1_still_loads(trained, tmp_path):
    """Format version 1 (framing 0.1) kept the estimators under 'models'."""
    bundle = read_bundle(trained[0])
    bundle["models"] = bundle.pop("estimators")
    bundle["format_version"] = 1
    p = tmp_path / "v1.joblib"
    joblib.dump(bundle, p)
    assert framing.load(p).predict(TEXTS) == framing.load(trained[0]).predict(TEXTS)


def test_scikit_learn_version_mismatch_warns_or_errors(trained, tmp_path):
    model = framing.load(trained[0])
    model.card["versions"]["scikit-learn"] = "0.0.1"
    p = model.save(tmp_path / "old.joblib")
    loaded = framing.load(p)  # labelling needs no scikit-learn: no warning yet
    assert loaded.predict(TEXTS) == model.predict(TEXTS)
    with pytest.warns(UserWarning, match="made with scikit-learn 0.0.1"):
        loaded.explain(TEXTS[0], "tone")  # reads the scikit-learn part
    with pytest.raises(framing.ModelLoadError, match="made with scikit-learn 0.0.1"):
        framing.load(p, on_version_mismatch="error")
    q = tmp_path / "old-v2.joblib"
    joblib.dump(read_bundle(p, on_version_mismatch="ignore"), q)  # read whole at once
    with pytest.warns(UserWarning, match="made with scikit-learn 0.0.1"):
        framing.load(q, verify=False)


def test_bundle_files_and_card(trained):
    path = trained[0]
    assert sha_path(path).read_text().split()[1] == path.name
    card_md = card_path(path).read_text()
    assert "## Evaluation" in card_md and "theme" in card_md and "only on files you trust" \
        in card_md
    card = framing.load(path).card
    assert set(card["versions"]) >= {"framing", "scikit-learn", "numpy", "scipy", "python"}
    assert len(card["data"]["digest"]) == 64
    assert card["config"]["model"]["family"] == "auto"
    assert "mlflow_run_id" in card


def test_cli_predict_jsonl_text_stdin_and_article(trained, tmp_path):
    model = trained[0]
    code, out, err = run_cli("framing", "predict", model, SEEDS / "paragraphs.jsonl")
    recs = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(recs) == 55 and recs[0]["id"] == "000_584ab39c5e970676-00"
    code, out, err = run_cli("framing", "predict", model, "-", stdin="\n".join(TEXTS) + "\n")
    recs = [json.loads(x) for x in out.splitlines()]
    assert [r["id"] for r in recs] == ["stdin-1", "stdin-2", "stdin-3"]
    assert recs == [{"id": f"stdin-{i + 1}", **r}
                    for i, r in enumerate(framing.load(model).predict(TEXTS))]
    out_file = tmp_path / "art.jsonl"
    code, _, err = run_cli("framing", "predict", model, "--article",
                           SEEDS / "001_cc2cb9ae9c176667.txt", "-o", out_file)
    art = json.loads(out_file.read_text())
    assert code == 0 and art["n_paragraphs"] == 5 and "profile" in art


def test_cli_errors_are_one_line_without_traceback(trained, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"txt": "no text field"}\n')
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli("framing", "predict", trained[0], bad, "-o", out)
    assert code == 2 and f"{bad}, line 2: no string field 'text'" in err
    assert "Traceback" not in err and not out.exists()
    code, _, err = run_cli("framing", "predict", tmp_path / "none.joblib", bad)
    assert code == 2 and "no such model file" in err and "Traceback" not in err
    code, out, err = run_cli("framing", "explain", trained[0], TEXTS[1], "--task", "tone")
    assert code == 0 and "tone: promotional" in out and "(intercept)" in out


def test_cli_reports_files_in_one_line_each(tiny, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "goal team"}\n{"text": "vote law"}\n')
    # a model without its digest labels, with one warning line (no Python source line)
    bare = tmp_path / "bare.joblib"
    bare.write_bytes(Path(tiny).read_bytes())
    code, out, err = run_cli("framing", "predict", bare, src)
    assert code == 0 and len(out.splitlines()) == 2
    assert err.splitlines() == [
        f"framing: warning: {bare}: no bare.joblib.sha256 beside it, so the file cannot be "
        "checked against the digest written with it. If you know where it comes from, save "
        "it again to write one: framing.load(path, verify=False).save(path)."]
    # a foreign file without a digest: its error alone
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(bytes(range(256)) * 8)
    code, out, err = run_cli("framing", "predict", junk, src)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"framing: error: {junk}: not a readable model file")
    # inputs: a folder, an empty CSV (a warning, as every empty input)
    code, _, err = run_cli("framing", "predict", tiny, tmp_path)
    assert code == 2 and f"{tmp_path}: is a folder, not a file." in err
    (tmp_path / "e.csv").write_text("")
    code, _, err = run_cli("framing", "predict", tiny, tmp_path / "e.csv")
    assert code == 0 and "e.csv: no paragraphs in the input (it holds no records)" in err
    # outputs: named as given, never by a temporary file or an input
    code, _, err = run_cli("framing", "predict", tiny, src, "-o", src / "out.jsonl")
    assert code == 2 and err == (f"framing: error: {src / 'out.jsonl'}: a part of the path "
                                 "is a file, not a folder; fix the path.\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli("framing", "predict", tiny, src, "-o", out)
    assert code == 0 and err == f"2 paragraphs labelled, written to {out}\n"
    (tmp_path / "none.jsonl").write_text("")
    code, _, err = run_cli("framing", "predict", tiny, tmp_path / "none.jsonl", "-o", out)
    assert code == 0 and out.read_text() == ""
    assert f"warning: {tmp_path / 'none.jsonl'}: no paragraphs in the input" in err


@pytest.mark.slow
def test_predictor_runs_without_the_training_extras(trained, tmp_path):
    """A fresh environment with only scikit-learn, joblib, numpy and scipy."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line.split("==")[0].lower() in ("scikit-learn", "joblib", "numpy", "scipy",
                                                 "threadpoolctl")]
    r = subprocess.run([*pip, *pins], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = ("import sys, json, framing; m = framing.load(sys.argv[1]); "
            "print(json.dumps(m.predict(sys.argv[2])))")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code, str(trained[0]), TEXTS[0]],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == framing.load(trained[0]).predict(TEXTS[0])
    r = subprocess.run([str(venv / "bin" / "python"), "-c", "import hydra"],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0  # really no training extras there


def test_import_framing_stays_light():
    code = ("import sys, framing; print(sorted(k for k in ('sklearn', 'scipy', 'joblib', "
            "'hydra', 'mlflow', 'datasets') if k in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"  # scikit-learn and joblib load with the first model


def test_labelling_leaves_the_garbage_collector_as_it_found_it(trained):
    """The cyclic collector is paused while results are built, then switched back on;
    a collector the caller switched off stays off."""
    import gc

    model = framing.load(trained[0])
    texts = TEXTS * 10
    assert gc.isenabled()
    first = model.predict(texts)
    assert gc.isenabled()
    gc.disable()
    try:
        assert model.predict(texts) == first
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_predict_writes_the_format_the_output_names(tiny, tmp_path):
    """-o labels.csv is CSV, labels.parquet Parquet: the same labels and scores as the
    JSON lines, a blank text's scores missing; no temporary file is left behind."""
    import csv

    import pandas as pd

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "match goal team"}\n{"id": "b", "text": " "}\n'
                   '{"id": "c", "text": "coach league player vote"}\n')
    outs = {}
    for name in ("labels.jsonl", "labels.csv", "labels.tsv", "labels.parquet"):
        code, _, err = run_cli("framing", "predict", tiny, src, "-o", tmp_path / name)
        assert code == 0 and f"3 paragraphs labelled, written to {tmp_path / name}" in err
        outs[name] = tmp_path / name
    recs = [json.loads(x) for x in outs["labels.jsonl"].read_text().splitlines()]
    model = framing.load(tiny)
    columns = ["id", "topic", "tags"] + [f"{t}/{lab}" for t in model.tasks
                                         for lab in model.labels[t]]
    for name, sep in (("labels.csv", ","), ("labels.tsv", "\t")):
        with open(outs[name], newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=sep))
        assert rows[0] == columns  # a header row, not JSON
        for r, row in zip(recs, rows[1:], strict=True):
            cell = dict(zip(columns, row, strict=True))
            assert cell["id"] == r["id"] and cell["topic"] == (r["topic"] or "")
            assert (cell["tags"].split(";") if cell["tags"] else []) == r["tags"]
            for t in model.tasks:
                for lab in model.labels[t]:
                    want = r["scores"][t].get(lab)
                    got = cell[f"{t}/{lab}"]
                    assert (got == "") if want is None else float(got) == want
    frame = pd.read_parquet(outs["labels.parquet"])
    assert list(frame.columns) == columns and len(frame) == 3
    assert [list(x) for x in frame["tags"]] == [r["tags"] for r in recs]
    assert frame["topic"].tolist()[::2] == [recs[0]["topic"], recs[2]["topic"]]
    assert frame["topic"].isna().tolist() == [False, True, False]
    assert frame.loc[0, "topic/sport"] == recs[0]["scores"]["topic"]["sport"]
    assert frame.iloc[1, 3:].isna().all()  # the blank text: no scores
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", *sorted(outs)]


def test_segment_writes_the_format_the_output_names_and_predict_reads_it(tiny, tmp_path):
    import pandas as pd

    article = SEEDS / "001_cc2cb9ae9c176667.txt"
    for name in ("units.jsonl", "units.csv", "units.parquet"):
        code, _, err = run_cli("framing", "segment", article, "-o", tmp_path / name)
        assert code == 0 and "5 paragraphs from 1 article" in err
    recs = [json.loads(x) for x in (tmp_path / "units.jsonl").read_text().splitlines()]
    for name in ("units.csv", "units.parquet"):
        frame = (pd.read_csv if name.endswith(".csv") else pd.read_parquet)(tmp_path / name)
        assert frame.to_dict("records") == recs
        code, out, _ = run_cli("framing", "predict", tiny, tmp_path / name)
        assert code == 0
        assert [json.loads(x) for x in out.splitlines()] == [
            {"id": r["id"], **p} for r, p in zip(recs, framing.load(tiny).predict(
                [r["text"] for r in recs]), strict=True)]


def test_top_features_pick_what_a_full_sort_picks():
    """The top-k selection behind ``top_features``: the same indices, in the same order
    (ties by index), as a stable sort of every weight."""
    from framing.predict.model import _top

    rng = np.random.default_rng(0)
    for _ in range(300):
        values = rng.integers(-3, 4, int(rng.integers(1, 60))).astype(float)
        k = int(rng.integers(0, 70))
        assert _top(values, k).tolist() == np.argsort(-values, kind="stable")[:k].tolist()
