"""Bad input a user plausibly gives: one line saying what, where and what to do, a
non-zero exit, nothing written — refused before any data is fitted."""

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import framing

from conftest import SEEDS, run_cli, write_jsonl


def one_line(err: str) -> bool:
    return len([line for line in err.splitlines() if line.strip()]) == 1 and \
        "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "argument --batch-size: 0 is too small; give 1 or more"),
    (["--batch-size", "many"], "argument --batch-size: 'many' is not a whole number"),
    (["-o", "{input}"], "-o is also an input file, which the output would replace"),
    (["-o", "{tmp}"], "-o names a folder; give a file name"),
], ids=["batch size 0", "batch size not a number", "output onto its input",
        "output onto a folder"])
def test_predict_options(tiny, tmp_path, args, message):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "goal"}])
    before = src.read_bytes()
    args = [a.format(input=src, tmp=tmp_path) for a in args]
    code, out, err = run_cli("framing", "predict", tiny, src, *args)
    assert code == 2 and message in err and one_line(err), err
    assert src.read_bytes() == before


def test_explain_k_must_be_positive(tiny):
    code, _, err = run_cli("framing", "explain", tiny, "goal", "-k", "-3")
    assert code == 2 and "argument -k: -3 is too small" in err and one_line(err)
    with pytest.raises(ValueError, match="k must be a positive whole number"):
        framing.load(tiny).explain("goal", "topic", k=-3)


def test_output_in_a_read_only_folder(tiny, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({r.stderr.strip()}); root ignores "
                    "folder permissions, so there is no other read-only folder to use")
    try:
        src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "goal"}])
        code, _, err = run_cli("framing", "predict", tiny, src, "-o", ro / "out.jsonl")
        assert code == 2 and "read-only file system; choose another folder" in err
        assert one_line(err)
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)


def test_a_bad_line_midway_on_stdout_is_marked_incomplete(tiny, tmp_path):
    rows = [json.dumps({"id": f"r{i}", "text": f"goal {i}"}) for i in range(10000)]
    rows[4999] = '{"id": "broken", "text": '
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(rows) + "\n")
    code, out, err = run_cli("framing", "predict", tiny, src, "--batch-size", "1000")
    assert code == 2
    written = len(out.splitlines())
    assert 0 < written < 5000
    assert f"{src}, line 5000: malformed JSON" in err
    assert f"the output is incomplete: {written} records were written before the error" in err


def test_python_inputs_that_would_be_silently_wrong(tiny):
    model = framing.load(tiny)
    for bad, msg in ((pd.DataFrame({"text": ["goal"]}), "got a DataFrame"),
                     ({"text": "goal"}, "got a dict"), ({"goal", "vote"}, "got a set")):
        with pytest.raises(ValueError, match=msg):
            model.predict(bad)
    series = model.predict(pd.Series(["goal", "vote"]))
    assert series == model.predict(["goal", "vote"])
    frame = model.predict_frame(pd.DataFrame({"body": ["goal", "vote"]}, index=[7, 9]),
                                text_column="body")
    assert list(frame.index) == [7, 9] and frame.loc[7, "topic"] == series[0]["topic"]
    with pytest.raises(ValueError, match="one article as a string"):
        model.predict_article(["first article", "second article"])


CASES = [
    (["data.tasks=[{name: t, labels: ['a?', b]}]", "data=jsonl", "data.path={corpus}"],
     "label 'a?' cannot name a metric"),
    (["data.tasks=[{name: t/u, labels: [a, b]}]", "data=jsonl", "data.path={corpus}"],
     "task name 't/u': use letters, digits"),
    (["data.tasks=[{name: t, labels: [a, b, a]}]", "data=jsonl", "data.path={corpus}"],
     "labels ['a'] are repeated"),
    (["data=jsonl", "data.path={corpus}", "data.group_column=g", "eval.strategy=logo",
      "data.tasks=[{name: t, labels: [a, b]}]"], "the group column has one value only"),
    (["data=jsonl", "data.path={corpus}", "data.group_column=g",
      "data.tasks=[{name: t, labels: [a, b]}]"],
     "eval.strategy=auto: the group column has one value only ('one': column 'g', all 12 "
     "records); grouped evaluation keeps each group out of the folds it is tested on, so it "
     "needs at least two groups. Add labelled records of other articles, or evaluate without "
     "groups: eval.strategy=stratified_kfold"),
    (["data=jsonl", "data.path={corpus}", "data.group_column=g", "model=logreg",
      "data.tasks=[{name: t, labels: [a, b]}]"],
     "eval.strategy=auto: the group column has one value only ('one': column 'g'"),
    (["eval.n_boot=abc"], "eval.n_boot=abc: Value 'abc' of type 'str' could not be converted "
                          "to Integer"),
    (["seed=x"], "seed=x: Value 'x' of type 'str' could not be converted to Integer"),
    (["stream.holdout=2"], "stream.holdout: 2.0 must be in [0, 1)"),
    (["features.word.ngram_range=[2,1]"], "features.word.ngram_range: [2, 1] is not"),
    (["model.class_weight=weird"], "model.class_weight: 'weird': use balanced or null"),
    (["eval.n_jobs=0"], "eval.n_jobs: 0: give auto, -1 or a positive number"),
    (["data.source=xml"], "data.source=xml: Invalid value 'xml', expected one of"),
    (["features.voice.cut=3"], "features.voice.cut: 3.0 must be in [0, 1]"),
    (["tracking.uri=sqlite:////etc/hostname/x.db"], "cannot create the MLflow store"),
    (["-m", "model.C=1,abc"], "model.C=abc: Value 'abc' of type 'str' could not be "
                              "converted to Float"),
    (["+model.foo=1"], "model.foo: no such setting in model (its settings: C, alpha,"),
    (["+data.foo=1"], "data.foo: no such setting in data (its settings: fold_column,"),
    (["+features.bogus.enabled=true"], "features.bogus: no such setting in features (its "
                                       "settings: aux, char, codebook, hashing, style,"),
    (["data.tasks=[{name: t, labels: [a, b], colour: red}]", "data=jsonl",
      "data.path={corpus}"], "data.tasks: Key 'colour' not in 'TaskConfig'"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[
    "label with ?", "task name with /", "repeated label", "one group",
    "one group, default strategy and model choice", "one group, default strategy, logreg",
    "n_boot type",
    "seed type", "holdout range", "ngram range", "class weight", "n_jobs 0", "source",
    "voice cut", "store under a file", "sweep job with a bad value", "+model.foo",
    "+data.foo", "+features.bogus", "unknown task key"])
def test_training_refuses_bad_settings_before_any_work(tmp_path, args, message):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": f"r{i}", "text": f"word {i}",
                                                "t": "a" if i % 2 else "b", "g": "one"}
                                               for i in range(12)])
    model = tmp_path / "m.joblib"
    args = [a.replace("{corpus}", str(corpus)) for a in args]
    tracking = [] if any(a.startswith("tracking.") for a in args) else ["tracking=off"]
    code, out, err = run_cli("framing-train", *args, *tracking, f"output.model_path={model}",
                             f"hydra.run.dir={tmp_path / 'run'}",
                             f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert code == 2 and message in err, err[-2000:]
    assert "Traceback" not in err and "framing-train: error:" in err
    assert [line for line in err.splitlines() if "error" in line] == \
        [line for line in err.splitlines() if line.startswith("framing-train: error:")]
    assert not model.exists()


def test_an_unknown_model_file_or_config_group_is_one_line(tmp_path):
    code, _, err = run_cli("framing-train", "data=nope", "tracking=off",
                           f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2 and "Could not find 'data/nope'" in err and one_line(err)
    code, _, err = run_cli("framing", "predict", tmp_path / "none.joblib", SEEDS / "x.txt")
    assert code == 2 and "no such model file" in err and one_line(err)


def test_corpus_errors_name_the_record(tmp_path):
    path = Path(tmp_path / "c.jsonl")
    path.write_text('{"id": "a", "text": "ok", "label": "x"}\n{"id": "b", "text": ""}\n')
    code, _, err = run_cli("framing-train", "data=jsonl", f"data.path={path}", "tracking=off",
                           f"output.model_path={tmp_path / 'm.joblib'}",
                           f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2 and f"{path}, line 2 (id 'b'): text is empty" in err and one_line(err)


@pytest.mark.parametrize("command, output, message", [
    (["predict", "{model}", "{src}"], "labels.txt", "labels.txt: this command does not write "
     ".txt files; name the output with one of .jsonl, .json, .csv, .tsv, .parquet"),
    (["predict", "{model}", "{src}"], "labels.xlsx", "does not write .xlsx files"),
    (["segment", str(SEEDS / "001_cc2cb9ae9c176667.txt")], "units.txt",
     "units.txt: this command does not write .txt files"),
    (["predict", "{model}", "--article", str(SEEDS / "001_cc2cb9ae9c176667.txt")],
     "profile.csv", "--article writes one nested record per article"),
    (["queue", "{model}", "{src}", "-n", "1"], "queue.csv", "queue.csv: this command does "
     "not write .csv files; name the output with one of .jsonl, .json"),
], ids=["predict .txt", "predict .xlsx", "segment .txt", "predict --article .csv",
        "queue .csv"])
def test_an_output_format_no_command_writes_is_refused(tiny, tmp_path, command, output,
                                                       message):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "goal"}])
    args = [a.format(model=tiny, src=src) for a in command]
    code, out, err = run_cli("framing", *args, "-o", tmp_path / output)
    assert code == 2 and message in err and one_line(err), err
    assert out == "" and not (tmp_path / output).exists()


def _empty_inputs(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "blank-lines.jsonl").write_text("\n\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,text\n")
    (tmp_path / "header.tsv").write_text("id\ttext\n")
    (tmp_path / "empty.txt").write_text("")
    pq.write_table(pa.table({"id": pa.array([], pa.string()),
                             "text": pa.array([], pa.string())}), tmp_path / "empty.parquet")
    return ["empty.jsonl", "blank-lines.jsonl", "empty.csv", "header.csv", "header.tsv",
            "empty.txt", "empty.parquet"]


def test_an_empty_input_is_a_warning_and_an_empty_output_for_every_format(tiny, tmp_path):
    """No records in: a warning naming the input, exit 0, nothing (or a valid empty file of
    the format asked for) out — the same for JSON lines, CSV, TSV, Parquet, text, stdin."""
    import pandas as pd

    for name in _empty_inputs(tmp_path):
        src = tmp_path / name
        code, out, err = run_cli("framing", "predict", tiny, src)
        assert code == 0 and out == "", (name, err)
        assert err == (f"framing: warning: {src}: no paragraphs in the input (it holds no "
                       "records); nothing to label there\n"), name
        target = tmp_path / "labels.parquet"
        code, _, err = run_cli("framing", "predict", tiny, src, "-o", target)
        assert code == 0 and f"{src}: no paragraphs in the input" in err
        assert f"0 paragraphs labelled, written to {target}" in err
        frame = pd.read_parquet(target)
        assert len(frame) == 0 and list(frame.columns)[:3] == ["id", "topic", "tags"]
    code, out, err = run_cli("framing", "predict", tiny, "-", stdin="")
    assert code == 0 and out == "" and err == (
        "framing: warning: <stdin>: no paragraphs in the input (it holds no records); "
        "nothing to label there\n")
    code, _, err = run_cli("framing", "predict", tiny, tmp_path / "empty.csv", "-o",
                           tmp_path / "labels.csv")
    assert code == 0 and (tmp_path / "labels.csv").read_text().startswith("id,topic,tags,")
    assert len((tmp_path / "labels.csv").read_text().splitlines()) == 1  # the header alone


def test_a_blank_text_is_labelled_as_the_python_api_labels_it(tiny, tmp_path):
    """One blank paragraph does not stop a batch: the CLI gives it the empty result that
    FramingModel.predict gives it, in every input format, with a warning naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    model = framing.load(tiny)
    texts = ["match goal team", "   ", "minister vote law"]
    expected = [{"id": i, **r} for i, r in zip("abc", model.predict(texts), strict=True)]
    assert expected[1] == {"id": "b", **model.predict("")}  # what the API gives a blank
    write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": t} for i, t in zip("abc", texts,
                                                                              strict=True)])
    pd.DataFrame({"id": list("abc"), "text": texts}).to_csv(tmp_path / "in.csv", index=False)
    pq.write_table(pa.table({"id": list("abc"), "text": texts}), tmp_path / "in.parquet")
    places = {"in.jsonl": "line 2 (id 'b')", "in.csv": "line 3 (id 'b')",
              "in.parquet": "row 2 (id 'b')"}
    for name, place in places.items():
        code, out, err = run_cli("framing", "predict", tiny, tmp_path / name)
        assert code == 0, err
        assert [json.loads(x) for x in out.splitlines()] == expected, name
        assert err == (f"framing: warning: {tmp_path / name}: 1 blank text labelled with no "
                       f"labels and no scores, as FramingModel.predict labels one: {place}\n")
    many = write_jsonl(tmp_path / "many.jsonl", [{"text": "goal" if i % 2 else ""}
                                                 for i in range(16)])
    code, out, err = run_cli("framing", "predict", tiny, many)
    assert code == 0 and len(out.splitlines()) == 16 and one_line(err)
    assert (f"{many}: 8 blank texts labelled with no labels and no scores, as "
            "FramingModel.predict labels one: line 1, line 3, line 5, line 7, line 9 and 3 "
            "more") in err


def test_a_csv_label_or_text_na_is_a_value_not_missing(tmp_path):
    """Labels NA (North America) and EU, and a text cell 'NA', read as written."""
    rows = "".join(f"r{i},some text {i},{'NA' if i % 2 else 'EU'},{'xyz'[i % 3]}\n"
                   for i in range(12))
    corpus = tmp_path / "na.csv"
    corpus.write_text("id,text,region,g\n" + rows + "r12,NA,EU,x\n", encoding="utf-8")
    model = tmp_path / "m.joblib"
    code, out, err = run_cli("framing-train", "tracking=off", "data=csv",
                             f"data.path={corpus}", "data.group_column=g", "eval.n_boot=0",
                             "data.tasks=[{name: region, labels: [NA, EU]}]",
                             f"output.model_path={model}", f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 0, err[-2000:]
    card = framing.load(model).card
    assert card["data"]["n_records"] == 13
    assert card["data"]["label_counts"]["region"] == {"NA": 6, "EU": 7}


# -- the annotation loop -------------------------------------------------------------------
def _annotators(tmp_path):
    """Two annotators' files of two units; they dispute the tone of u0."""
    def rows(tones):
        return [{"id": f"u{i}", "article": "a0", "paragraph": i, "text": f"paragraph {i}",
                 "theme": [], "tone": tone} for i, tone in enumerate(tones)]
    a = write_jsonl(tmp_path / "a.jsonl", rows(["promotional", "reportorial"]))
    b = write_jsonl(tmp_path / "b.jsonl", rows(["reportorial", "reportorial"]))
    out = tmp_path / "disputes.jsonl"
    code, _, err = run_cli("framing", "agree", a, b, "-o", out, "--n-boot", "0")
    assert code == 0, err
    (todo,) = [json.loads(x) for x in out.read_text().splitlines()]
    return a, b, todo


def test_a_unit_adjudicated_twice_with_different_labels_is_refused(tmp_path):
    a, b, todo = _annotators(tmp_path)
    first = {**todo, "adjudicated": {"tone": "promotional"}}
    second = {**todo, "adjudicated": {"tone": "reportorial"}}
    adj = write_jsonl(tmp_path / "adjudicated.jsonl", [first, second])
    gold = tmp_path / "gold.jsonl"
    code, out, err = run_cli("framing", "adjudicate", adj, a, b, "-o", gold)
    assert code == 2 and one_line(err), err
    assert err.strip() == (
        f"framing: error: {adj}, lines 1 and 2: unit 'u0' is adjudicated twice with "
        "different tone labels ('promotional', then 'reportorial'). Keep one line per unit, "
        "then merge again.")
    assert not gold.exists()
    # the same line twice is merged once, with a warning naming both lines
    write_jsonl(adj, [first, first])
    code, out, err = run_cli("framing", "adjudicate", adj, a, b, "-o", gold)
    assert code == 0, err
    assert (f"framing: warning: {adj}, lines 1 and 2: unit 'u0' is adjudicated twice, with "
            "the same labels; merged once") in err
    merged = [json.loads(x) for x in gold.read_text().splitlines()]
    assert [(r["id"], r["tone"]) for r in merged] == [("u0", "promotional"),
                                                     ("u1", "reportorial")]


# -- corpora -------------------------------------------------------------------------------
def _one_article(tmp_path) -> Path:
    return write_jsonl(tmp_path / "c.jsonl", [{"id": f"r{i}", "text": f"word {i}",
                                               "t": "a" if i % 2 else "b", "g": "one"}
                                              for i in range(12)])


def test_a_learning_curve_of_one_article_is_one_line(tmp_path):
    corpus = _one_article(tmp_path)
    code, out, err = run_cli("framing", "learning-curve", corpus, "data.group_column=g",
                             "data.tasks=[{name: t, labels: [a, b]}]", "-o",
                             tmp_path / "curve.json")
    assert code == 2 and one_line(err), err
    assert (f"{corpus}: a learning curve needs at least two articles; all 12 records are in "
            "one ('one', column 'g'). Add labelled records of other articles, or unset "
            "data.group_column for a curve over records.") in err
    assert not (tmp_path / "curve.json").exists()


def test_fold_names_are_folds(tmp_path):
    """A fold column of names (dev, test, train) splits as numbers do: one fold a value."""
    from framing.data.corpus import corpus_from_records

    rows = [{"id": f"r{i}", "text": f"{'goal match' if i % 2 else 'vote law'} {i}",
             "t": "a" if i % 2 else "b", "fold": ["dev", "test", "train"][i % 3]}
            for i in range(12)]
    corpus = write_jsonl(tmp_path / "c.jsonl", rows)
    model = tmp_path / "m.joblib"
    code, _, err = run_cli("framing-train", "data=jsonl", f"data.path={corpus}",
                           "data.fold_column=fold", "data.tasks=[{name: t, labels: [a, b]}]",
                           "model=logreg", "eval.n_boot=0", "tracking=off",
                           f"output.model_path={model}", f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 0, err[-2000:]
    evaluation = framing.load(model).card["evaluation"]
    assert evaluation["strategy"] == "fold_column" and evaluation["n_folds"] == 3
    # whole numbers stay numbers, however written; beside a name they are its digits
    spec = {"source": "jsonl", "path": "mem", "fold_column": "fold",
            "tasks": [{"name": "t", "labels": ["a", "b"]}]}
    numbers = corpus_from_records([{**r, "fold": [1, "1", 2.0, "2"][i % 4]}
                                   for i, r in enumerate(rows)], spec)
    assert numbers.folds.tolist() == [1, 1, 2, 2] * 3
    names = corpus_from_records([{**r, "fold": [1, "1", 2.0, "dev"][i % 4]}
                                 for i, r in enumerate(rows)], spec)
    assert names.folds.tolist() == ["1", "1", "2", "dev"] * 3


def _int_texts(tmp_path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": [17, 18],
                             "topic": ["sport", "politics"], "tags": [["a"], []]}), path)
    return path


def test_a_parquet_text_column_of_numbers_is_named_not_text(tiny, tmp_path):
    src = _int_texts(tmp_path)
    said = (f"{src}, row 1 (id 'a'): 'text' is not text (int): the column holds int64, not "
            "strings. Give the column that holds the texts ({option}), or store the texts "
            "as strings.")
    for command in (["predict", tiny, src, "-o", tmp_path / "out.jsonl"],
                    ["evaluate", tiny, src]):
        code, out, err = run_cli("framing", *command)
        assert code == 2 and one_line(err), err
        assert err.strip() == "framing: error: " + said.format(option="--text-column")
    assert not (tmp_path / "out.jsonl").exists()
    for extra in ([], ["experiment=streaming"]):
        model = tmp_path / "m.joblib"
        code, _, err = run_cli("framing-train", *extra, "data=parquet", f"data.path={src}",
                               "data.tasks=[{name: topic, labels: [sport, politics]}]",
                               "tracking=off", f"output.model_path={model}",
                               f"hydra.run.dir={tmp_path / 'run'}")
        assert code == 2, err[-2000:]
        assert "framing-train: error: " + said.format(option="data.text_column") in err
        assert "Traceback" not in err and not model.exists()


@pytest.mark.parametrize("task, message", [
    ({"annotations": [{"completed_by": 1, "result": [
        {"from_name": "tone", "to_name": "text", "type": "choices",
         "value": ["reportorial"]}]}]},
     "task 2 (id 'u1'): the tone result's \"value\" is a list ([\"reportorial\"]), not an "
     "object with a \"choices\" list"),
    ({"annotations": 1},
     "task 2 (id 'u1'): \"annotations\" is a number (1), not a list of annotations. Export "
     "the project from Label Studio as JSON"),
    ({"annotations": [{"completed_by": 1, "result": {"tone": "reportorial"}}]},
     "task 2 (id 'u1'): the annotation's \"result\" is an object ({\"tone\": "
     "\"reportorial\"}), not a list of results."),
], ids=["value a list", "annotations a number", "result an object"])
def test_a_label_studio_export_of_the_wrong_shape_is_one_line(tmp_path, task, message):
    good = {"id": 11, "data": {"id": "u0", "text": "a paragraph"},
            "annotations": [{"completed_by": 1, "result": [
                {"from_name": "tone", "to_name": "text", "type": "choices",
                 "value": {"choices": ["reportorial"]}}]}]}
    export = tmp_path / "export.json"
    export.write_text(json.dumps([good, {"id": 12, "data": {"id": "u1", "text": "another"},
                                         **task}]))
    out = tmp_path / "labelled.jsonl"
    code, _, err = run_cli("framing", "import", "labelstudio", export, "-o", out)
    assert code == 2 and one_line(err), err
    assert err.startswith(f"framing: error: {export}, {message}"), err
    assert not out.exists()


# -- framing compare, learning curves, the model choice ------------------------------------
def _predictions(n: int = 8) -> list[dict]:
    """Out-of-fold prediction records of one single-label task, as framing-train writes
    them."""
    return [{"id": f"u{i}", "group": f"art{i % 4}", "text": f"paragraph {i}",
             "t_true": "a" if i % 2 else "b", "t_pred": "a" if i % 3 else "b",
             "t_scores": {"a": 0.6 if i % 3 else 0.4, "b": 0.4 if i % 3 else 0.6}}
            for i in range(n)]


def _damaged(case: str, path: Path) -> Path:
    rows = _predictions()
    if case == "not UTF-8":
        text = "".join(json.dumps(r) + "\n" for r in rows)
        path.write_bytes(text.encode().replace(b'"paragraph 2"', b'"paragraph \xe9"'))
        return path
    if case == "malformed line":
        lines = [json.dumps(r) for r in rows]
        lines[3] = '{"id": "u3", "t_true": '
        path.write_text("\n".join(lines) + "\n")
        return path
    if case == "null id":
        rows[2]["id"] = None
    elif case == "no prediction":
        del rows[5]["t_pred"]
    else:  # a list of two labels for a single-label task
        rows[5]["t_pred"] = ["a", "b"]
    return write_jsonl(path, rows)


@pytest.mark.parametrize("case, says", [
    ("not UTF-8", "{b}, line 3: not UTF-8 (byte"),
    ("malformed line", "{b}, line 4: malformed JSON (Expecting value at column 24); the "
                       "predictions file is damaged"),
    ("null id", "{b}, line 3: not a prediction record (an object with an id)"),
    ("no prediction", "B ({b}): unit 'u5': no t_pred (missing or null), which its other "
                      "units have"),
    ("labels of a single-label task", "B ({b}): unit 'u5': t_pred is a list ['a', 'b'], "
                                      "but the task is single-label"),
])
def test_compare_of_damaged_predictions_is_one_line(tmp_path, case, says):
    a = write_jsonl(tmp_path / "a.oof.jsonl", _predictions())
    b = _damaged(case, tmp_path / "b.oof.jsonl")
    report = tmp_path / "report.md"
    code, out, err = run_cli("framing", "compare", a, b, "--draws", "20", "-o", report)
    assert code == 2 and one_line(err), err
    assert err.startswith("framing: error: ") and says.format(b=b) in err, err
    assert out == "" and not report.exists()
    # the same file undamaged compares (each side against itself: no difference)
    code, out, err = run_cli("framing", "compare", a, write_jsonl(tmp_path / "c.jsonl",
                                                                  _predictions()),
                             "--draws", "20")
    assert code == 0 and "+0.0000" in out, err


def test_learning_curve_sizes_beyond_the_corpus_are_named(tmp_path):
    """Sizes a fold cannot train on are not dropped in silence: a warning names them (all
    of them out of range: one line, exit 2)."""
    rows = [{"id": f"r{i}", "text": f"{'goal match' if i % 2 else 'vote law'} {i}",
             "t": "a" if i % 2 else "b", "g": f"art{i % 3}"} for i in range(18)]
    corpus = write_jsonl(tmp_path / "c.jsonl", rows)
    args = ["learning-curve", corpus, "data.group_column=g", "model=logreg",
            "data.tasks=[{name: t, labels: [a, b]}]", "--draws", "1"]
    out = tmp_path / "curve.json"
    code, stdout, err = run_cli("framing", *args, "--sizes", "0,1,2,50", "-o", out)
    assert code == 0, err
    assert err.splitlines()[0] == ("framing: warning: learning curve: sizes 0, 50 left out: a "
                                   "size is between 1 and 2 articles, the fewest a fold "
                                   "trains on")
    assert json.loads(out.read_text())["sizes"] == [1, 2]
    code, _, err = run_cli("framing", *args, "--sizes", "50,60", "-o", tmp_path / "no.json")
    assert code == 2 and one_line(err), err
    assert ("no size of the learning curve (50, 60) fits this corpus: a size is between 1 and "
            "2 articles, the fewest a fold trains on. Give sizes in that range.") in err
    assert not (tmp_path / "no.json").exists()
    code, _, err = run_cli("framing", *args, "--sizes", "-2")
    assert code == 2 and "give whole numbers of articles" in err and one_line(err)


@pytest.mark.parametrize("override, says", [
    ("model.candidates=[{name: e, family: ensemble}]",
     "model.candidates[0].members: an ensemble candidate needs its members, e.g. members: "
     "[{family: cnb}, {family: logreg, C: 10}]."),
    ("model.candidates=[{name: e, family: ensemble, members: [{family: bogus}]}]",
     "model.candidates[0].members[0].family: 'bogus': a member of an ensemble is one of "
     "['logreg', 'linear_svm', 'sgd', 'ridge', 'cnb']."),
    ("model.candidates=[{name: e, family: ensemble, members: [{family: logreg, foo: 1}]}]",
     "model.candidates[0].members[0]: unknown keys ['foo']; a member's settings are"),
    ("model.candidates=[{name: e, family: ensemble, members: 3}]",
     "model.candidates[0].members: 3: give a non-empty list of members"),
    ("model.candidates=[{name: e, family: ensemble, members: [{family: cnb, C: 0}]}]",
     "model.candidates[0].members[0].C: 0 must be a positive number."),
    ("model.candidates=[]", "model.candidates: model=auto needs at least one candidate."),
    ("model.candidates=[{name: r, families: [codebook, voice]}]",
     "model=auto: no candidate of task 't' reads a feature family that is on for this "
     "corpus"),
], ids=["ensemble without members", "member of an unknown family", "member with an unknown "
        "key", "members not a list", "member C 0", "no candidate", "no candidate left"])
def test_model_choice_candidates_are_checked_before_any_fit(tmp_path, override, says):
    corpus = write_jsonl(tmp_path / "c.jsonl", [
        {"id": f"r{i}", "text": f"{'goal match' if i % 2 else 'vote law'} {i}",
         "t": "a" if i % 2 else "b", "g": f"art{i % 3}"} for i in range(18)])
    model = tmp_path / "m.joblib"
    code, _, err = run_cli("framing-train", "data=jsonl", f"data.path={corpus}",
                           "data.group_column=g", "data.tasks=[{name: t, labels: [a, b]}]",
                           override, "eval.n_boot=0", "tracking=off",
                           f"output.model_path={model}", f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2 and "Traceback" not in err, err[-2000:]
    assert f"framing-train: error: {says}" in err
    assert not model.exists()


def test_an_ensembles_member_must_be_a_linear_family(tmp_path):
    code, _, err = run_cli("framing-train", "model=ensemble", "model.members=[{family: prior}]",
                           "tracking=off", f"output.model_path={tmp_path / 'm.joblib'}",
                           f"hydra.run.dir={tmp_path / 'run'}")
    assert code == 2 and "Traceback" not in err, err[-2000:]
    assert ("framing-train: error: model.members[].family: 'prior': a member of an ensemble "
            "is one of ['logreg', 'linear_svm', 'sgd', 'ridge', 'cnb'].") in err


def test_an_empty_or_broken_labelled_file_is_named_for_what_it_is(tiny, tmp_path):
    """framing evaluate and framing compare --test of an empty file say it is empty, and of
    a file whose first line is broken name that line (not "no column of the tasks")."""
    import shutil

    other = tmp_path / "copy.joblib"
    shutil.copy(tiny, other)
    shutil.copy(f"{tiny}.sha256", f"{other}.sha256")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    (tmp_path / "broken.jsonl").write_text('{"id": 1, \n{"id": 2, "text": "goal"}\n')
    said = {"empty.jsonl": "no records; the file is empty. Score a file labelled for this "
                           "model.",
            "blank.jsonl": "no records; the file is empty.",
            "broken.jsonl": "line 1: malformed JSON (Expecting property name enclosed in "
                            "double quotes at column 11)"}
    for name, message in said.items():
        src = tmp_path / name
        for command in (["evaluate", tiny, src], ["compare", tiny, other, "--test", src]):
            code, out, err = run_cli("framing", *command)
            assert code == 2 and one_line(err), (name, err)
            assert err.startswith(f"framing: error: {src}") and message in err, (name, err)


def _two_label_corpus(path: Path) -> Path:
    """24 records of one task ``t`` (labels a, b) in 4 articles, fast to fit."""
    words = {"a": "match goal team league", "b": "minister vote law parliament"}
    return write_jsonl(path, [{"id": f"r{i}", "text": f"{words['ab'[i % 2]]} {i}",
                               "t": "ab"[i % 2], "g": f"art{i % 4}"} for i in range(24)])


def test_a_per_task_setting_must_name_a_task_of_the_corpus(tmp_path):
    corpus = _two_label_corpus(tmp_path / "c.jsonl")
    model = tmp_path / "m.joblib"
    base = ["data=jsonl", f"data.path={corpus}", "data.group_column=g",
            "data.tasks=[{name: t, labels: [a, b]}]", "model=prior", "eval.n_boot=0",
            "eval.label_issues=off", "tracking=off", f"output.model_path={model}",
            f"hydra.run.dir={tmp_path / 'run'}"]
    # the shipped per-task default (tone's rule) is for a corpus with a tone task: this
    # corpus has none, and trains without a word about that setting
    code, out, err = run_cli("framing-train", *base)
    assert code == 0, err[-2000:]
    assert "model.per_task" not in out + err and "model.task_defaults" not in out + err
    assert framing.load(model, verify="strict").tasks == ["t"]
    before = model.read_bytes()
    # a setting of the user's for a task the corpus does not have is one line, before
    # any fit, and the model there stays
    code, out, err = run_cli("framing-train", *base, "+model.per_task.tone.C=2")
    assert code == 2 and one_line(err) and out.strip() == ""  # nothing fitted, nor logged
    assert err.splitlines() == [
        "framing-train: error: model.per_task.tone: 'tone' is no task of this corpus (its "
        "tasks: t); name one of them (+model.per_task.t.KEY=VALUE) or drop the entry "
        "(~model.per_task.tone). Settings of a task for whichever corpus has it go in "
        "model.task_defaults."]
    assert model.read_bytes() == before
    # in Python the same
    texts = [f"match goal {i}" if i % 2 else f"minister vote {i}" for i in range(24)]
    labels = ["sport" if i % 2 else "politics" for i in range(24)]
    quick = ["model=logreg", "features=ngrams", "eval.n_boot=0", "eval.label_issues=off"]
    with pytest.raises(framing.FramingConfigError, match="'tone' is no task of this corpus "
                                                         r"\(its tasks: label\)"):
        framing.fit(texts, labels, overrides=[*quick, "+model.per_task.tone.C=2"])
    # one that names a task of the corpus is applied to that task
    plain, _ = framing.fit(texts, labels, overrides=quick)
    small, _ = framing.fit(texts, labels, overrides=[*quick, "+model.per_task.label.C=0.001"])
    same, _ = framing.fit(texts, labels, overrides=[*quick, "model.C=0.001"])
    assert small.scores(texts)["label"].tolist() == same.scores(texts)["label"].tolist()
    assert small.scores(texts)["label"].tolist() != plain.scores(texts)["label"].tolist()


def test_a_model_whose_card_keeps_the_tone_default_in_per_task_is_the_same_configuration(
        tmp_path):
    """Model files written while the shipped tone default sat in ``model.per_task`` load,
    and a run of the same settings and data finds them made alike: it replaces the model
    there as the same configuration (not as another one, nor beside it)."""
    corpus = _two_label_corpus(tmp_path / "c.jsonl")
    model = tmp_path / "m.joblib"
    base = ["data=jsonl", f"data.path={corpus}", "data.group_column=g",
            "data.tasks=[{name: t, labels: [a, b]}]", "model=prior", "eval.n_boot=0",
            "eval.label_issues=off", "tracking=off", f"output.model_path={model}",
            f"hydra.run.dir={tmp_path / 'run'}"]
    code, _, err = run_cli("framing-train", *base)
    assert code == 0, err[-2000:]
    old = framing.load(model, verify="strict")
    settings = old.card["config"]["model"]
    assert settings["task_defaults"] == {"tone": {"prior_family": "voice"}}
    # the card as it was written before: the tone default in per_task
    settings["per_task"] = settings.pop("task_defaults")
    old.save(model)
    scores = framing.load(model, verify="strict").scores(["goal vote"])["t"].tolist()
    code, out, err = run_cli("framing-train", *base)
    assert code == 0, err[-2000:]
    assert "it replaces the model of the same configuration and data there" in out, \
        out[-2000:]
    assert framing.load(model, verify="strict").scores(["goal vote"])["t"].tolist() == scores
