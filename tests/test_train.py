import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from experiments_table import seed_experiments

import framing
from framing.cli.train import train

from conftest import BENCHMARKS, ROOT, framing_copy, run_cli, run_copy, write_jsonl

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
        assert ("The dev set is not part of the framing package: it is read in place from "
                "the shared corpora, looked for in /nonexistent (paths.shared). Point "
                "framing at them with FRAMING_SHARED=/path/to/shared") in err
        assert "test=file test.path=FILE" in err


@pytest.mark.parametrize("layout", ["installed", "checkout"])
def test_the_shared_corpora_are_looked_for_beside_the_project_root(tmp_path, layout):
    # An installed package knows no clone: the dev set is looked for beside the folder the
    # command is started in; a source checkout looks beside the checkout, wherever the
    # command is started. Either way the error names the path and how to point at it.
    path_entry = framing_copy(tmp_path, layout)
    work = tmp_path / "work" / "empty"
    work.mkdir(parents=True)
    beside = tmp_path / ("work" if layout == "installed" else "") / "shared"
    origin = ("the folder the command was started in: framing runs from an installed "
              "package" if layout == "installed" else "the source checkout framing runs from")
    root = work if layout == "installed" else tmp_path / "clone"
    code, out, err = run_copy(path_entry, "framing-train", "test=devset", "tracking=off",
                              cwd=work)
    assert code == 2 and out == "" and "Traceback" not in err, err[-2000:]
    assert len(err.strip().splitlines()) == 1, err
    assert (f"{beside / 'devset' / 'paragraphs.jsonl'}: no such file. Check test.path. The "
            "dev set is not part of the framing package: it is read in place from the shared "
            f"corpora, looked for in {beside} (shared/ beside the project root {root}, "
            f"{origin}). Point framing at them with FRAMING_SHARED=/path/to/shared (or "
            "paths.shared=/path/to/shared); without them, score a labelled file of yours: "
            "test=file test.path=FILE.") in err
    assert not (work / "models").exists()
    # the benchmark corpora the same way, and FRAMING_SHARED is where both are then read
    code, _, err = run_copy(path_entry, "framing-train", "data=subj", "tracking=off", cwd=work)
    assert code == 2 and f"{beside / 'benchmarks' / 'subj' / 'all.jsonl'}: no such file" in err
    assert "The benchmark corpora are not part of the framing package" in err
    assert "FRAMING_BENCHMARKS=/path/to/benchmarks" in err
    mine = tmp_path / "corpora"
    (mine / "devset").mkdir(parents=True)
    (mine / "devset" / "paragraphs.jsonl").write_text("")
    code, _, err = run_copy(path_entry, "framing-train", "test=devset", "tracking=off",
                            cwd=work, env={"FRAMING_SHARED": str(mine)})
    assert code == 2 and f"{mine / 'devset' / 'paragraphs.jsonl'}: no records" in err
    code, out, _ = run_copy(path_entry, "framing", "info", cwd=work)
    assert code == 0 and f"project root: {root} ({origin})" in out
    assert (f"shared corpora (dev set, benchmarks; not part of the package): {beside} "
            "(not found: set FRAMING_SHARED to their folder)") in out


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


# -- where a model goes, and the model already there ---------------------------------------
# a quick model through an experiment (the model's name then carries it), not overrides
FAST = ["experiment=ngrams_only", "eval.n_boot=0", "eval.label_issues=off", "tracking=off"]
FRAME_TASK = "data.tasks=[{name: frame, labels: [conflict, economic, human]}]"


def frames(path, n=30, noisy=False):
    """A small corpus of frames; ``noisy``: every fourth text speaks of another frame."""
    names = ["conflict", "economic", "human"]
    rows = [{"id": f"f{i}", "outlet": f"o{i % 3}", "frame": names[i % 3],
             "text": f"{names[(i + (noisy and i % 4 == 0)) % 3]} words item {i}"}
            for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_jsonl(path, rows)


def in_folder(work, *args, home=None):
    """framing-train started in ``work`` (no $FRAMING_HOME unless ``home``); (code, output)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "FRAMING_HOME"}
    if home is not None:
        env["FRAMING_HOME"] = str(home)
    code, out, err = run_cli("framing-train", *args, f"hydra.run.dir={work / 'run'}",
                             cwd=work, env=env)
    return code, out + err


def written(out):
    """The line that says where the model went and what it did to the one there."""
    lines = [x.split(" - ", 1)[-1] for x in out.splitlines() if "model written to " in x]
    assert len(lines) == 1, out[-3000:]
    return lines[0]


def objective(path):
    return framing.load(path).card["evaluation"]["metrics"]["objective"]


def test_the_readmes_override_example_does_not_replace_the_default_model(trained, tmp_path):
    # make train wrote the default experiment's model; the README's next example must not
    # replace it: it gets a name of its own, printed with both objectives
    import hashlib
    import shutil

    work = tmp_path / "project"
    (work / "models").mkdir(parents=True)
    for src in trained[0].parent.iterdir():
        if src.is_file() and src.name.startswith("framing."):
            shutil.copy2(src, work / "models" / src.name)
    default = work / "models" / "framing.joblib"
    before = hashlib.sha256(default.read_bytes()).hexdigest()
    code, out = in_folder(work, "model=nbsvm", "features.word.ngram_range=[1,3]",
                          "eval.n_boot=0", "tracking=off", home=work)
    assert code == 0, out[-3000:]
    assert hashlib.sha256(default.read_bytes()).hexdigest() == before
    line = written(out)
    new = Path(line.split("model written to ")[1].split()[0])
    assert new.parent == work / "models" and re.fullmatch(r"framing-[0-9a-f]{8}\.joblib",
                                                          new.name)
    assert (f"(objective {objective(new):.4f}), named by its configuration (model=nbsvm "
            f"features.word.ngram_range=[1,3]); {default} (objective "
            f"{objective(default):.4f}) is not touched") in line
    assert f"model: {new}" in out and framing.load(new).card["model_path"] == str(new)
    config = framing.load(new).card["config"]
    assert config["model"]["nb_weight"] and config["features"]["word"]["ngram_range"] == [1, 3]


def test_other_data_under_the_same_name_is_written_beside_the_model(tmp_path, caplog):
    import logging

    import pandas as pd

    from framing.config.tree import compose

    caplog.set_level(logging.INFO, logger="framing")
    models = tmp_path / "models"
    full = frames(tmp_path / "frames.jsonl")
    small = frames(tmp_path / "small" / "frames.jsonl", n=21, noisy=True)  # same corpus name, fewer
    pd.read_json(full, lines=True).to_parquet(tmp_path / "frames.parquet")

    def run(*data):
        caplog.clear()
        train(compose([*FAST, f"paths.models={models}", FRAME_TASK, *data],
                      output_dir=tmp_path / "out"))
        return written("\n".join(caplog.messages))

    home = models / "frames-ngrams_only.joblib"
    assert run("data=jsonl", f"data.path={full}") == \
        f"model written to {home} (objective {objective(home):.4f})"
    first = objective(home)
    line = run("data=jsonl", f"data.path={small}")
    beside = Path(line.split("model written to ")[1].split()[0])
    assert beside.parent == models and beside != home
    assert framing.load(home).card["data"]["n_records"] == 30  # kept
    assert framing.load(beside).card["data"]["n_records"] == 21
    assert (f"(objective {objective(beside):.4f}); {home} holds a model of other data "
            f"(another content digest) (objective {first:.4f}) and is kept") in line
    # the same records as Parquet: the same model, replaced, and said so
    line = run("data=parquet", f"data.path={tmp_path / 'frames.parquet'}")
    assert line == (f"model written to {home} (objective {objective(home):.4f}); it replaces "
                    f"the model of the same configuration and data there (objective "
                    f"{first:.4f})")
    assert framing.load(home).card["data"]["source"].endswith("frames.parquet")


def test_a_path_the_user_names_is_replaced_and_says_what_it_replaced(tmp_path, caplog):
    import logging

    from framing.config.tree import compose

    caplog.set_level(logging.INFO, logger="framing")
    path = tmp_path / "m.joblib"
    data = ["data=jsonl", f"data.path={frames(tmp_path / 'frames.jsonl')}", FRAME_TASK,
            f"output.model_path={path}"]
    train(compose([*FAST, *data], output_dir=tmp_path / "out"))
    old = objective(path)
    caplog.clear()
    train(compose([*FAST, *data, "model.C=0.01"], output_dir=tmp_path / "out"))
    assert framing.load(path).card["config"]["model"]["C"] == 0.01
    assert written("\n".join(caplog.messages)) == (
        f"model written to {path} (objective {objective(path):.4f}); it replaces a model of "
        f"another configuration (model.C) (objective {old:.4f})")


def test_models_go_to_the_folder_the_command_is_run_from(tmp_path):
    # the annotation loop in a work folder: its model and label issues land there, where
    # the README's next command reads them, not in the project's models/
    work = tmp_path / "study"
    work.mkdir()
    (work / "gold.jsonl").write_bytes((ROOT / "seeds" / "paragraphs.jsonl").read_bytes())
    project_models = ROOT / "models"
    before = set(project_models.glob("gold*")) if project_models.is_dir() else set()
    try:
        code, out = in_folder(work, "data.path=gold.jsonl", "data.name=gold", "tracking=off",
                              "eval.n_boot=0")
        assert code == 0, out[-3000:]
        assert framing.load(work / "models" / "gold.joblib").card["data"]["name"] == "gold"
        r = subprocess.run(["head", "-n", "2", "models/gold.issues.jsonl"], cwd=work,
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.count("\n") == 2
        assert f"model: {work / 'models' / 'gold.joblib'}" in out
    finally:
        made = (set(project_models.glob("gold*")) if project_models.is_dir() else set()) - before
        for p in made:  # what a wrong placement left in the project
            p.unlink()
    assert not made
    # a relative output.model_path is read from the same folder, even when Hydra runs
    # the job in its own folder
    code, out = in_folder(work, *FAST, f"data.path={work / 'gold.jsonl'}",
                          "hydra.job.chdir=true", "output.model_path=out/m.joblib")
    assert code == 0, out[-3000:]
    assert framing.load(work / "out" / "m.joblib").tasks == ["theme", "tone"]
    assert not list((work / "run").rglob("*.joblib"))


@pytest.mark.parametrize("named", [True, False], ids=["output.model_path", "default path"])
def test_a_misspelt_task_column_is_reported_before_a_model_clash(tiny, tmp_path, named):
    import shutil

    work = tmp_path / "study"
    (work / "models").mkdir(parents=True)
    (work / "gold.jsonl").write_bytes((ROOT / "seeds" / "paragraphs.jsonl").read_bytes())
    target = work / ("m.joblib" if named else "models/gold.joblib")
    shutil.copy2(tiny, target)  # a model of another corpus and task set
    shutil.copy2(f"{tiny}.sha256", f"{target}.sha256")
    code, out = in_folder(work, "data.path=gold.jsonl", "data.name=gold", "tracking=off",
                          "data.tasks=[{name: tonne, kind: multiclass, labels: [promotional, "
                          "reportorial]}]", *([f"output.model_path={target}"] if named else []),
                          home=work)
    assert code == 2 and "no column 'tonne'" in out, out[-3000:]
    assert "Columns present: ['article', 'id', 'paragraph', 'text', 'theme', 'tone']" in out
    assert "holds a model" not in out and "Traceback" not in out
    assert framing.load(target).tasks == ["topic", "tags"]
