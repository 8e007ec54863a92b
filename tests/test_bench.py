import pytest

from conftest import run_cli


@pytest.mark.slow
def test_bench_prints_predictor_and_scale_tables(trained, tmp_path):
    report = tmp_path / "bench.md"
    code, out, err = run_cli("python", "-m", "framing.bench", "--corpora", "", "--sizes",
                             "1000,3000", "--model", trained[0], "--output", report)
    assert code == 0, err[-2000:]
    assert "latency median (ms)" in out and "| 1,000 |" in out and "| 3,000 |" in out
    assert "training time grows as n^" in out and "prediction time grows as n^" in out
    text = report.read_text()
    assert text.startswith("Run ") and "## Scale (streaming path, generated corpora)" in text
