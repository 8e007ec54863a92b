import json

import pytest

from framing.core.errors import FramingDataError
from framing.data.corpus import load_corpus

from conftest import SEEDS, write_jsonl

TASKS = [{"name": "theme", "kind": "multilabel", "labels": ["a", "b"]},
         {"name": "tone", "labels": ["x", "y"]}]


def spec(path, source="jsonl", **kw):
    return {"source": source, "path": str(path), "tasks": kw.pop("tasks", TASKS), **kw}


def rows(n=6):
    return [{"id": f"r{i}", "text": f"text number {i}", "theme": ["a"] if i % 2 else ["b"],
             "tone": "x" if i % 3 else "y", "doc": f"d{i % 3}"} for i in range(n)]


def test_seed_corpus_loads_with_the_datasheet_counts():
    c = load_corpus(spec(SEEDS / "paragraphs.jsonl", group_column="article", tasks=[
        {"name": "theme", "kind": "multilabel",
         "labels": ["security", "economy", "diplomacy", "gaza"]},
        {"name": "tone", "labels": ["promotional", "reportorial"]}]))
    assert len(c) == 55
    assert c.label_counts() == {
        "theme": {"security": 18, "economy": 9, "diplomacy": 52, "gaza": 5},
        "tone": {"promotional": 22, "reportorial": 33}}
    assert len(set(c.groups)) == 5


def test_digest_is_stable_and_sensitive(tmp_path):
    p = write_jsonl(tmp_path / "c.jsonl", rows())
    d1, d2 = load_corpus(spec(p)).digest(), load_corpus(spec(p)).digest()
    assert d1 == d2 and len(d1) == 64
    changed = rows()
    changed[0]["tone"] = "x" if changed[0]["tone"] == "y" else "y"
    assert load_corpus(spec(write_jsonl(tmp_path / "d.jsonl", changed))).digest() != d1


def test_missing_file(tmp_path):
    with pytest.raises(FramingDataError, match=r"nope\.jsonl: no such file\. Check data\.path"):
        load_corpus(spec(tmp_path / "nope.jsonl"))


def test_malformed_line_names_the_line(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text(json.dumps(rows()[0]) + "\n" + '{"id": "r1", "text": \n')
    with pytest.raises(FramingDataError, match=r"c\.jsonl, line 2: malformed JSON"):
        load_corpus(spec(p))


def test_missing_column_lists_the_columns(tmp_path):
    data = rows()
    for r in data:
        del r["tone"]
    path = write_jsonl(tmp_path / "c.jsonl", data)
    with pytest.raises(FramingDataError) as e:
        load_corpus(spec(path))
    assert str(e.value) == (
        f"{path}: no column 'tone' (the label column of task 'tone'). Columns present: "
        "['doc', 'id', 'text', 'theme']. Rename the column, or set the task's column in "
        "data.tasks ({name: tone, column: ...}) to one of them.")
    # the text column, for a command that names it by an option
    data = [{("Text" if k == "text" else k): v for k, v in r.items()} for r in rows()]
    path = write_jsonl(tmp_path / "t.jsonl", data)
    with pytest.raises(FramingDataError) as e:
        load_corpus(spec(path), training=False, text_option="--text-column")
    assert str(e.value) == (
        f"{path}: no column 'text' (the text column); the file has 'Text' (names are "
        "case-sensitive). Columns present: ['Text', 'doc', 'id', 'theme', 'tone']. Rename "
        "the column, or give one of them as --text-column.")


@pytest.mark.parametrize("column, present, wanted, hint", [
    ("tone", "Tone", "tone", "the file has 'Tone' (names are case-sensitive)"),
    ("tone", "tones", "tone", "the file has 'tones' (a near name)"),
    ("theme", "Theme", "them", "the file has 'Theme' (a near name)"),
], ids=["case", "near spelling", "case and spelling"])
def test_a_missing_column_names_the_near_one_the_file_has(tmp_path, column, present, wanted,
                                                          hint):
    data = [{(present if k == column else k): v for k, v in r.items()} for r in rows()]
    path = write_jsonl(tmp_path / "c.jsonl", data)
    tasks = [{"name": wanted, "labels": ["x", "y"]}]
    with pytest.raises(FramingDataError) as e:
        load_corpus(spec(path, tasks=tasks))
    message = str(e.value)
    assert message.startswith(f"{path}: no column {wanted!r} (the label column of task "
                              f"{wanted!r}); {hint}. Columns present: ")
    assert f"data.tasks ({{name: {wanted}, column: ...}})" in message
    # in a test corpus the setting named is test's, and a column far from any has no hint
    with pytest.raises(FramingDataError) as e:
        load_corpus(spec(path, tasks=[{"name": "stance", "labels": ["x", "y"]}]),
                    training=False, setting="test")
    assert "no column 'stance' (the label column of task 'stance'). Columns" in str(e.value)
    assert "test.tasks ({name: stance" in str(e.value) and "the file has" not in str(e.value)


@pytest.mark.parametrize("row, key, value, message", [
    (3, "text", "   ", r"line 4 \(id 'r3'\): text is empty"),
    (2, "tone", "z", r"line 3 \(id 'r2'\): label 'z' of task 'tone' is not in its label set"),
    (1, "theme", "a", r"line 2 .*multilabel but column 'theme' holds 'a', not a list"),
    (4, "id", "r1", r"line 5 \(id 'r1'\): duplicate id 'r1' \(first at record 2\)"),
], ids=["empty text", "unknown label", "multilabel not a list", "duplicate id"])
def test_bad_record_names_the_line_and_id(tmp_path, row, key, value, message):
    data = rows()
    data[row][key] = value
    with pytest.raises(FramingDataError, match=message):
        load_corpus(spec(write_jsonl(tmp_path / "c.jsonl", data)))


def test_single_class_task(tmp_path):
    data = rows()
    for r in data:
        r["tone"] = "x"
    with pytest.raises(FramingDataError, match=r"task 'tone' has a single class \['x'\]"):
        load_corpus(spec(write_jsonl(tmp_path / "c.jsonl", data)))


def test_label_that_never_occurs(tmp_path):
    tasks = [{"name": "theme", "kind": "multilabel", "labels": ["a", "b", "c"]}]
    with pytest.raises(FramingDataError, match=r"label 'c' of task 'theme' never occurs"):
        load_corpus(spec(write_jsonl(tmp_path / "c.jsonl", rows()), tasks=tasks))


def test_inferred_labels_warn(tmp_path, caplog):
    c = load_corpus(spec(write_jsonl(tmp_path / "c.jsonl", rows()),
                         tasks=[{"name": "tone", "labels": None}]))
    assert [t.labels for t in c.tasks] == [["x", "y"]]
    assert any("inferred ['x', 'y']" in w for w in c.warnings)


def separated_csv(path, cells):
    """A CSV corpus whose theme column holds ``cells`` in turn, split at "|"."""
    lines = ["id,text,theme,tone"] + [f"r{i},text {i},{cells[i % len(cells)]},"
                                      f"{'x' if i % 3 else 'y'}" for i in range(6)]
    path.write_text("\n".join(lines) + "\n")
    tasks = [{"name": "theme", "kind": "multilabel", "labels": ["a", "b"], "separator": "|"},
             {"name": "tone", "labels": ["x", "y"]}]
    return load_corpus(spec(path, "csv", tasks=tasks))


def test_csv_with_separated_multilabel_cells(tmp_path):
    c = separated_csv(tmp_path / "c.csv", ["b", "a|b"])
    assert c.label_counts() == {"theme": {"a": 3, "b": 6}, "tone": {"x": 4, "y": 2}}


def test_an_empty_separated_cell_is_no_label(tmp_path):
    c = separated_csv(tmp_path / "c.csv", ["a|b", "", "b"])
    assert c.targets["theme"].tolist() == [[1, 1], [0, 0], [0, 1]] * 2
    # in JSON lines (no separator) a null is still an error, naming the fix
    data = rows(4)
    data[1]["theme"] = None
    with pytest.raises(FramingDataError, match=r"line 2 \(id 'r1'\): task 'theme' is "
                       r"multilabel but column 'theme' holds None, not a list. Write a list"):
        load_corpus(spec(write_jsonl(tmp_path / "n.jsonl", data)))


def test_a_task_without_any_label_is_one_clear_error(tmp_path):
    data = [{**r, "theme": []} for r in rows()]
    tasks = [{"name": "theme", "kind": "multilabel"}, TASKS[1]]
    with pytest.raises(FramingDataError, match=r"task 'theme' has no label in any record "
                       r"\(column 'theme'\), so there is nothing to learn"):
        load_corpus(spec(write_jsonl(tmp_path / "e.jsonl", data), tasks=tasks))


def test_empty_folder_and_missing_text_files_are_named(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(FramingDataError, match=r"e.csv: no records. The file is empty."):
        load_corpus(spec(tmp_path / "e.csv", "csv"))
    with pytest.raises(FramingDataError, match=r"is a folder, not a jsonl file. Give the "
                       r"file as data.path"):
        load_corpus(spec(tmp_path))
    p = write_jsonl(tmp_path / "m.jsonl", [*rows(3), {"id": "r9", "theme": ["a"],
                                                     "tone": "x"}])
    with pytest.raises(FramingDataError, match=r"line 4 \(id 'r9'\): text is missing "
                       r"\(no value\)"):
        load_corpus(spec(p))


def test_parquet_and_hub_style_folder(tmp_path):
    import datasets

    ds = datasets.Dataset.from_list(rows(8))
    ds.to_parquet(str(tmp_path / "c.parquet"))
    c = load_corpus(spec(tmp_path / "c.parquet", "parquet"))
    assert len(c) == 8 and c.label_counts()["theme"] == {"a": 4, "b": 4}
    # A dataset folder with named splits, loaded as a Hub dataset would be.
    hub = tmp_path / "hubdata"
    (hub / "data").mkdir(parents=True)
    datasets.Dataset.from_list(rows(8)).to_json(str(hub / "data" / "train.jsonl"))
    datasets.Dataset.from_list([{**r, "id": "t" + r["id"]} for r in rows(4)]).to_json(
        str(hub / "data" / "test.jsonl"))
    c = load_corpus(spec(hub, "hub", hub_splits={"train": "train", "test": "test"}))
    assert len(c) == 12 and list(c.split).count("test") == 4


def test_hub_folder_whose_files_would_merge_is_refused_and_hub_files_names_them(tmp_path):
    import datasets

    hub = tmp_path / "hubdata"
    hub.mkdir()
    datasets.Dataset.from_list(rows(8)).to_json(str(hub / "train.jsonl"))
    datasets.Dataset.from_list([{**r, "id": "f" + r["id"]} for r in rows(6)]).to_json(
        str(hub / "train_full.jsonl"))
    datasets.Dataset.from_list([{**r, "id": "t" + r["id"]} for r in rows(4)]).to_json(
        str(hub / "test.jsonl"))
    with pytest.raises(FramingDataError, match=r"would all be read as the train split") as e:
        load_corpus(spec(hub, "hub", hub_splits={"train": "train", "test": "test"}))
    assert "train.jsonl" in str(e.value) and "train_full.jsonl" in str(e.value)
    assert "data.hub_files" in str(e.value)
    c = load_corpus(spec(hub, "hub", hub_splits={"train": "train", "test": "test"},
                         hub_files={"train": "train.jsonl", "test": "test.jsonl"}))
    assert len(c) == 12 and list(c.split).count("test") == 4
