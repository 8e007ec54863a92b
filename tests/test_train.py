import json
import subprocess
import sys

import numpy as np
import pytest
from experiments_table import seed_experiments

import framing
from framing.cli.train import train

from conftest import BENCHMARKS, ROOT, run_cli, write_jsonl

EXPERIMENTS = seed_experiments(ROOT / "experiments")


def card_metrics(path):
    return framing.load(path).card["evaluation"]["metrics"]


def test_default_experiment_meets_the_quality_bar_beside_baselines(trained):
    path, value = trained
    m = card_metrics(path)
    assert m["theme/macro_f1"] >= 0.85
    assert m["tone/macro_f1"] >= 0.75
    for t in ("theme", "tone"):
        assert m[f"{t}/macro_f1/ci_low"] <= m[f"{t}/macro_f1"] <= m[f"{t}/macro_f1/ci_high"]
        assert m[f"{t}/macro_f1"] > m[f"baseline/majority/{t}/macro_f1"]
        assert f"baseline/codebook/{t}/macro_f1" in m
    # leave-one-article-out on five articles
    assert framing.load(path).card["evaluation"]["strategy"] == "logo"
    assert m["n_folds"] == 5 and m["n_records"] == 55
    assert value == pytest.approx((m["theme/macro_f1"] + m["tone/macro_f1"]) / 2)


def test_label_constant_in_a_fold_is_a_warning_not_a_crash(cfg_factory):
    # a learned one-vs-rest model sees diplomacy on every record of one fold
    cfg = cfg_factory(["experiment=model_logreg", "eval.n_boot=0"])
    train(cfg)
    card = framing.load(cfg.output.model_path).card
    assert any("'diplomacy' is present in every record of a training fold" in n
               for n in card["evaluation"]["notes"])


def test_same_config_and_seed_give_identical_metrics_and_model(cfg_factory, tmp_path):
    cfg = cfg_factory(["eval.n_boot=100"])
    train(cfg)
    first = framing.load(cfg.output.model_path)
    def figures(model):  # wall-clock timings are the machine's, not the model's
        return {k: v for k, v in model.card["evaluation"]["metrics"].items()
                if not k.startswith("time/")}

    m1 = figures(first)
    assert "theme/macro_f1/ci_low" in m1
    p1 = first.predict_proba(["Trade and the gas pipeline were discussed."])
    train(cfg)
    second = framing.load(cfg.output.model_path)
    assert figures(second) == m1
    p2 = second.predict_proba(["Trade and the gas pipeline were discussed."])
    for t in p1:
        assert np.array_equal(p1[t], p2[t])


def test_user_corpus_with_its_own_label_set_through_config_alone(cfg_factory, tmp_path):
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team player score coach league",
             "politics": "minister vote parliament election party law"}
    rows = []
    for i in range(60):
        topic = "sport" if i % 2 else "politics"
        text = " ".join(rng.choice(words[topic].split(), 6))
        rows.append({"uid": f"u{i}", "body": text, "topic": topic,
                     "tags": ["hot"] if i % 3 == 0 else ["cold"], "src": f"s{i % 6}"})
    path = write_jsonl(tmp_path / "mine.jsonl", rows)
    cfg = cfg_factory(["data=jsonl", f"data.path={path}", "data.text_column=body",
                       "data.id_column=uid", "data.group_column=src", "eval.n_boot=50",
                       "codebook=none", "features.style.enabled=false",
                       "features.codebook.enabled=false",
                       "data.tasks=[{name: topic, column: topic, kind: multiclass, "
                       "labels: [sport, politics]}, {name: tags, column: tags, "
                       "kind: multilabel, labels: [hot, cold]}]"])
    train(cfg)
    model = framing.load(cfg.output.model_path)
    assert model.labels == {"topic": ["sport", "politics"], "tags": ["hot", "cold"]}
    m = model.card["evaluation"]["metrics"]
    assert m["topic/accuracy"] > 0.9
    assert model.card["evaluation"]["strategy"] == "logo"
    assert model.predict("goal for the team")["topic"] == "sport"


def test_csv_corpus_through_config_alone(cfg_factory, tmp_path):
    lines = ["id,text,label"] + [
        f"r{i},{'great wonderful superb' if i % 2 else 'awful dreadful poor'} item {i},"
        f"{'pos' if i % 2 else 'neg'}" for i in range(40)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    cfg = cfg_factory(["data=csv", f"data.path={tmp_path / 'c.csv'}", "eval.n_boot=0",
                       "features=ngrams", "data.tasks.0.labels=[neg, pos]"])
    train(cfg)
    m = card_metrics(cfg.output.model_path)
    assert m["label/accuracy"] == 1.0
    assert framing.load(cfg.output.model_path).card["evaluation"]["strategy"] == \
        "stratified_kfold"


@pytest.mark.slow
def test_subj_benchmark_with_its_fold_column(cfg_factory):
    if not (BENCHMARKS / "subj" / "all.jsonl").is_file():
        pytest.skip(f"the public benchmark corpora are not beside the project "
                    f"({BENCHMARKS / 'subj' / 'all.jsonl'}; set FRAMING_BENCHMARKS to their "
                    "folder)")
    cfg = cfg_factory(["experiment=bench_subj", "eval.n_boot=0"])
    train(cfg)
    model = framing.load(cfg.output.model_path)
    m = model.card["evaluation"]["metrics"]
    assert model.card["evaluation"]["strategy"] == "fold_column"
    assert m["n_folds"] == 10 and m["n_records"] == 10000
    # Wang & Manning (2012) report 93.2 for NBSVM-bigram on SUBJ, 10-fold.
    assert m["label/accuracy"] >= 0.92


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_shipped_seed_experiment_runs(cfg_factory, name):
    cfg = cfg_factory([f"experiment={name}", "eval.n_boot=50"])
    value = train(cfg)
    assert 0.0 <= value <= 1.0
    assert framing.load(cfg.output.model_path).tasks == ["theme", "tone"]


def test_bad_corpus_fails_with_one_clear_message_and_no_model(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": \n')
    model = tmp_path / "m.joblib"
    code, out, err = run_cli("framing-train", "data=jsonl", f"data.path={path}",
                             "tracking=off", f"output.model_path={model}",
                             f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2
    assert f"{path}, line 2: malformed JSON" in err
    assert "Traceback" not in err
    assert not model.exists()


@pytest.mark.slow
def test_multirun_sweep_returns_objective_per_job(tmp_path):
    code, out, err = run_cli(
        "framing-train", "-m", "model.C=0.1,1", "eval.n_boot=20", "tracking=off",
        f"output.model_path={tmp_path / 'm.joblib'}", f"hydra.sweep.dir={tmp_path / 'sw'}")
    assert code == 0, err
    bundles = sorted((tmp_path / "sw").glob("*/m.joblib"))
    assert len(bundles) == 2
    Cs = sorted(framing.load(b).card["config"]["model"]["C"] for b in bundles)
    assert Cs == [0.1, 1.0]


@pytest.mark.slow
def test_configs_ship_inside_the_wheel_and_compose_outside_the_repo(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if r.returncode != 0 and "No module named" in r.stderr:
        pytest.skip("setuptools not available in this environment")
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("framing-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "framing/conf/train.yaml" in names
    assert "framing/conf/experiment/default.yaml" in names
    assert "framing/conf/model/nbsvm.yaml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("from framing.config.tree import compose, config_dir; print(config_dir());"
             "c = compose(['experiment=char_ngrams']);"
             "print(c.features.char.enabled)")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert str(site) in r.stdout and r.stdout.strip().endswith("True")
    json.dumps(names)


def test_a_users_config_dir_adds_a_data_option(tmp_path):
    conf = tmp_path / "my_conf" / "data"
    conf.mkdir(parents=True)
    rows = [{"id": f"r{i}", "text": f"{'fine lovely' if i % 2 else 'grim awful'} {i}",
             "y": "p" if i % 2 else "n"} for i in range(30)]
    write_jsonl(tmp_path / "mine.jsonl", rows)
    (conf / "mine.yaml").write_text(
        f"source: jsonl\npath: {tmp_path / 'mine.jsonl'}\nname: mine\ntext_column: text\n"
        "id_column: id\ngroup_column: null\nfold_column: null\nsplit_column: null\n"
        "hub_config: null\nhub_splits: null\n"
        "tasks:\n  - {name: y, column: y, kind: multiclass, labels: [n, p]}\n")
    model = tmp_path / "m.joblib"
    code, out, err = run_cli("framing-train", "--config-dir", tmp_path / "my_conf", "data=mine",
                             "features=ngrams", "eval.n_boot=0", "tracking=off",
                             f"output.model_path={model}", f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 0, err
    assert framing.load(model).labels == {"y": ["n", "p"]}


def test_store_and_outputs_go_to_the_project_root_whatever_the_cwd(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / "seeds").mkdir()
    (home / "seeds" / "paragraphs.jsonl").write_bytes(
        (ROOT / "seeds" / "paragraphs.jsonl").read_bytes())
    env = {**__import__("os").environ, "FRAMING_HOME": str(home)}
    code, out, err = run_cli("framing-train", "eval.n_boot=0", cwd=elsewhere, env=env)
    assert code == 0, err[-2000:]
    assert (home / "mlflow.db").is_file() and (home / "models" / "framing.joblib").is_file()
    assert list((home / "outputs").glob("*/*/.hydra/config.yaml"))
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize("args, message", [
    (["data=jsonl"], "data.path is not set. Give it on the command line"),
    (["tracking=server", "tracking.uri=???"], "tracking.uri is not set"),
    (["tracking.uri=mlruns"], "MLflow's file store is not supported"),
    (["eval.strategy=bogus", "tracking=off"],
     "eval.strategy=bogus: Invalid value 'bogus', expected one of [auto, logo"),
    (["model.C=abc", "tracking=off"], "model.C=abc: Value 'abc' of type 'str' could not be "
                                      "converted to Float"),
    (["model.family=bogus", "tracking=off"], "Invalid value 'bogus', expected one of [logreg"),
    (["eval.n_splits=1", "tracking=off"], "eval.n_splits: 1 is too small; give at least 2"),
    (["model.Cc=1", "tracking=off"], "Key 'Cc' not in 'ModelConfig'"),
    (["model.dual=yes", "tracking=off"], "model.dual: 'yes': use auto, true or false."),
    (["data=seeds", "data.tasks.0.labels=[a, a]", "tracking=off"],
     "labels ['a'] are repeated"),
    (["test=devset", "paths.shared=/nonexistent", "tracking=off"],
     "/nonexistent/devset/paragraphs.jsonl: no such file. Check test.path"),
], ids=["missing data path", "server without uri", "file store", "unknown strategy",
        "wrong type", "unknown family", "out of range", "typo in a key", "unknown solver",
        "repeated label", "no dev set"])
def test_config_mistakes_are_one_clear_line(tmp_path, args, message):
    code, out, err = run_cli("framing-train", *args, f"output.model_path={tmp_path / 'm.joblib'}",
                             f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2 and message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert not (tmp_path / "m.joblib").exists()
    if "test=devset" in args:  # says where the dev set comes from, and what else to do
        assert "read in place from the shared corpora" in err and "test=file" in err


def test_given_train_test_split_scores_the_test_split_only(cfg_factory, tmp_path):
    rows = [{"id": f"r{i}", "text": f"{'fine lovely good' if i % 2 else 'grim awful bad'} {i}",
             "y": "p" if i % 2 else "n", "part": "test" if i >= 40 else "train"}
            for i in range(50)]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    cfg = cfg_factory(["data=jsonl", f"data.path={path}", "data.split_column=part",
                       "features=ngrams", "codebook=none", "eval.n_boot=0",
                       "data.tasks=[{name: y, column: y, kind: multiclass, labels: [n, p]}]"])
    train(cfg)
    card = framing.load(cfg.output.model_path).card
    assert card["evaluation"]["strategy"] == "split"
    m = card["evaluation"]["metrics"]
    assert m["n_folds"] == 1 and m["n_records"] == 10 and m["y/accuracy"] == 1.0


@pytest.mark.slow
def test_optuna_sweep_when_the_optional_extra_is_installed(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    code, out, err = run_cli("framing-train", "-m", "experiment=sweep_optuna",
                             "hydra.sweeper.n_trials=3", "eval.n_boot=0", "tracking=off",
                             f"output.model_path={tmp_path / 'm.joblib'}",
                             f"hydra.sweep.dir={tmp_path / 'sw'}")
    assert code == 0, err[-2000:]
    assert "Best value:" in out + err
    assert len(list((tmp_path / "sw").glob("*/m.joblib"))) == 3


@pytest.mark.slow
def test_parallel_one_vs_rest_gives_the_same_model(cfg_factory):
    base = cfg_factory(["eval.n_boot=0"])
    train(base)
    one = framing.load(base.output.model_path).predict_proba(["Gas pipeline and terrorism."])
    par = cfg_factory(["eval.n_boot=0", "eval.ovr_n_jobs=2"])
    train(par)
    two = framing.load(par.output.model_path).predict_proba(["Gas pipeline and terrorism."])
    assert np.allclose(one["theme"], two["theme"])
