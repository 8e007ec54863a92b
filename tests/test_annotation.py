"""The annotation loop: agreement, adjudication, label issues, the queue, Label Studio
export and import, the simulated loop — figures checked by hand, one-line errors that
write nothing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import framing
from framing.annotate.agreement import agreement, disagreements, markdown, merge, read_annotations
from framing.annotate.records import guideline_tasks, parse_task
from framing.core.errors import FramingConfigError, FramingDataError
from framing.core.tasks import TaskSpec

from conftest import SEEDS, run_cli, write_jsonl

TONE = [TaskSpec("tone", kind="multiclass", labels=["promotional", "reportorial"])]
TASKS = [{"name": "theme", "kind": "multilabel",
          "labels": ["security", "economy", "diplomacy", "gaza"]},
         {"name": "tone", "labels": ["promotional", "reportorial"]}]


def seeds() -> list[dict]:
    return [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]


def units(n: int, articles: int = 2) -> list[dict]:
    return [{"id": f"u{i}", "article": f"a{i % articles}", "paragraph": i,
             "text": f"paragraph {i}"} for i in range(n)]


def annotator(path: Path, tones: str, **extra) -> Path:
    """A file of len(tones) units labelled P(romotional) or R(eportorial)."""
    rows = [{**u, "theme": [], "tone": {"P": "promotional", "R": "reportorial"}[c], **extra}
            for u, c in zip(units(len(tones)), tones, strict=True)]
    return write_jsonl(path, rows)


# -- agreement -------------------------------------------------------------------------------
def test_cohen_kappa_and_alpha_match_a_hand_computed_case(tmp_path):
    # 8 of 10 units agree; each annotator says promotional 5 times: p_o = 0.8, p_e = 0.5,
    # kappa = (0.8 - 0.5) / (1 - 0.5) = 0.6. Alpha (nominal): 20 values, 4 disagreeing
    # pairs, n_P = n_R = 10: 1 - 19 * 4 / (2 * 10 * 10) = 0.62.
    a = annotator(tmp_path / "a.jsonl", "PPPPPRRRRR")
    b = annotator(tmp_path / "b.jsonl", "PPPPRRRRRP")
    ann = read_annotations([a, b], TONE)
    row = agreement(ann, n_boot=0)[0]
    assert (row["agree"], row["n"]) == (8, 10)
    assert row["kappa"] == pytest.approx(0.6)
    assert row["alpha"] == pytest.approx(0.62)
    code, out, err = run_cli("framing", "agree", a, b, "--task",
                             "tone:multiclass:promotional,reportorial", "--json",
                             "--n-boot", "200")
    assert code == 0, err
    got = json.loads(out)
    assert got["annotators"] == ["a", "b"] and got["disagreements"] == 2
    (r,) = got["rows"]
    assert r["kappa"] == pytest.approx(0.6) and r["alpha"] == pytest.approx(0.62)
    lo, hi = r["kappa_ci"]
    assert lo <= 0.6 <= hi and lo >= -1 and hi <= 1


def test_three_annotators_get_krippendorffs_alpha(tmp_path):
    # Units: PPP, RRR, PPR, RRR. Coincidences: o_PP 4, o_RR 6, o_PR = o_RP 1; n_P 5, n_R 7,
    # n 12: alpha = 1 - 11 * 2 / (2 * 5 * 7) = 0.685714.
    files = [annotator(tmp_path / f"{n}.jsonl", t) for n, t in
             (("ann1", "PRPR"), ("ann2", "PRPR"), ("ann3", "PRRR"))]
    ann = read_annotations(files, TONE)
    row = agreement(ann, n_boot=0)[0]
    assert (row["agree"], row["n"]) == (3, 4)
    assert row["alpha"] == pytest.approx(1 - 22 / 70)
    code, out, err = run_cli("framing", "agree", *files, "--task",
                             "tone:promotional,reportorial", "--n-boot", "0")
    assert code == 0, err
    assert "3 annotators (ann1, ann2, ann3), 4 units in 2 articles" in out
    assert "mean pairwise kappa" in out and "0.69" in out


def test_the_datasheet_table_and_the_adjudication_round(tmp_path):
    gold = seeds()
    a = write_jsonl(tmp_path / "a.jsonl", gold)
    b_rows = [dict(r) for r in gold]
    b_rows[3] = {**b_rows[3], "theme": ["security", "diplomacy"]}     # was diplomacy
    b_rows[10] = {**b_rows[10], "tone": "reportorial"}                # was promotional
    b_rows[21] = {**b_rows[21], "theme": []}                          # was diplomacy
    b = write_jsonl(tmp_path / "b.jsonl", b_rows)
    out = tmp_path / "disagreements.jsonl"
    code, table, err = run_cli("framing", "agree", a, b, "--markdown", "--n-boot", "0",
                               "-o", out)
    assert code == 0, err
    assert table.splitlines() == [
        "| label | agreement | Cohen's kappa |", "| --- | --- | --- |",
        "| security | 54/55 | 0.96 |", "| economy | 55/55 | 1.00 |",
        "| diplomacy | 54/55 | 0.85 |", "| gaza | 55/55 | 1.00 |", "| tone | 54/55 | 0.96 |"]
    assert "3 of 55 units disagree" in err
    todo = [json.loads(x) for x in out.read_text().splitlines()]
    assert [t["id"] for t in todo] == [gold[i]["id"] for i in (3, 10, 21)]
    assert todo[1]["disagree"] == ["tone"] and todo[1]["adjudicated"] == {"tone": None}
    assert todo[0]["annotators"]["b"]["theme"] == ["security", "diplomacy"]
    # the adjudicator keeps a's theme of unit 3, b's tone of unit 10 and a's theme of 20
    todo[0]["adjudicated"]["theme"] = ["diplomacy"]
    todo[1]["adjudicated"]["tone"] = "reportorial"
    todo[2]["adjudicated"]["theme"] = ["diplomacy"]
    adjudicated = write_jsonl(tmp_path / "adjudicated.jsonl", todo)
    code, _, err = run_cli("framing", "adjudicate", adjudicated, a, b, "-o",
                           tmp_path / "gold.jsonl")
    assert code == 0, err
    merged = [json.loads(x) for x in (tmp_path / "gold.jsonl").read_text().splitlines()]
    expected = [dict(r) for r in gold]
    expected[10]["tone"] = "reportorial"
    assert merged == expected
    # the same in Python
    ann = read_annotations([a, b], guideline_tasks())
    assert len(disagreements(ann)) == 3 and merge(adjudicated, ann) == expected
    assert markdown(ann, agreement(ann, 0))[2] == "| security | 54/55 | 0.96 |"


@pytest.mark.parametrize("case, message", [
    ("only_here", "b.jsonl, line 3 (id 'extra'): id 'extra' is not in "),
    ("missing", "b.jsonl: 1 id(s) of "),
    ("text", "b.jsonl, line 2 (id 'u1'): its text differs from "),
    ("label", "b.jsonl, line 1 (id 'u0'): tone label 'neutral' is not in the label set "
              "['promotional', 'reportorial']"),
    ("theme", "b.jsonl, line 1 (id 'u0'): theme is 'gaza', not a list"),
])
def test_bad_annotator_files_are_one_line_errors_and_write_nothing(tmp_path, case, message):
    a = annotator(tmp_path / "a.jsonl", "PR")
    rows = [json.loads(x) for x in a.read_text().splitlines()]
    if case == "only_here":
        rows.append({**rows[0], "id": "extra"})
    elif case == "missing":
        rows = rows[:1]
    elif case == "text":
        rows[1]["text"] = "another paragraph"
    elif case == "label":
        rows[0]["tone"] = "neutral"
    else:
        rows[0]["theme"] = "gaza"
    b = write_jsonl(tmp_path / "b.jsonl", rows)
    out = tmp_path / "disagreements.jsonl"
    code, stdout, err = run_cli("framing", "agree", a, b, "-o", out)
    assert code == 2 and stdout == ""
    assert err.startswith(f"framing: error: {tmp_path / 'b.jsonl'}" if case != "only_here"
                          else "framing: error: ")
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl",
                                                                               "b.jsonl"]


def test_an_unfinished_adjudication_is_refused_and_writes_nothing(tmp_path):
    a = annotator(tmp_path / "a.jsonl", "PR")
    b = annotator(tmp_path / "b.jsonl", "RR")
    out = tmp_path / "d.jsonl"
    assert run_cli("framing", "agree", a, b, "-o", out, "--n-boot", "0")[0] == 0
    code, _, err = run_cli("framing", "adjudicate", out, a, b, "-o", tmp_path / "gold.jsonl")
    assert code == 2
    assert err.strip() == (f"framing: error: {out}, line 1 (id 'u0'): adjudicated tone is "
                           "still empty. Fill it with the label(s) the guidelines give, then "
                           "merge again.")
    assert not (tmp_path / "gold.jsonl").exists()
    rec = json.loads(out.read_text())
    rec["adjudicated"]["tone"] = "critical"
    write_jsonl(out, [rec])
    code, _, err = run_cli("framing", "adjudicate", out, a, b, "-o", tmp_path / "gold.jsonl")
    assert code == 2 and "adjudicated tone label 'critical' is not in the label set" in err
    assert not (tmp_path / "gold.jsonl").exists()


def test_task_specs():
    t = parse_task("theme:multilabel:security,economy")
    assert (t.name, t.kind, t.labels) == ("theme", "multilabel", ["security", "economy"])
    assert parse_task("tone:promotional,reportorial").kind == "multiclass"
    with pytest.raises(FramingConfigError, match="write NAME:KIND:LABEL"):
        parse_task("tone:single:a,b")
    code, _, err = run_cli("framing", "agree", "a.jsonl", "b.jsonl", "--task", "tone")
    assert code == 2 and "framing: error: --task 'tone': write NAME:KIND:LABEL" in err
    from framing.annotate.records import tasks_from_config

    from conftest import ROOT

    got = tasks_from_config(ROOT / "conf" / "data" / "seeds.yaml")
    assert [(t.name, t.kind, t.labels) for t in got] == \
        [(t.name, t.kind, t.labels) for t in guideline_tasks()]


# -- label issues ----------------------------------------------------------------------------
WORDS = {"conflict": "clash troops fighting border attack",
         "economic": "trade prices market investment budget",
         "human": "families children story grief community"}


def frames_corpus(n: int = 60) -> list[dict]:
    """Six articles; the frame (and the topic) follow the words."""
    rows = []
    frames = list(WORDS)
    for i in range(n):
        f = frames[i % 3]
        rows.append({"id": f"f{i:02d}", "article": f"art{i * 6 // n}", "frame": f,
                     "topics": {"human": ["health"], "economic": ["money"]}.get(f, []),
                     "text": f"{WORDS[f]} report {i}."})
    return rows


FLIPPED = {"f04": ("frame", "conflict"), "f17": ("frame", "conflict"),
           "f31": ("frame", "human"), "f45": ("topics", ["health"])}
FRAME_TASKS = [{"name": "frame", "labels": ["conflict", "economic", "human"]},
               {"name": "topics", "kind": "multilabel", "labels": ["health", "money"]}]


def flipped_corpus() -> list[dict]:
    rows = frames_corpus()
    for r in rows:
        if r["id"] in FLIPPED:
            task, value = FLIPPED[r["id"]]
            assert r[task] != value
            r[task] = value
    return rows


@pytest.mark.parametrize("method", ["confident_learning", "cleanlab"])
def test_flipped_labels_rank_first(method):
    if method == "cleanlab":
        pytest.importorskip("cleanlab", reason="cleanlab is an optional extra "
                            "(pip install 'framing[issues]'); the built-in method is tested")
    _, report = framing.fit(flipped_corpus(), tasks=FRAME_TASKS, group_column="article",
                            overrides=["features=ngrams", "codebook=none", "eval.n_boot=0",
                                       f"eval.label_issues={method}"])
    issues = report.issues
    assert sorted(r["id"] for r in issues) == sorted(FLIPPED)  # exactly the flipped
    assert [r["rank"] for r in issues] == list(range(1, len(issues) + 1))
    assert [r["quality"] for r in issues] == sorted(r["quality"] for r in issues)
    top = {r["id"]: r for r in issues[:4]}
    assert top["f04"]["given"] == "conflict" and top["f04"]["suggested"] == "economic"
    assert top["f45"]["given"] == ["health"] and top["f45"]["suggested"] == []
    assert top["f45"]["suspect"] == ["health"] and top["f45"]["article"] == "art4"
    assert all(r["quality"] < 0.5 for r in issues[:4])
    m = report.metrics  # per label: the given label in question
    assert {k: v for k, v in m.items() if k.startswith("issues/")} == {
        "issues/frame/conflict": 2, "issues/frame/economic": 0, "issues/frame/human": 1,
        "issues/topics/health": 1, "issues/topics/money": 0, "issues/total": 4}


def test_flipped_seed_labels_rank_near_the_top():
    rows = seeds()
    flips = {}
    for i in (5, 16, 27, 38, 49):  # every eleventh unit: tone, theme in turn
        r = rows[i]
        if i % 2:
            r["tone"] = "reportorial" if r["tone"] == "promotional" else "promotional"
            flips[r["id"]] = "tone"
        else:
            r["theme"] = [x for x in r["theme"] if x != "diplomacy"] \
                if "diplomacy" in r["theme"] else [*r["theme"], "diplomacy"]
            flips[r["id"]] = "theme"
    _, report = framing.fit(rows, tasks=TASKS, group_column="article",
                            overrides=["eval.n_boot=0"])
    ranks = {(r["id"], r["task"]): r["rank"] for r in report.issues}
    found = sorted(ranks.get((rid, task), 999) for rid, task in flips.items())
    # 110 decisions of which 5 flipped: 19 issues; 3 of the flips among the first 6 (the
    # default model chooses per label from the data: ranks 1, 5, 6), a
    # fourth at 18 (a flipped tone); the fifth, 004's headline without diplomacy, is
    # not found: three units of 004 lack diplomacy in the gold labels too
    assert found == [1, 5, 6, 18, 999], found
    assert len(report.issues) == 19


def test_training_writes_label_issues_to_mlflow_and_beside_the_model(tmp_path, cfg_factory):
    from mlflow.tracking import MlflowClient

    from framing.cli.train import train

    data = write_jsonl(tmp_path / "frames.jsonl", flipped_corpus())
    cfg = cfg_factory(["data=jsonl", f"data.path={data}", "data.group_column=article",
                       "data.tasks=[{name: frame, labels: [conflict, economic, human]}, "
                       "{name: topics, kind: multilabel, labels: [health, money]}]",
                       "features=ngrams", "codebook=none", "eval.n_boot=0"],
                      tracking="sqlite")
    train(cfg)
    review = tmp_path / "models" / "framing.issues.jsonl"
    issues = [json.loads(x) for x in review.read_text().splitlines()]
    assert {r["id"] for r in issues[:4]} == set(FLIPPED)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("framing/frames").experiment_id],
                                "tags.`framing.role` = 'model'")
    assert run.data.metrics["issues/total"] == len(issues)
    assert run.data.metrics["issues/topics/health"] >= 1
    local = client.download_artifacts(run.info.run_id, "label_issues.jsonl", str(tmp_path))
    assert Path(local).read_text() == review.read_text()


def test_cleanlab_chosen_but_absent_is_one_line(cfg_factory, monkeypatch):
    import sys

    from framing.pipeline.trainer import Trainer

    monkeypatch.setitem(sys.modules, "cleanlab", None)  # as if not installed
    with pytest.raises(FramingConfigError, match=r"pip install 'framing\[issues\]'"):
        Trainer(cfg_factory(["eval.label_issues=cleanlab"]))


# -- the queue -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_model(tmp_path_factory):
    """A model of the seeds' first three articles (default features: the codebook too)."""
    rows = [r for r in seeds() if r["article"][:3] in ("000", "001", "004")]
    model, _ = framing.fit(rows, tasks=TASKS, group_column="article",
                           overrides=["eval.n_boot=0", "eval.label_issues=off"])
    return model.save(tmp_path_factory.mktemp("seedmodel") / "seeds3.joblib")


@pytest.fixture
def pool(tmp_path):
    code, _, err = run_cli("framing", "segment", *sorted(SEEDS.glob("00[23]_*.txt")), "-o",
                           tmp_path / "pool.jsonl")
    assert code == 0, err
    return tmp_path / "pool.jsonl"


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.mark.parametrize("strategy", ["uncertainty", "disagreement", "diverse", "random"])
def test_the_queue_respects_n_and_the_per_article_cap(seed_model, pool, tmp_path, strategy):
    article = sorted(SEEDS.glob("004_*.txt"))[0]
    out = tmp_path / "queue.jsonl"
    code, _, err = run_cli("framing", "queue", seed_model, pool, article, "-n", "7",
                           "--strategy", strategy, "--per-article", "3", "-o", out)
    assert code == 0, err
    q = read(out)
    assert len(q) == 7 and [r["rank"] for r in q] == list(range(1, 8))
    per = {a: sum(r["article"] == a for r in q) for a in {r["article"] for r in q}}
    assert max(per.values()) <= 3 and len(per) == 3  # three articles, at most 3 each
    assert len({r["id"] for r in q}) == 7
    for r in q:
        assert list(r)[:6] == ["id", "article", "paragraph", "text", "theme", "tone"]
        assert r["theme"] == [] and r["tone"] is None
        assert r["model_guess"]["tone"] in ("promotional", "reportorial")
        assert r["reason"].startswith({"uncertainty": "uncertain", "random": "random",
                                       "diverse": "diverse", "disagreement": ""}[strategy])
    assert f"queued 7 of 37 units ({strategy}, at most 3 per article)" in err
    if strategy == "uncertainty":  # closest to a decision first
        model = framing.load(seed_model)
        from framing.annotate.selection import margins

        texts = [r["text"] for r in q]
        dist, _ = margins(model, model.scores(texts))
        assert list(dist) == sorted(dist)


def test_the_queue_leaves_out_labelled_ids_and_stops_at_the_cap(seed_model, pool, tmp_path):
    first = read(pool)[:5]
    labelled = write_jsonl(tmp_path / "gold.jsonl", first)
    code, out, err = run_cli("framing", "queue", seed_model, pool, "-n", "50",
                             "--per-article", "2", "--exclude", labelled)
    assert code == 0, err
    q = [json.loads(x) for x in out.splitlines()]
    assert len(q) == 4  # two articles, at most two each
    assert not {r["id"] for r in q} & {r["id"] for r in first}


@pytest.mark.parametrize("args, message", [
    (["-n", "0"], "argument -n: 0 is too small; give 1 or more"),
    (["--strategy", "greedy"], "argument --strategy: invalid choice: 'greedy'"),
    (["--per-article", "0"], "argument --per-article: 0 is too small"),
])
def test_bad_queue_arguments(seed_model, pool, tmp_path, args, message):
    out = tmp_path / "q.jsonl"
    code, _, err = run_cli("framing", "queue", seed_model, pool, *args, "-o", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_disagreement_needs_a_codebook(tiny, tmp_path):
    pool = write_jsonl(tmp_path / "p.jsonl", [{"id": "x", "text": "match goal team"}])
    out = tmp_path / "q.jsonl"
    code, _, err = run_cli("framing", "queue", tiny, pool, "--strategy", "disagreement",
                           "-o", out)
    assert code == 2 and not out.exists()
    assert err.strip() == ("framing: error: the model has no codebook for its tasks' labels, "
                           "so there are no rules to disagree with; use --strategy "
                           "uncertainty or diverse.")


# -- Label Studio --------------------------------------------------------------------------
def test_export_then_import_round_trips(seed_model, pool, tmp_path):
    q = tmp_path / "queue.jsonl"
    assert run_cli("framing", "queue", seed_model, pool, "-n", "5", "-o", q)[0] == 0
    tasks_json, config = tmp_path / "tasks.json", tmp_path / "labeling.xml"
    code, _, err = run_cli("framing", "export", "labelstudio", q, "--model", seed_model,
                           "-o", tasks_json, "--config", config)
    assert code == 0, err
    assert "5 Label Studio tasks (5 with pre-annotations)" in err
    view = ET.fromstring(config.read_text())
    controls = {c.get("name"): c for c in view.iter("Choices")}
    assert controls["theme"].get("choice") == "multiple"
    assert controls["tone"].get("choice") == "single-radio"
    assert [c.get("value") for c in controls["theme"]] == TASKS[0]["labels"]
    assert view.find("Text").get("name") == "text"
    tasks = json.loads(tasks_json.read_text())
    queue = read(q)
    for t, rec in zip(tasks, queue, strict=True):
        assert t["data"]["id"] == rec["id"] and t["data"]["text"] == rec["text"]
        (pred,) = t["predictions"]
        got = {r["from_name"]: r["value"]["choices"] for r in pred["result"]}
        assert got.get("theme", []) == rec["model_guess"]["theme"]
        assert got["tone"] == [rec["model_guess"]["tone"]]
        assert all(r["to_name"] == "text" and r["type"] == "choices" for r in pred["result"])
        assert 0.5 <= pred["score"] <= 1
    # Label Studio's export: the annotator accepted the guesses, but changed one tone
    export = []
    for k, t in enumerate(tasks, 1):
        result = [dict(r) for r in t["predictions"][0]["result"]]
        export.append({"id": k, "data": t["data"], "predictions": [],
                       "annotations": [{"id": k, "completed_by": 7, "was_cancelled": False,
                                        "result": result}]})
    tone = next(r for r in export[0]["annotations"][0]["result"] if r["from_name"] == "tone")
    flipped = "reportorial" if tone["value"]["choices"] == ["promotional"] else "promotional"
    tone["value"] = {"choices": [flipped]}
    (tmp_path / "export.json").write_text(json.dumps(export))
    code, _, err = run_cli("framing", "import", "labelstudio", tmp_path / "export.json",
                           "-o", tmp_path / "labelled.jsonl")
    assert code == 0, err
    back = read(tmp_path / "labelled.jsonl")
    assert [r["id"] for r in back] == [r["id"] for r in queue]
    assert back[0]["tone"] == flipped
    for b, rec in zip(back[1:], queue[1:], strict=True):
        assert (b["theme"], b["tone"]) == (rec["model_guess"]["theme"],
                                           rec["model_guess"]["tone"])
        assert b["text"] == rec["text"] and b["article"] == rec["article"]
    # and the imported file is an annotator's file for framing agree
    assert run_cli("framing", "agree", tmp_path / "labelled.jsonl",
                   tmp_path / "labelled.jsonl", "--n-boot", "0")[0] == 0


def ls_task(k, rid="u0", result=None, **annotation):
    result = result if result is not None else [
        {"from_name": "tone", "to_name": "text", "type": "choices",
         "value": {"choices": ["reportorial"]}}]
    return {"id": k, "data": {"id": rid, "text": "a paragraph"},
            "annotations": [{"completed_by": 1, "result": result, **annotation}]}


@pytest.mark.parametrize("export, message", [
    ([{"id": 1, "data": {"text": "x"}, "annotations": []}],
     "export.json, task 1: no data.id, so the unit cannot be matched."),
    ([{"id": 1, "data": {"id": "u0", "text": "x"}, "annotations": []}],
     "export.json, task 1 (id 'u0'): no annotation. Finish it in Label Studio, or pass "
     "--skip-unannotated"),
    ([ls_task(1, result=[{"from_name": "tone", "to_name": "text", "type": "choices",
                          "value": {"choices": ["neutral"]}}])],
     "export.json, task 1 (id 'u0'): tone label 'neutral' is not in the label set"),
    ([ls_task(1, result=[{"from_name": "theme", "to_name": "text", "type": "choices",
                          "value": {"choices": ["sport"]}}])],
     "export.json, task 1 (id 'u0'): theme label 'sport' is not in the label set"),
    ([ls_task(1, result=[])],
     "export.json, task 1 (id 'u0'): tone has no label; it needs exactly one of"),
    ([ls_task(1), ls_task(2)], "export.json, task 2 (id 'u0'): id 'u0' again (first in task 1)"),
    ({"tasks": []}, "export.json: a JSON dict, not a list of tasks."),
])
def test_bad_label_studio_exports(tmp_path, export, message):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    out = tmp_path / "labelled.jsonl"
    code, _, err = run_cli("framing", "import", "labelstudio", path, "-o", out)
    assert code == 2 and not out.exists()
    assert err.startswith(f"framing: error: {path}") and message.split(": ", 1)[1] in err
    assert len(err.strip().splitlines()) == 1


def test_several_annotators_and_unannotated_tasks(tmp_path):
    two = ls_task(1)
    two["annotations"].append({"completed_by": 2, "result": [
        {"from_name": "tone", "to_name": "text", "type": "choices",
         "value": {"choices": ["promotional"]}}]})
    path = tmp_path / "export.json"
    path.write_text(json.dumps([two, {"id": 2, "data": {"id": "u1", "text": "b"},
                                      "annotations": [{"was_cancelled": True, "result": []}]}]))
    code, _, err = run_cli("framing", "import", "labelstudio", path)
    assert code == 2 and "2 annotations (annotators 1, 2). Import one annotator at a time " \
        "with --annotator ID." in err
    code, out, err = run_cli("framing", "import", "labelstudio", path, "--annotator", "2",
                             "--skip-unannotated")
    assert code == 0, err
    assert [json.loads(x) for x in out.splitlines()] == [
        {"id": "u0", "text": "a paragraph", "theme": [], "tone": "promotional"}]
    assert "1 labelled units from" in err and "1 unannotated tasks left out" in err


# -- the simulated loop --------------------------------------------------------------------
def test_the_simulation_is_deterministic_and_logged(tmp_path):
    data = write_jsonl(tmp_path / "frames.jsonl", frames_corpus(36))
    args = ["framing", "simulate", "data=jsonl", f"data.path={data}",
            "data.group_column=article",
            "data.tasks=[{name: frame, labels: [conflict, economic, human]}]",
            "features=ngrams", "codebook=none", "model=logreg", "--strategies",
            "uncertainty,diverse,random", "--batch", "6", "--max-starts", "1",
            "--random-repeats", "2"]
    code, out, err = run_cli(*args, "-o", tmp_path / "c1.json", "--plot", tmp_path / "c.png",
                             "--mlflow", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert code == 0, err
    curve = json.loads((tmp_path / "c1.json").read_text())
    # six articles of six units: start 2 (12 units), pool 3 articles (18 units): 3 batches
    assert curve["steps"] == [0, 1, 2, 3]
    assert curve["labelled"] == [12.0, 18.0, 24.0, 30.0]
    assert curve["settings"]["rotations"] == 6
    first = {s: rows[0]["macro_f1"] for s, rows in curve["scores"].items()}
    assert len(set(first.values())) == 1  # all start from the same model
    last = {s: rows[-1]["macro_f1"] for s, rows in curve["scores"].items()}
    assert len(set(last.values())) == 1  # and end with the whole pool labelled
    lines = out.splitlines()
    assert lines[0].split() == ["batches", "labelled", "uncertainty", "diverse", "random"]
    assert len(lines) == 1 + 4 + 2
    png = (tmp_path / "c.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 300_000
    # deterministic: the same curve again, here in Python
    from framing.annotate.simulate import simulate
    from framing.config.tree import compose, settings
    from framing.data.corpus import load_corpus
    from framing.learn.fitting import Fitter

    cfg = settings(compose([*args[2:8], "eval.thresholds=fixed", "tracking=off"]))
    again = simulate(load_corpus(cfg.data), Fitter.from_config(cfg), ["uncertainty"],
                     batch=6, max_starts=1)
    assert again.scores["uncertainty"] == curve["scores"]["uncertainty"]
    assert again.labelled == curve["labelled"]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("framing-simulate")
                                 .experiment_id])
    hist = client.get_metric_history(run.info.run_id, "uncertainty/macro_f1")
    assert [m.step for m in hist] == [0, 1, 2, 3]
    assert [m.value for m in hist] == pytest.approx(
        [r["macro_f1"] for r in curve["scores"]["uncertainty"]])
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"c.png", "learning_curve.json", "learning_curve.txt"} <= names


def test_the_simulation_refuses_a_corpus_without_articles(tmp_path):
    data = write_jsonl(tmp_path / "f.jsonl", frames_corpus(12))
    code, out, err = run_cli("framing", "simulate", "data=jsonl", f"data.path={data}",
                             "data.tasks=[{name: frame, labels: [conflict, economic, human]}]",
                             "features=ngrams", "codebook=none", "--plot", tmp_path / "x.png")
    assert code == 2 and not (tmp_path / "x.png").exists()
    assert "no group column, so there are no articles" in err


def test_margins_and_selection_in_python(seed_model):
    from framing.annotate.selection import select

    model = framing.load(seed_model)
    texts = [r["text"] for r in seeds()[:20]]  # 13 units of 000, 5 of 001, 2 of 002
    arts = [r["article"] for r in seeds()[:20]]
    picks = select(model, texts, arts, 8, "uncertainty", per_article=3)
    assert len(picks) == 8 and sorted(Counter(arts[p.index] for p in picks).values()) == [2, 3, 3]
    with pytest.raises(FramingDataError, match="strategy 'x'"):
        select(model, texts, arts, 5, "x")
    assert np.all(np.diff([p.key for p in picks]) >= 0)


def test_a_task_of_three_labels_gets_a_row_per_label_and_a_data_config(tmp_path):
    cfg = tmp_path / "frames.yaml"
    cfg.write_text("source: jsonl\npath: x.jsonl\ntasks:\n"
                   "  - {name: frame, labels: [conflict, economic, human]}\n")
    rows = [{"id": f"u{i}", "article": "a", "text": f"t{i}", "frame": f}
            for i, f in enumerate(["conflict", "economic", "human", "human"])]
    a = write_jsonl(tmp_path / "a.jsonl", rows)
    b = write_jsonl(tmp_path / "b.jsonl", [{**r, "frame": "conflict"} if r["id"] == "u3"
                                           else r for r in rows])
    code, out, err = run_cli("framing", "agree", a, b, "--data-config", cfg, "--json",
                             "--n-boot", "0")
    assert code == 0, err
    got = {r["label"]: (r["agree"], r["n"]) for r in json.loads(out)["rows"]}
    assert got == {None: (3, 4), "conflict": (3, 4), "economic": (4, 4), "human": (3, 4)}


def test_an_undefined_kappa_is_shown_as_such(tmp_path):
    # both annotators say reportorial throughout: agreement 3/3, kappa and alpha undefined
    a = annotator(tmp_path / "a.jsonl", "RRR")
    b = annotator(tmp_path / "b.jsonl", "RRR")
    code, out, err = run_cli("framing", "agree", a, b, "--json", "--n-boot", "50")
    assert code == 0, err
    tone = next(r for r in json.loads(out)["rows"] if r["task"] == "tone")
    assert (tone["agree"], tone["kappa"], tone["alpha"]) == (3, None, None)
    code, out, err = run_cli("framing", "agree", a, b, "--n-boot", "0")
    tone_line = next(x for x in out.splitlines() if x.startswith("tone "))
    assert tone_line.split() == ["tone", "(all)", "3/3", "—", "—"]


# -- a model of one's own labels through the queue and the export -----------------------------
OWN_WORDS = {"policy": "ministry regulation parliament bill", "science": "laboratory study "
             "researchers experiment", "economy": "inflation market prices trade"}


@pytest.fixture(scope="module")
def own_model(tmp_path_factory):
    """A model of a CSV corpus of one's own tasks: frame (one of policy, science,
    economy) and topics (any of health, crime)."""
    import csv

    tmp = tmp_path_factory.mktemp("own")
    with open(tmp / "frames.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "text", "frame", "topics"])
        for i in range(36):
            frame = list(OWN_WORDS)[i % 3]
            out.writerow([f"c{i}", f"{OWN_WORDS[frame]} note {i}", frame,
                          ["health", "crime", "health|crime"][i % 3]])
    code, _, err = run_cli(
        "framing-train", "data=csv", f"data.path={tmp / 'frames.csv'}",
        "data.tasks=[{name: frame, labels: [policy, science, economy]}, {name: topics, "
        "kind: multilabel, labels: [health, crime], separator: '|'}]", "features=ngrams",
        "eval.n_boot=0", "eval.label_issues=off", "tracking=off",
        f"output.model_path={tmp / 'own.joblib'}", f"hydra.run.dir={tmp / 'run'}")
    assert code == 0, err[-2000:]
    pool = write_jsonl(tmp / "pool.jsonl", [
        {"id": f"p{i}", "article": f"a{i % 2}", "text": f"{words} item {i}"}
        for i, words in enumerate(list(OWN_WORDS.values()) * 2)])
    return tmp / "own.joblib", pool


def test_the_export_of_a_queue_offers_the_queues_own_tasks(own_model, tmp_path):
    model_path, pool = own_model
    q = tmp_path / "q.jsonl"
    code, _, err = run_cli("framing", "queue", model_path, pool, "-n", "4", "-o", q)
    assert code == 0, err
    queue = read(q)
    assert all(r["task_set"] == [
        {"name": "frame", "kind": "multiclass", "labels": ["policy", "science", "economy"]},
        {"name": "topics", "kind": "multilabel", "labels": ["health", "crime"]}]
        for r in queue)
    tasks_json, config = tmp_path / "t.json", tmp_path / "l.xml"
    code, _, err = run_cli("framing", "export", "labelstudio", q, "-o", tasks_json,
                           "--config", config)
    assert code == 0, err
    assert "4 Label Studio tasks (4 with pre-annotations) of frame, topics" in err
    view = ET.fromstring(config.read_text())
    controls = {c.get("name"): c for c in view.iter("Choices")}
    assert list(controls) == ["frame", "topics"]
    assert controls["frame"].get("choice") == "single-radio"
    assert controls["topics"].get("choice") == "multiple"
    assert [c.get("value") for c in controls["frame"]] == ["policy", "science", "economy"]
    assert [c.get("value") for c in controls["topics"]] == ["health", "crime"]
    for t, rec in zip(json.loads(tasks_json.read_text()), queue, strict=True):
        (pred,) = t["predictions"]
        got = {r["from_name"]: r["value"]["choices"] for r in pred["result"]}
        assert got["frame"] == [rec["model_guess"]["frame"]]
        assert got.get("topics", []) == rec["model_guess"]["topics"]
        assert 0.5 <= pred["score"] <= 1
    # the count says how many tasks do carry a pre-annotation
    some = [{k: v for k, v in r.items() if k != "model_guess" or i % 2} for i, r in
            enumerate(queue)]
    code, _, err = run_cli("framing", "export", "labelstudio", write_jsonl(tmp_path / "s.jsonl",
                                                                          some))
    assert code == 0 and "4 Label Studio tasks (2 with pre-annotations) of frame, topics" in err


def test_an_old_queue_without_its_task_set_is_refused(own_model, tmp_path):
    model_path, pool = own_model
    q = tmp_path / "q.jsonl"
    assert run_cli("framing", "queue", model_path, pool, "-n", "3", "-o", q)[0] == 0
    old = write_jsonl(tmp_path / "old.jsonl", [{k: v for k, v in r.items() if k != "task_set"}
                                               for r in read(q)])
    tasks_json, config = tmp_path / "t.json", tmp_path / "l.xml"
    code, _, err = run_cli("framing", "export", "labelstudio", old, "-o", tasks_json,
                           "--config", config)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"framing: error: {old}, line 1: a model's guess but no task_set")
    assert "Run framing queue again, or give the model with --model" in err
    assert not tasks_json.exists() and not config.exists()
    # with --model it is the model's tasks, predicted afresh
    code, _, err = run_cli("framing", "export", "labelstudio", old, "--model", model_path,
                           "-o", tasks_json, "--config", config)
    assert code == 0 and "3 Label Studio tasks (3 with pre-annotations) of frame, topics" in err
    # queues of two task sets in one file
    mixed = read(q)
    mixed[1]["task_set"] = mixed[1]["task_set"][:1]
    code, _, err = run_cli("framing", "export", "labelstudio",
                           write_jsonl(tmp_path / "mixed.jsonl", mixed))
    assert code == 2 and "mixed.jsonl, line 2 (id " in err and "differs from line 1's" in err
    # units with neither a task set nor guesses: the guidelines' tasks, and it says so
    code, _, err = run_cli("framing", "export", "labelstudio", pool)
    assert code == 0 and "names no tasks; the tasks are the guidelines' theme and tone" in err
    assert "(0 with pre-annotations) of theme, tone" in err


# -- agreement from ids and labels, the units in a file of their own --------------------------
def datasheet_rows() -> set[str]:
    """The agreement table of the seed datasheet (seeds/README.md), as printed there."""
    text = (SEEDS / "README.md").read_text()
    table = text.split("| label | agreement | Cohen's kappa |")[1].split("\n\n")[0]
    return {line for line in table.splitlines()[2:] if line.startswith("|")}


def test_agreement_of_ids_and_labels_with_a_units_file_reproduces_the_seed_datasheet(
        tmp_path):
    # The annotators' own files are not kept (only the adjudicated gold), so this builds
    # a pair the datasheet describes: annotator a as the gold labels, b differing where
    # the datasheet counts disagreements (security 4, economy 3, diplomacy 3).
    gold = seeds()
    labels = TASKS[0]["labels"]
    b = [{"id": r["id"], "theme": list(r["theme"]), "tone": r["tone"]} for r in gold]

    def flip(label, had, k):
        for i in [i for i, r in enumerate(gold) if (label in r["theme"]) == had][:k]:
            b[i]["theme"] = [x for x in labels if (x in b[i]["theme"]) != (x == label)]
    flip("security", True, 2)
    flip("security", False, 2)
    flip("economy", True, 3)
    flip("diplomacy", True, 3)
    a_file = write_jsonl(tmp_path / "a.jsonl", [{"id": r["id"], "theme": r["theme"],
                                                 "tone": r["tone"]} for r in gold])
    b_file = write_jsonl(tmp_path / "b.jsonl", b)
    units = tmp_path / "units.csv"
    with units.open("w", newline="", encoding="utf-8") as f:
        import csv

        out = csv.writer(f)
        out.writerow(["id", "article", "paragraph", "text"])
        out.writerows([r["id"], r["article"], r["paragraph"], r["text"]] for r in gold)
    code, table, err = run_cli("framing", "agree", a_file, b_file, "--units", units,
                               "--markdown", "--n-boot", "0")
    assert code == 0, err
    printed = table.splitlines()
    assert printed[:2] == ["| label | agreement | Cohen's kappa |", "| --- | --- | --- |"]
    assert set(printed[2:]) == datasheet_rows() and len(printed) == 7
    # the same units as JSON lines, grouped by "group"; the articles are resampled
    jl = write_jsonl(tmp_path / "units.jsonl", [{"id": r["id"], "group": r["article"],
                                                 "text": r["text"]} for r in gold])
    code, out, err = run_cli("framing", "agree", a_file, b_file, "--units", jl, "--json",
                             "--n-boot", "50", "-o", tmp_path / "todo.jsonl")
    assert code == 0, err
    got = json.loads(out)
    differ = sum(r["theme"] != x["theme"] for r, x in zip(gold, b, strict=True))
    assert got["units"] == 55 and got["articles"] == 5 and got["disagreements"] == differ
    todo = read(tmp_path / "todo.jsonl")
    assert all(t["text"] == gold[[r["id"] for r in gold].index(t["id"])]["text"]
               for t in todo)
    # adjudicated as the gold has it, the merge gives back the gold file
    for t in todo:
        t["adjudicated"] = {k: next(r for r in gold if r["id"] == t["id"])[k]
                            for k in t["adjudicated"]}
    adj = write_jsonl(tmp_path / "adjudicated.jsonl", todo)
    code, _, err = run_cli("framing", "adjudicate", adj, a_file, b_file, "--units", units,
                           "-o", tmp_path / "gold.jsonl")
    assert code == 0, err
    assert read(tmp_path / "gold.jsonl") == gold
    # without the units file the records lack their text, and the error says where it is
    code, _, err = run_cli("framing", "agree", a_file, b_file, "--n-boot", "0")
    assert code == 2 and f"{a_file}, line 1: no text. Pass --units UNITS.jsonl" in err


@pytest.mark.parametrize("command", ["agree", "adjudicate"])
def test_ids_and_labels_without_a_units_file_say_to_pass_it(tmp_path, command):
    labels = [{"id": u["id"], "theme": [], "tone": "reportorial"} for u in units(3)]
    files = [write_jsonl(tmp_path / "a.jsonl", labels), write_jsonl(tmp_path / "b.jsonl", labels)]
    adjudicated = write_jsonl(tmp_path / "todo.jsonl", [])
    out = tmp_path / "gold.jsonl"
    args = [adjudicated, *files] if command == "adjudicate" else [*files, "--n-boot", "0"]
    code, stdout, err = run_cli("framing", command, *args, "-o", out)
    assert code == 2 and stdout == "" and "Traceback" not in err
    assert err.strip() == (
        f"framing: error: {files[0]}, line 1: no text. Pass --units UNITS.jsonl, the file of "
        "units the annotators labelled (it gives each id its text and article), or add a "
        "\"text\" field to every record.")
    assert not out.exists()
    # with the units file the same records are read
    unit_file = write_jsonl(tmp_path / "units.jsonl", units(3))
    code, _, err = run_cli("framing", command, *args, "--units", unit_file, "-o", out)
    assert code == 0, err
    assert [r["text"] for r in read(out)] == (
        [u["text"] for u in units(3)] if command == "adjudicate" else [])


@pytest.mark.parametrize("case, message", [
    ("unknown", "b.jsonl, line 2 (id 'u9'): id 'u9' is not in the units file "),
    ("twice", "units.jsonl, line 2 (id 'u0'): id 'u0' again (first on line 1). Ids must "
              "be unique in the units file."),
    ("text", "b.jsonl, line 1 (id 'u0'): its text differs from the units file "),
])
def test_a_units_file_that_does_not_fit_is_one_line(tmp_path, case, message):
    us = units(3)
    a = [{"id": u["id"], "theme": [], "tone": "reportorial"} for u in us]
    b = [dict(r) for r in a]
    if case == "unknown":
        b[1]["id"] = "u9"
    if case == "twice":
        us[1]["id"] = "u0"
    if case == "text":
        b[0]["text"] = "another paragraph"
    files = [write_jsonl(tmp_path / "a.jsonl", a), write_jsonl(tmp_path / "b.jsonl", b)]
    out = tmp_path / "todo.jsonl"
    code, _, err = run_cli("framing", "agree", *files, "--units",
                           write_jsonl(tmp_path / "units.jsonl", us), "--n-boot", "0",
                           "-o", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
