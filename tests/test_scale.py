"""Labelling shards on a Dask cluster gives, row by row, what one process gives."""

import json

import pandas as pd
import pytest

import framing

from conftest import SEEDS, run_cli

pytest.importorskip("distributed", reason="the scale extra (dask[distributed]) is not "
                    "installed: pip install 'framing[scale]'")


@pytest.mark.slow
def test_dask_labels_shards_like_one_process(trained, tmp_path):
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    (tmp_path / "in").mkdir()
    pd.DataFrame(rows[:20]).to_parquet(tmp_path / "in" / "a.parquet")
    pd.DataFrame(rows[20:40]).to_parquet(tmp_path / "in" / "b.parquet")
    (tmp_path / "in" / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[40:]))
    out = tmp_path / "out"
    code, _, err = run_cli("framing", "predict", trained[0], str(tmp_path / "in" / "*.parquet"),
                           tmp_path / "in" / "c.jsonl", "--engine", "dask", "--workers", "2",
                           "-o", out)
    assert code == 0, err[-2000:]
    assert "55 paragraphs from 3 shards" in err
    got = pd.concat([pd.read_parquet(out / f"{s}.labels.parquet") for s in "abc"],
                    ignore_index=True)
    model = framing.load(trained[0])
    expected = model.predict_frame(pd.DataFrame({"text": [r["text"] for r in rows]}))
    assert list(got["id"]) == [r["id"] for r in rows]
    for col in expected.columns:
        if col.count("/"):
            assert got[col].tolist() == pytest.approx(expected[col].tolist(), abs=1e-12)
        else:
            assert [list(x) if not isinstance(x, str) else x for x in got[col]] == \
                expected[col].tolist()


def test_dask_engine_refuses_unclear_input(trained, tmp_path):
    code, _, err = run_cli("framing", "predict", trained[0], tmp_path / "none*.parquet",
                           "--engine", "dask", "-o", tmp_path / "out")
    assert code == 2 and "no such file (or no file matches the pattern)" in err
    code, _, err = run_cli("framing", "predict", trained[0], SEEDS / "paragraphs.jsonl",
                           "--engine", "dask")
    assert code == 2 and "give the shards and -o FOLDER" in err


@pytest.mark.slow
def test_a_bad_shard_fails_the_run_in_one_line_and_leaves_no_output(tiny, tmp_path):
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    (tmp_path / "in").mkdir()
    pd.DataFrame(rows[:20]).to_parquet(tmp_path / "in" / "a.parquet")
    bad = pd.DataFrame(rows[20:30])
    bad.loc[3, "text"] = None  # the in-process reader refuses it too
    bad.to_parquet(tmp_path / "in" / "b.parquet")
    out = tmp_path / "out"
    code, _, err = run_cli("framing", "predict", tiny, str(tmp_path / "in" / "*.parquet"),
                           "--engine", "dask", "--workers", "2", "-o", out)
    assert code == 2, err[-2000:]
    message = (f"{tmp_path / 'in' / 'b.parquet'}, row 4 (id {rows[23]['id']!r}): 'text' is "
               "missing (null). Remove the row or give it text.")
    assert err.strip().splitlines() == [f"framing: error: {message}"]
    assert list(out.iterdir()) == []  # a.parquet's labels, if written, are gone too
    code, _, err = run_cli("framing", "predict", tiny, tmp_path / "in" / "b.parquet")
    assert code == 2 and err == f"framing: error: {message}\n"


@pytest.mark.slow
def test_a_blank_text_in_a_shard_is_labelled_as_in_one_process(tiny, tmp_path):
    """A blank paragraph does not stop the run: it gets the empty result, with a warning
    naming its shard and row, as ``framing predict`` in one process gives it; a shard
    without rows is a warning naming it."""
    (tmp_path / "in").mkdir()
    texts = ["match goal team", "  ", "minister vote law"]
    shard = tmp_path / "in" / "a.parquet"
    pd.DataFrame({"id": list("abc"), "text": texts}).to_parquet(shard)
    empty = tmp_path / "in" / "b.parquet"
    pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}
                 ).to_parquet(empty)
    out = tmp_path / "out"
    code, _, err = run_cli("framing", "predict", tiny, str(tmp_path / "in" / "*.parquet"),
                           "--engine", "dask", "--workers", "2", "-o", out)
    assert code == 0, err[-2000:]
    note = ("1 blank text labelled with no labels and no scores, as FramingModel.predict "
            "labels one: row 2 (id 'b')")
    assert f"framing: warning: {shard}: {note}" in err.splitlines()
    assert (f"framing: warning: {empty}: no paragraphs in the input (it holds no records); "
            "nothing to label there") in err.splitlines()
    got = pd.read_parquet(out / "a.labels.parquet")
    model = framing.load(tiny)
    expected = model.predict_frame(pd.DataFrame({"text": texts}))
    assert list(got["id"]) == list("abc")
    assert got["topic"].isna().tolist() == [False, True, False]
    scores = [c for c in got.columns if "/" in c]
    assert list(got.loc[1, "tags"]) == [] and got.loc[1, scores].isna().all()
    for col in expected.columns:
        if "/" in col:
            assert got[col].tolist() == pytest.approx(expected[col].tolist(), nan_ok=True)
    assert len(pd.read_parquet(out / "b.labels.parquet")) == 0
    code, _, err = run_cli("framing", "predict", tiny, shard)
    assert code == 0 and f"framing: warning: {shard}: {note}" in err
