"""``framing report``: an article's page (profile, paragraphs in order with their labels,
scores, voice marks and highlighted terms), the index of several, escaping of hostile
text, one-line refusals that write nothing, the MLflow artifacts, and the page as a
browser draws it (where Chromium is installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import framing

from conftest import ROOT, SEEDS, run_cli

MODEL = ROOT / "tests" / "data" / "model-0.2.0.joblib"
ARTICLE = SEEDS / "000_584ab39c5e970676.txt"
HOSTILE = ('<script>alert("headline")</script> Tom & Jerry say "hi"\n\n'
           "Officials met in <b>Islamabad</b> & agreed on trade; the minister said "
           "<img src=x onerror=alert(1)> was &amp; is fine.\n\n"
           "We must stand together: this is a historic bond </p></section> to cherish.\n")


class Page(HTMLParser):
    """What a reader sees of a page: each paragraph's text, chips and score labels, the
    profile's rows, the links, the title, and every element's tag."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[dict] = []
        self.profile: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.title = ""
        self._stack: list[tuple[str, str]] = []
        self._row: list[str] | None = None
        self.feed(source)

    def _inside(self, cls: str) -> bool:
        return any(cls in c.split() for _, c in self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        self.tags.add(tag)
        if tag == "a":
            self.links.append(a.get("href") or "")
        if "para" in cls.split():
            self.paragraphs.append({"text": "", "chips": [], "scored": []})
        if "row" in cls.split() and self._inside("profile"):
            self._row = []
        if tag not in ("meta", "br"):
            self._stack.append((tag, cls))

    def handle_endtag(self, tag):
        while self._stack:
            t, cls = self._stack.pop()
            if "row" in cls.split() and self._row is not None:
                self.profile.append((self._row[0], self._row[1]))
                self._row = None
            if t == tag:
                break

    def handle_data(self, data):
        if self._stack and self._stack[-1][0] == "title":
            self.title += data
        if self._row is not None and data.strip():
            self._row.append(data.strip())
        if not self.paragraphs:
            return
        p = self.paragraphs[-1]
        if self._inside("text"):
            p["text"] += data
        elif self._inside("chip") and self._inside("chips"):
            p["chips"].append(data)
        elif self._inside("lab") and self._inside("scores"):
            p["scored"].append(data)


def seed_paragraphs(article: str) -> list[str]:
    rows = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    return [r["text"] for r in rows if r["article"] == article]


def expected_chips(model, res) -> list[str]:
    out = []
    for t in model.tasks:
        labels = res[t] if model.kinds[t] == "multilabel" else [res[t]]
        out += labels or [f"no {t}"]
    return out


@pytest.fixture(scope="module")
def model():
    return framing.load(MODEL)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "article.html"
    code, _, err = run_cli("framing", "report", MODEL, ARTICLE, "-o", out)
    assert code == 0, err
    assert err.strip() == f"1 article, 13 paragraphs: report written to {out}"
    return out


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    """Two seed articles and a hostile one into a folder, logged to a fresh MLflow store."""
    tmp = tmp_path_factory.mktemp("bulk")
    hostile = tmp / "hostile.txt"
    hostile.write_text(HOSTILE, encoding="utf-8")
    files = [ARTICLE, SEEDS / "003_ddd6b63e48831aae.txt", hostile]
    out = tmp / "reports"
    code, _, err = run_cli("framing", "report", MODEL, *files, "-o", f"{out}/", "--mlflow",
                           f"sqlite:///{tmp / 'mlflow.db'}", cwd=tmp)
    assert code == 0, err
    return tmp, out, files, err


def test_the_page_holds_every_paragraph_in_order_with_its_labels(single, model):
    source = single.read_text(encoding="utf-8")
    page = Page(source)
    expected = seed_paragraphs(ARTICLE.stem)
    assert [p["text"] for p in page.paragraphs] == expected
    article = model.predict_article(ARTICLE.read_text(encoding="utf-8"), ARTICLE.stem)
    for shown, res in zip(page.paragraphs, article["paragraphs"], strict=True):
        assert shown["chips"] == expected_chips(model, res)
        assert shown["scored"] == [lab for t in model.tasks for lab in model.labels[t]]
    # the profile on top: each label's share of paragraphs, as predict --article gives it
    shares = [f"{100 * article['profile'][t]['share'][lab]:.1f}%".replace(".0%", "%")
              for t in model.tasks for lab in model.labels[t]]
    labels = [lab for t in model.tasks for lab in model.labels[t]]
    assert page.profile[:len(labels)] == list(zip(labels, shares, strict=True))
    assert page.title.startswith(expected[0])
    # one file: no script, no external asset
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert not re.search(r"(src|href)\s*=\s*\"?(https?:)?//", source)
    assert "How to read this page" in source


def test_the_sentences_of_the_writers_voice_and_the_pushing_terms_are_marked(single, model):
    source = single.read_text(encoding="utf-8")
    from framing.evaluate.report import read_sentences, voice_rule

    texts = seed_paragraphs(ARTICLE.stem)
    sentences = read_sentences(voice_rule(model), texts)
    n_eval = sum(s.evaluative for p in sentences for s in p)
    n_own = sum(s.own_voice and not s.evaluative for p in sentences for s in p)
    n_attr = sum(not s.own_voice for p in sentences for s in p)
    assert n_eval and n_attr  # the article has both kinds
    legend = 3  # the legend shows one mark of each kind
    assert source.count('<span class="s-eval">') == n_eval + 1
    assert source.count('<span class="s-own">') == n_own + 1
    assert source.count('<span class="s-attr">') == n_attr + 1
    assert source.count("<span class=\"s-") == n_eval + n_own + n_attr + legend
    # a highlighted term is a term of a feature that pushed the label its colour names
    e = model.explain(texts[2], "tone", label="promotional", k=8)
    assert e["label"] == "promotional" and e["score"] > 0.5
    marks = re.findall(r'<mark class="t [^"]*" (?:style="[^"]*" )?title="([^"]*)">([^<]*)</mark>',
                       source)
    assert marks and any("pushes promotional (tone)" in title for title, _ in marks)


def test_a_model_without_the_tone_rule_says_so(tiny):
    from framing.evaluate.report import read_article, render_page

    model = framing.load(tiny)
    text = "Match report\n\nThe team scored a goal.\n\nThe minister lost the vote."
    reading = read_article(model, text, "match")
    assert reading.sentences is None
    source = render_page(model, reading, "tiny.joblib")
    page = Page(source)
    assert [p["text"] for p in page.paragraphs] == ["Match report", "The team scored a goal.",
                                                     "The minister lost the vote."]
    assert "no sentence-level tone rule" in source and 'class="s-' not in source
    # the words that pushed each label are highlighted
    assert re.search(r'<mark class="t [^"]*"[^>]*>goal</mark>', source)


def test_hostile_text_is_escaped_everywhere(bulk):
    tmp, out, files, _ = bulk
    source = (out / "hostile.html").read_text(encoding="utf-8")
    page = Page(source)
    raw = [b.strip() for b in HOSTILE.split("\n\n") if b.strip()]
    assert [p["text"] for p in page.paragraphs] == raw
    assert page.title.startswith(raw[0])
    assert not page.tags & {"script", "img", "b"}
    assert "&lt;script&gt;" in source and "Tom &amp; Jerry" in source
    assert "&amp;amp; is fine" in source  # the article's own "&amp;" stays visible text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in index and "&lt;script&gt;alert(&quot;headline&quot;)" in index


def test_several_articles_give_a_page_each_and_an_index(bulk, model):
    tmp, out, files, err = bulk
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{Path(f).stem}.html" for f in files] + ["index.html"])
    assert f"3 articles, {13 + 8 + 3} paragraphs: report written to {out}/" in err
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    assert index.links == [f"{Path(f).stem}.html" for f in files]
    for f in files[:2]:
        page = Page((out / f"{Path(f).stem}.html").read_text(encoding="utf-8"))
        assert [p["text"] for p in page.paragraphs] == seed_paragraphs(Path(f).stem)
        assert page.links == ["index.html"]
    # each article's profile in the index: a share per label
    source = (out / "index.html").read_text(encoding="utf-8")
    prof = model.predict_article(files[1].read_text(encoding="utf-8"))["profile"]
    row = source.split(f'href="{files[1].stem}.html"')[1].split("</tr>")[0]
    shown = re.findall(r'<span class="lab">([^<]*)</span>.*?<span class="val">([^<]*)</span>',
                       row)
    assert shown == [(lab, f"{100 * prof[t]['share'][lab]:.1f}%".replace(".0%", "%"))
                     for t in model.tasks for lab in model.labels[t]]


def test_pages_are_named_by_their_articles_and_never_clash():
    from framing.evaluate.report import page_names

    assert page_names(["a/x.txt", "b/x.txt", "index.txt", "X.txt"]) == [
        "x.html", "x-2.html", "index-2.html", "X-3.html"]  # case-blind file systems


def test_the_pages_are_logged_to_mlflow(bulk):
    from mlflow.tracking import MlflowClient

    tmp, out, files, err = bulk
    assert "logged to sqlite:///" in err
    client = MlflowClient(f"sqlite:///{tmp / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("framing-report")
                                 .experiment_id])
    assert run.data.params == {"articles": "3", "paragraphs": "24"}
    logged = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "report")}
    assert logged == {p.name for p in out.iterdir()} | {"profiles.json"}
    got = Path(client.download_artifacts(run.info.run_id, "report/index.html", str(tmp)))
    assert got.read_bytes() == (out / "index.html").read_bytes()


@pytest.mark.parametrize("case", ["missing article", "empty article", "non-model file",
                                  "several articles into one file"])
def test_bad_input_is_one_line_and_writes_nothing(case, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    bad = tmp_path / "model.joblib"
    bad.write_text("not a model\n")
    page, folder = tmp_path / "out" / "page.html", f"{tmp_path / 'out'}/"
    args, out, says = {
        "missing article": ([MODEL, tmp_path / "nope.txt"], page, "nope.txt: no such file"),
        # among several: nothing is written, not even the other article's page
        "empty article": ([MODEL, ARTICLE, empty], folder, "empty.txt: the article holds "
                          "no paragraph"),
        "non-model file": ([bad, ARTICLE], page, "model.joblib: not a framing model file: it "
                           "looks like a text file"),
        "several articles into one file": ([MODEL, ARTICLE, ARTICLE], page,
                                           "page.html: with 2 articles, -o names a folder"),
    }[case]
    code, stdout, err = run_cli("framing", "report", *args, "-o", out)
    assert code == 2
    assert says in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists() and stdout == ""


def _browser() -> str | None:
    return next((b for b in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(b)), None)


def test_a_browser_draws_the_page(single, model, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH: the page is "
                    "not drawn (.ci/run installs Debian's chromium)")
    import matplotlib.image as mpimg
    import numpy as np

    from framing.evaluate.report import PALETTE

    base = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "page.png"
    subprocess.run([*base, f"--screenshot={png}", "--window-size=1200,1600",
                    single.as_uri()], capture_output=True, timeout=180, check=True)
    pixels = mpimg.imread(png)[:, :, :3]
    assert pixels.shape[:2] == (1600, 1200)
    flat = (pixels.reshape(-1, 3) * 255).round().astype(int)
    assert len(np.unique(flat, axis=0)) > 50  # not blank: text, chips, bars
    background = flat[0]
    assert (np.abs(flat - background).sum(axis=1) > 30).mean() > 0.05
    # the first paragraph's chips are drawn in their labels' colours
    first = model.predict_article(ARTICLE.read_text(encoding="utf-8"))["paragraphs"][0]
    pairs = [(t, lab) for t in model.tasks for lab in model.labels[t]]
    for t in model.tasks:
        for lab in (first[t] if model.kinds[t] == "multilabel" else [first[t]]):
            ink = PALETTE[pairs.index((t, lab)) % len(PALETTE)][0]
            rgb = np.array([int(ink[i:i + 2], 16) for i in (1, 3, 5)])
            assert (np.abs(flat - rgb).max(axis=1) <= 2).sum() > 200, (lab, ink)
    dom = subprocess.run([*base, "--dump-dom", single.as_uri()], capture_output=True,
                         text=True, timeout=180, check=True).stdout
    page = Page(dom)
    assert [p["text"] for p in page.paragraphs] == seed_paragraphs(ARTICLE.stem)
    assert page.paragraphs[0]["chips"] == expected_chips(model, first)
    assert "script" not in page.tags
