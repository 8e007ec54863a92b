"""An article as a model reads it, on one self-contained HTML page.

:func:`read_article` labels a raw article (:meth:`FramingModel.predict_article`: the
package's segmenter, then each paragraph), asks the model's own :meth:`explain` which
features pushed each label it gave, finds in the text the terms behind those features
(word n-grams, codebook terms), and reads each paragraph's sentences as the model's tone
rule reads them (:class:`framing.predict.runtime.VoiceRule`: attributed or in the
writer's own voice, and evaluative). :func:`render_page` writes the page: the article's
profile, a legend, then the paragraphs in order with their labels, scores as bars, the
own-voice sentences marked and the terms highlighted. :func:`render_index` links the
pages of several articles, each with its profile.

Every text from the article or the model is HTML-escaped; the page has inline CSS and
nothing else (no script, no external asset). Standard library and the predictor only.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from framing.core.version import __version__
from framing.predict.runtime import VoiceRule
from framing.text.terms import TermIndex

#: (ink, tint) of each label colour, in turn over the model's labels: a dark ink for a
#: chip's text, a bar and an underline, a light tint behind highlighted words (both
#: readable with black or white text at WCAG AA contrast).
PALETTE = (("#1f5fa8", "#d7e6f7"), ("#a24f00", "#fbe1c6"), ("#237a45", "#d5efdd"),
           ("#6c3fa3", "#e7dcf8"), ("#b02a37", "#f8d7da"), ("#00707c", "#d1eef0"),
           ("#7b5230", "#eee0d2"), ("#a3306f", "#f6dbea"))


def _e(value: Any) -> str:
    """Any text as HTML (quotes too: safe in an attribute)."""
    return html.escape(str(value), quote=True)


def _pct(x: float) -> str:
    return f"{100 * max(0.0, min(1.0, float(x))):.1f}%"


@dataclass(frozen=True)
class Sentence:
    """One sentence of a paragraph as the tone rule reads it: where it is, whether it is
    the writer's own voice and whether the rule counts it evaluative."""

    start: int
    end: int
    own_voice: bool
    evaluative: bool


@dataclass(frozen=True)
class Term:
    """A stretch of a paragraph behind a feature that pushed a label."""

    start: int
    end: int
    task: str
    label: str
    feature: str
    contribution: float


@dataclass
class Reading:
    """The model's reading of one article (what a page shows)."""

    name: str
    source: str
    result: dict[str, Any]  # predict_article's
    explained: list[dict[tuple[str, str], dict[str, Any]]]  # per paragraph
    terms: list[list[Term]]
    sentences: list[list[Sentence]] | None  # None: the model has no tone rule

    @property
    def headline(self) -> str:
        """The article's first unit (its headline, mostly), shortened past 160 characters."""
        paras = self.result["paragraphs"]
        first = paras[0]["text"] if paras else self.name
        if len(first) <= 160:
            return first
        return first[:150].rsplit(" ", 1)[0].rstrip(",;:") + " …"

    def voice_counts(self) -> dict[str, int] | None:
        if self.sentences is None:
            return None
        flat = [s for p in self.sentences for s in p]
        return {"sentences": len(flat), "own": sum(s.own_voice for s in flat),
                "evaluative": sum(s.evaluative for s in flat)}


# -- reading ----------------------------------------------------------------------------
def voice_rule(model) -> VoiceRule | None:
    """The model's sentence-level tone rule (its runtime's, else its fitted voice family's),
    or None when the model has none."""
    runtime = model.runtime
    if runtime is not None:
        for part, _ in runtime.parts:
            if isinstance(part, VoiceRule):
                return part
        return None
    for _, est in getattr(model.features, "transformer_list", []):
        if hasattr(est, "rule") and hasattr(est, "voice_"):
            return est.rule()
    return None


def read_sentences(rule: VoiceRule, texts: list[str]) -> list[list[Sentence]]:
    """Per paragraph, its sentences as the rule reads them: own voice unless credited to a
    source; evaluative when own voice with an evaluative or exhorting cue or a question,
    or, with a scorer, a score from the rule's cut up (what its columns count)."""
    out = []
    for text, sents in zip(texts, rule.sentences(texts), strict=True):
        found, at = [], 0
        for s, score in sents:
            body = s.text.strip()
            a = text.find(body, at)
            if a < 0 or not body:
                continue
            at = a + len(body)
            evaluative = s.own_voice and (s.cued or (rule.scorer is not None
                                                     and score >= rule.cut))
            found.append(Sentence(a, at, s.own_voice, evaluative))
        out.append(found)
    return out


class _Finder:
    """Where a feature's terms are in a paragraph: word n-grams by the family's own
    tokens, codebook features by their list's terms; other features have no place."""

    def __init__(self, model):
        self.words: dict[str, tuple[re.Pattern, bool, frozenset]] = {}
        self.books: dict[str, tuple[TermIndex, list[str]]] = {}
        for name, est in getattr(model.features, "transformer_list", []):
            if getattr(est, "analyzer", None) == "word" and hasattr(est, "token_pattern"):
                stop = est.get_stop_words() if hasattr(est, "get_stop_words") else None
                self.words[name] = (re.compile(est.token_pattern),
                                    bool(getattr(est, "lowercase", True)),
                                    frozenset(stop or ()))
            elif isinstance(getattr(est, "codebook", None), dict):
                book = {str(k): list(v) for k, v in est.codebook.items()}
                self.books[name] = (TermIndex(book), list(book))

    def spans(self, feature: str, text: str) -> list[tuple[int, int]] | None:
        family, sep, name = feature.partition("__")
        if not sep:
            return None
        if family in self.words:
            pattern, lower, stop = self.words[family]
            source = text.lower() if lower and len(text.lower()) == len(text) else text
            toks = [m for m in pattern.finditer(source) if m.group(0) not in stop]
            want = name.split(" ")
            n = len(want)
            return [(toks[i].start(), toks[i + n - 1].end())
                    for i in range(len(toks) - n + 1)
                    if [m.group(0) for m in toks[i:i + n]] == want]
        if family in self.books:
            index, names = self.books[family]
            return index.spans(text)[names.index(name)] if name in names else None
        return None


def decided(model, task: str, res: dict[str, Any]) -> list[str]:
    """The labels a paragraph's result gives a task (a list, maybe empty)."""
    value = res.get(task)
    if model.kinds[task] == "multilabel":
        return list(value or [])
    return [value] if value is not None else []


def read_article(model, text: str, name: str, source: str | None = None, k: int = 8
                 ) -> Reading:
    """Label, explain and read the sentences of one raw article (see the module)."""
    result = model.predict_article(text, article=name)
    paras = result["paragraphs"]
    finder = _Finder(model)
    explained, terms = [], []
    for p in paras:
        mine: dict[tuple[str, str], dict[str, Any]] = {}
        found: list[Term] = []
        for task in model.tasks:
            for label in decided(model, task, p):
                e = model.explain(p["text"], task, label=label, k=k)
                mine[task, label] = e
                for c in e["contributions"]:
                    if c["contribution"] <= 0:
                        continue
                    for a, b in finder.spans(c["feature"], p["text"]) or ():
                        found.append(Term(a, b, task, label, c["feature"], c["contribution"]))
        explained.append(mine)
        terms.append(found)
    rule = voice_rule(model)
    sentences = read_sentences(rule, [p["text"] for p in paras]) if rule is not None else None
    return Reading(name, source or name, result, explained, terms, sentences)


# -- rendering ----------------------------------------------------------------------------
class _Colours:
    """A colour per (task, label), in the model's order."""

    def __init__(self, model):
        pairs = [(t, lab) for t in model.tasks for lab in model.labels[t]]
        self.index = {pair: i % len(PALETTE) for i, pair in enumerate(pairs)}

    def cls(self, task: str, label: str) -> str:
        return f"k{self.index[task, label]}"

    def tint(self, task: str, label: str) -> str:
        return PALETTE[self.index[task, label]][1]


def feature_text(feature: str) -> str:
    """A feature's name as a reader reads it: a quoted n-gram, a codebook list, a cue."""
    family, sep, name = feature.partition("__")
    if not sep:
        return feature
    if family in ("word", "char"):
        return f"“{name}”"
    if family == "codebook":
        return f"codebook terms of {name}"
    if family == "voice" and ":" in name:
        return f"tone rule's mark ({name})"
    return f"{family}: {name.replace('_', ' ')}"


def _bar(value: float, colour: str | None, threshold: float | None = None) -> str:
    tick = (f'<span class="thr" style="left:{_pct(threshold)}" title="threshold '
            f'{threshold:.2f}"></span>' if threshold is not None else "")
    cls = f"fill {colour}" if colour else "fill off"
    return (f'<span class="bar"><span class="{cls}" style="width:{_pct(value)}"></span>'
            f"{tick}</span>")


def _chips(model, colours: _Colours, res: dict[str, Any]) -> str:
    out = []
    for task in model.tasks:
        labels = decided(model, task, res)
        if not labels:
            out.append(f'<span class="chip none" title="{_e(task)}">no {_e(task)}</span>')
        for lab in labels:
            out.append(f'<span class="chip {colours.cls(task, lab)}" title="{_e(task)}">'
                       f"{_e(lab)}</span>")
    return " ".join(out)


def _text(text: str, sentences: list[Sentence] | None, terms: list[Term],
          colours: _Colours) -> str:
    """The paragraph's text, sentences marked, terms highlighted (every piece escaped)."""
    sents = sentences or []
    cuts = {0, len(text)}
    for s in sents:
        cuts.update((s.start, s.end))
    for t in terms:
        cuts.update((t.start, t.end))
    cuts = sorted(c for c in cuts if 0 <= c <= len(text))
    out, open_at = [], None
    for a, b in zip(cuts, cuts[1:], strict=False):
        here = next((j for j, s in enumerate(sents) if s.start <= a and b <= s.end), None)
        if here != open_at:
            if open_at is not None:
                out.append("</span>")
            if here is not None:
                s = sents[here]
                kind = "s-eval" if s.evaluative else ("s-own" if s.own_voice else "s-attr")
                out.append(f'<span class="{kind}">')
            open_at = here
        piece = _e(text[a:b])
        hits: dict[tuple[str, str], list[Term]] = {}
        for t in terms:
            if t.start <= a and b <= t.end:
                hits.setdefault((t.task, t.label), []).append(t)
        if not hits:
            out.append(piece)
            continue
        order = sorted(hits, key=lambda key: -max(t.contribution for t in hits[key]))
        title = "; ".join(
            f"pushes {label} ({task}): " + ", ".join(
                f"{feature_text(t.feature)} {t.contribution:+.3f}" for t in hits[task, label])
            for task, label in order)
        style = ""
        if len(order) > 1:
            style = f' style="--tint2:{colours.tint(*order[1])}"'
        multi = " multi" if len(order) > 1 else ""
        out.append(f'<mark class="t {colours.cls(*order[0])}{multi}"{style} '
                   f'title="{_e(title)}">{piece}</mark>')
    if open_at is not None:
        out.append("</span>")
    return "".join(out)


def _scores(model, colours: _Colours, res: dict[str, Any]) -> str:
    rows = []
    for task in model.tasks:
        labels = set(decided(model, task, res))
        thr = model.thresholds.get(task) if model.kinds[task] == "multilabel" else None
        rows.append(f'<div class="task">{_e(task)}</div>')
        for lab in model.labels[task]:
            score = float(res["scores"][task].get(lab, 0.0))
            colour = colours.cls(task, lab) if lab in labels else None
            tick = thr.get(lab) if thr else None
            rows.append(f'<div class="row{" on" if colour else ""}"><span class="lab">'
                        f"{_e(lab)}</span>{_bar(score, colour, tick)}"
                        f'<span class="val">{score:.2f}</span></div>')
    return "".join(rows)


def _why(explained: dict[tuple[str, str], dict[str, Any]], colours: _Colours) -> str:
    items = []
    for (task, label), e in explained.items():
        if e.get("note"):
            items.append(f'<li><span class="chip sm {colours.cls(task, label)}">'
                         f'{_e(label)}</span> {_e(e["note"])}</li>')
            continue
        pos = [c for c in e["contributions"] if c["contribution"] > 0]
        if not pos:
            continue
        feats = ", ".join(f'{_e(feature_text(c["feature"]))} <span class="v">'
                          f'{c["contribution"]:+.2f}</span>' for c in pos)
        items.append(f'<li><span class="chip sm {colours.cls(task, label)}">{_e(label)}'
                     f"</span> {feats}</li>")
    return f'<ul class="why">{"".join(items)}</ul>' if items else ""


def _rule_line(sentences: list[Sentence] | None) -> str:
    if sentences is None:
        return ""
    n = len(sentences)
    own = sum(s.own_voice for s in sentences)
    ev = sum(s.evaluative for s in sentences)
    return (f'<p class="rule">{n} sentence{"s" if n != 1 else ""}: {own} in the writer’s '
            f"own voice, {ev} of them evaluative; {n - own} attributed</p>")


def _profile(model, colours: _Colours, reading: Reading) -> str:
    prof = reading.result["profile"]
    cards = []
    for task in model.tasks:
        rows = []
        for lab in model.labels[task]:
            share = prof[task]["share"][lab]
            mean = prof[task]["mean_score"][lab]
            rows.append(f'<div class="row on"><span class="lab">{_e(lab)}</span>'
                        f"{_bar(share, colours.cls(task, lab))}"
                        f'<span class="val">{_pct(share).replace(".0%", "%")}</span>'
                        f'<span class="mean">{mean:.2f}</span></div>')
        kind = ("share of paragraphs with the label" if model.kinds[task] == "multilabel"
                else "share of paragraphs labelled so")
        cards.append(f'<div class="card"><h3>{_e(task)}</h3><p class="hint">{_e(kind)}; '
                     f"mean score at the right</p>{''.join(rows)}</div>")
    voice = reading.voice_counts()
    if voice is not None:
        n = voice["sentences"]
        cards.append(
            '<div class="card"><h3>voice</h3><p class="hint">sentences as the tone rule '
            f"reads them</p>"
            f'<div class="row on"><span class="lab">own voice</span>'
            f'{_bar(voice["own"] / n if n else 0, "voice")}<span class="val">{voice["own"]}'
            f"</span></div>"
            f'<div class="row on"><span class="lab">evaluative</span>'
            f'{_bar(voice["evaluative"] / n if n else 0, "voice-ev")}<span class="val">'
            f'{voice["evaluative"]}</span></div>'
            f'<div class="row on"><span class="lab">attributed</span>'
            f'{_bar((n - voice["own"]) / n if n else 0, None)}<span class="val">'
            f'{n - voice["own"]}</span></div><p class="hint">of {n} sentences</p></div>')
    return f'<section class="profile">{"".join(cards)}</section>'


def _legend(model, colours: _Colours, has_rule: bool) -> str:
    chips = " ".join(f'<span class="chip {colours.cls(t, lab)}">{_e(lab)}</span>'
                     for t in model.tasks for lab in model.labels[t])
    items = [
        f"<dt>Labels</dt><dd>{chips} — one colour per label; a paragraph’s chips are the "
        "labels the model gives it.</dd>",
        f'<dt>Scores</dt><dd>{_bar(0.7, "k0", 0.5)} the model’s score of each label '
        "(0 to 1), coloured when given; a tick marks a multi-label task’s threshold.</dd>",
        '<dt>Terms</dt><dd><mark class="t k0">highlighted words</mark> are the terms behind '
        "the features that pushed a given label (the model’s own explanation: n-grams and "
        "codebook terms), in that label’s colour; hover for the feature and its "
        "contribution. Other features (cues, the tone rule’s columns) are listed under "
        "each paragraph.</dd>"]
    if has_rule:
        items.append(
            '<dt>Voice</dt><dd><span class="s-eval">Sentence in the writer’s own voice, '
            'evaluative</span> — counted by the tone rule; <span class="s-own">own voice, '
            'neutral</span>; <span class="s-attr">attributed to a source (quoted, “said”, '
            "“according to”)</span>. The rule reads a paragraph as promotional when half "
            "or more of its sentences are evaluative in the writer’s own voice.</dd>")
    else:
        items.append("<dt>Voice</dt><dd>This model has no sentence-level tone rule: "
                     "sentences are not marked.</dd>")
    return f'<section class="legend"><h2>How to read this page</h2><dl>{"".join(items)}' \
           "</dl></section>"


CSS = """
:root{--ink:#1c1d21;--muted:#555b66;--line:#dfe2e7;--paper:#ffffff;--bg:#f5f6f8;
--voice:#b7791f;--voice-bg:#fff1c7}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 32px 64px}
header{border-bottom:3px solid var(--ink);padding-bottom:14px;margin-bottom:20px}
.kicker{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);
margin:0 0 6px}
h1{font:700 28px/1.25 Georgia,"DejaVu Serif",serif;margin:0 0 8px}
h2{font-size:13px;letter-spacing:.06em;text-transform:uppercase;color:var(--muted);
margin:0 0 10px}
h3{font-size:14px;margin:0 0 2px;text-transform:capitalize}
.meta{color:var(--muted);font-size:13px;margin:0}
.meta code{font-size:12px;background:#eceef2;padding:1px 4px;border-radius:3px}
a{color:#1f5fa8}
.profile{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:14px;
margin-bottom:18px}
.card,.legend,.para{background:var(--paper);border:1px solid var(--line);border-radius:8px}
.card{padding:12px 14px}
.hint{color:var(--muted);font-size:12px;margin:0 0 8px}
.row{display:grid;grid-template-columns:92px 1fr 44px;align-items:center;gap:8px;
font-size:13px;color:var(--muted)}
.card .row{grid-template-columns:92px 1fr 40px 34px}
.row.on{color:var(--ink)}
.row .lab{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .val,.row .mean{text-align:right;font-variant-numeric:tabular-nums}
.row .mean{color:var(--muted);font-size:12px}
.bar{position:relative;display:inline-block;height:9px;background:#e9ebef;border-radius:5px;
width:100%;min-width:60px;vertical-align:middle}
.legend .bar{width:120px}
.fill{position:absolute;left:0;top:0;bottom:0;border-radius:5px;background:var(--c)}
.fill.off{background:#a7adb8}.fill.voice{background:var(--voice)}
.fill.voice-ev{background:#8a5a00}
.thr{position:absolute;top:-3px;bottom:-3px;width:2px;background:var(--ink);opacity:.7}
.legend{padding:12px 16px;margin-bottom:22px}
.legend dl{display:grid;grid-template-columns:70px 1fr;gap:8px 12px;margin:0;
font-size:13.5px}
.legend dt{font-weight:600}.legend dd{margin:0}
.chip{display:inline-block;padding:1px 9px;border-radius:11px;font-size:12.5px;
font-weight:600;color:#fff;background:var(--c);white-space:nowrap;line-height:1.6}
.chip.sm{font-size:11.5px;padding:0 7px}
.chip.none{background:#eceef2;color:var(--muted);font-weight:500}
.para{display:grid;grid-template-columns:44px minmax(0,1fr) 270px;gap:0 18px;
padding:16px 18px;margin-bottom:12px}
.num{font:700 20px/1 Georgia,"DejaVu Serif",serif;color:#9aa1ad;padding-top:4px}
.chips{margin-bottom:8px;display:flex;flex-wrap:wrap;gap:5px}
.text{font:17px/1.7 Georgia,"DejaVu Serif",serif;margin:0 0 8px;max-width:68ch}
.scores{border-left:1px solid var(--line);padding-left:16px}
.scores .task{font-size:11px;letter-spacing:.06em;text-transform:uppercase;
color:var(--muted);margin:4px 0 2px}
.rule{font-size:12.5px;color:var(--muted);margin:0 0 4px}
.why{list-style:none;margin:0;padding:0;font-size:12.5px;color:var(--muted)}
.why li{margin:3px 0}.why .v{font-variant-numeric:tabular-nums;color:var(--ink)}
mark.t{color:inherit;background:var(--t);border-bottom:2px solid var(--c);
border-radius:2px;padding:0 1px;-webkit-box-decoration-break:clone;box-decoration-break:clone}
mark.t.multi{background:linear-gradient(180deg,var(--t) 0 55%,var(--tint2) 55% 100%)}
.s-eval{background:var(--voice-bg);-webkit-box-decoration-break:clone;
box-decoration-break:clone}
.s-own{text-decoration:underline dotted #7b818c;text-underline-offset:4px}
.s-attr{color:#4a505a}
table.index{width:100%;border-collapse:collapse;background:var(--paper);
border:1px solid var(--line);border-radius:8px;overflow:hidden}
.index th,.index td{text-align:left;vertical-align:top;padding:10px 12px;
border-bottom:1px solid var(--line);font-size:13.5px}
.index th{font-size:11px;letter-spacing:.06em;text-transform:uppercase;color:var(--muted);
background:#fafbfc}
.index td.title a{font:600 15px/1.35 Georgia,"DejaVu Serif",serif;color:var(--ink);
text-decoration:none}
.index td.title a:hover{text-decoration:underline}
.index .row{grid-template-columns:86px 1fr 40px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
@media (max-width:860px){.para{grid-template-columns:1fr}.num{padding-bottom:6px}
.scores{border-left:0;padding-left:0;margin-top:8px}}
"""


def _css() -> str:
    colours = "".join(f".k{i}{{--c:{ink};--t:{tint}}}" for i, (ink, tint) in
                      enumerate(PALETTE))
    return "<style>" + CSS.strip() + colours + "</style>"


def model_summary(model, name: str) -> str:
    """One line on the model: its file, what it was trained on, when, with what."""
    data = model.card.get("data") or {}
    bits = [f"model <code>{_e(name)}</code>"]
    if data.get("name"):
        bits.append(f"trained on {_e(data['name'])}" + (
            f" ({_e(data['n_records'])} paragraphs)" if data.get("n_records") else ""))
    if model.card.get("created"):
        bits.append(f"made {_e(str(model.card['created'])[:10])}")
    return " · ".join(bits)


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<meta name=\"generator\" content=\"framing {_e(__version__)}\">"
            f"<title>{_e(title)}</title>{_css()}</head><body><main>{body}"
            f"<footer>Made by framing {_e(__version__)} (framing report).</footer>"
            "</main></body></html>\n")


def render_page(model, reading: Reading, model_name: str, index: str | None = None) -> str:
    """The article's page (see the module); ``index``: the address of the index page to
    link back to, if any."""
    colours = _Colours(model)
    res = reading.result
    back = f'<a href="{_e(index)}">← all articles</a> · ' if index else ""
    head = (f'<header><p class="kicker">{back}framing report · {_e(reading.source)}</p>'
            f"<h1>{_e(reading.headline)}</h1><p class=\"meta\">{res['n_paragraphs']} "
            f"paragraph{'s' if res['n_paragraphs'] != 1 else ''} · "
            f"{model_summary(model, model_name)}</p></header>")
    paras = []
    for i, p in enumerate(res["paragraphs"]):
        sents = reading.sentences[i] if reading.sentences is not None else None
        paras.append(
            f'<section class="para" id="p{p["paragraph"]}"><div class="num">'
            f'{p["paragraph"] + 1}</div><div class="body"><div class="chips">'
            f"{_chips(model, colours, p)}</div><p class=\"text\">"
            f"{_text(p['text'], sents, reading.terms[i], colours)}</p>"
            f"{_rule_line(sents)}{_why(reading.explained[i], colours)}</div>"
            f'<aside class="scores">{_scores(model, colours, p)}</aside></section>')
    body = (head + "<h2>Article profile</h2>" + _profile(model, colours, reading)
            + _legend(model, colours, reading.sentences is not None)
            + "<h2>Paragraphs</h2>" + "".join(paras))
    return _page(f"{reading.headline} — framing report", body)


def render_index(model, readings: list[Reading], pages: list[str], model_name: str) -> str:
    """The index of several articles' pages: each linked, with its profile."""
    colours = _Colours(model)
    head = (f'<header><p class="kicker">framing report</p><h1>{len(readings)} '
            f"article{'s' if len(readings) != 1 else ''}</h1><p class=\"meta\">"
            f"{model_summary(model, model_name)}</p></header>")
    th = "".join(f"<th>{_e(t)}</th>" for t in model.tasks)
    rows = []
    for r, page in zip(readings, pages, strict=True):
        cells = []
        for task in model.tasks:
            share = r.result["profile"][task]["share"]
            cells.append("<td>" + "".join(
                f'<div class="row{" on" if share[lab] else ""}"><span class="lab">{_e(lab)}'
                f"</span>{_bar(share[lab], colours.cls(task, lab) if share[lab] else None)}"
                f'<span class="val">{_pct(share[lab]).replace(".0%", "%")}</span></div>'
                for lab in model.labels[task]) + "</td>")
        voice = r.voice_counts()
        own = (f"<br><span class=\"hint\">{voice['own']} of {voice['sentences']} sentences "
               f"own voice, {voice['evaluative']} evaluative</span>" if voice else "")
        rows.append(f'<tr><td class="title"><a href="{_e(quote(page))}">{_e(r.headline)}</a>'
                    f'<br><span class="hint">{_e(r.source)}</span></td>'
                    f"<td>{r.result['n_paragraphs']}{own}</td>{''.join(cells)}</tr>")
    body = (head + '<table class="index"><thead><tr><th>article</th><th>paragraphs</th>'
            f"{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            '<p class="hint" style="margin-top:10px">Each bar: the share of the article’s '
            "paragraphs given the label.</p>")
    return _page("framing report — articles", body)


def page_names(sources: list[str | Path]) -> list[str]:
    """A page file name per article (its file name's stem), made unique, never the
    index's."""
    taken, out = {"index"}, []
    for src in sources:
        stem = Path(src).stem or "article"
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        out.append(f"{name}.html")
    return out
