import json

from framing.text.segment import Segmenter, segment_files

from conftest import SEEDS, run_cli


def test_seed_articles_segment_into_the_gold_units():
    gold = [json.loads(line) for line in (SEEDS / "paragraphs.jsonl").open(encoding="utf-8")]
    got = segment_files(sorted(SEEDS.glob("*.txt")))
    assert len(got) == 55
    assert [p.text for p in got] == [g["text"] for g in gold]
    assert [p.id for p in got] == [g["id"] for g in gold]
    assert [(p.article, p.paragraph) for p in got] == [(g["article"], g["paragraph"])
                                                        for g in gold]


def test_hard_wrapped_paragraphs_come_out_whole():
    text = ("Leaders meet in Islamabad\n\n"
            "The two presidents met on Monday and agreed\nto expand trade across the border,\n"
            "officials said.\n\n"
            "Talks will continue\nnext month in Tehran.\n")
    assert Segmenter().split(text) == [
        "Leaders meet in Islamabad",
        "The two presidents met on Monday and agreed to expand trade across the border, "
        "officials said.",
        "Talks will continue next month in Tehran."]


def test_headings_join_the_next_paragraph_and_chrome_and_repeats_drop():
    text = ("Headline of the story\n\nHeadline of the story\n\nKey Points:\n\n"
            "- Trade rose by ten percent.\n\nRead more: Another story here\n\n"
            "Please enter your comment!\nPlease enter your name here\n\nNo comments\n\n"
            "Powered by Blogger.")
    assert Segmenter().split(text) == ["Headline of the story",
                                       "Key Points: - Trade rose by ten percent."]


def test_single_line_break_convention():
    text = "First line is the headline.\nSecond paragraph.\nThird paragraph."
    assert Segmenter().split(text) == ["First line is the headline.", "Second paragraph.",
                                       "Third paragraph."]


def test_cli_segment_writes_records_atomically(tmp_path):
    out = tmp_path / "units.jsonl"
    code, _, err = run_cli("framing", "segment", *sorted(SEEDS.glob("*.txt")), "-o", out)
    assert code == 0, err
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 55 and set(recs[0]) == {"id", "article", "paragraph", "text"}
    assert "55 paragraphs from 5 articles" in err
    assert not list(tmp_path.glob(".*tmp"))


def test_cli_segment_missing_file_is_one_clear_error(tmp_path):
    out = tmp_path / "units.jsonl"
    code, stdout, err = run_cli("framing", "segment", tmp_path / "nope.txt", "-o", out)
    assert code == 2
    assert "nope.txt: no such file" in err and "Traceback" not in err
    assert not out.exists()
