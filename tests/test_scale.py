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
def test_a_bad_shard_fails_the_run_in_one_line_and_leaves_no_output(trained, tmp_path):
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    (tmp_path / "in").mkdir()
    pd.DataFrame(rows[:20]).to_parquet(tmp_path / "in" / "a.parquet")
    bad = pd.DataFrame(rows[20:30])
    bad.loc[3, "text"] = " "  # the in-process reader refuses it too
    bad.to_parquet(tmp_path / "in" / "b.parquet")
    out = tmp_path / "out"
    code, _, err = run_cli("framing", "predict", trained[0], str(tmp_path / "in" / "*.parquet"),
                           "--engine", "dask", "--workers", "2", "-o", out)
    assert code == 2, err[-2000:]
    assert err.strip().splitlines() == [f"framing: error: {tmp_path / 'in' / 'b.parquet'}, "
                                        "row 4: 'text' is empty. Remove the row or give it text."]
    assert list(out.iterdir()) == []  # a.parquet's labels, if written, are gone too
    code, _, err = run_cli("framing", "predict", trained[0], tmp_path / "in" / "b.parquet")
    assert code == 2 and "b.parquet, row 4: 'text' is empty" in err
