"""Raw article text to paragraph units, following the annotation guidelines.

The unit is a paragraph the article separates by a line break. Two conventions occur:
paragraphs separated by blank lines (lines inside a block are hard wraps and are joined),
and one paragraph per line when the text has no blank line at all. A heading (a short
line with no sentence-final punctuation) joins the paragraph after it; the first line,
the headline, is a unit of its own; page chrome and a verbatim repeat of the headline
are dropped.

This module needs only the standard library: the predictor uses it for whole articles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from framing.core.errors import FramingDataError

#: Patterns of page chrome: text on a page that is not text of the article.
DEFAULT_CHROME: tuple[str, ...] = (
    r"please enter your (comment|name|email)( here)?[!.]?",
    r"no comments?\.?",
    r"\d+ comments?\.?",
    r"powered by blogger\.?",
    r"read (more|also)\s*:.*",
    r"(leave a (reply|comment)|post a comment|add a comment)\.?",
    r"(share|share this|share this article|print|email)\s*:?",
    r"(subscribe|sign up) to our newsletter.*",
    r"advertisement",
    r"(related|recommended) (articles|stories|posts)\s*:?",
    r"(tags|category|categories)\s*:.*",
)

_SENTENCE_END = tuple(".!?…\"'”’»)]")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")


@dataclass(frozen=True)
class Paragraph:
    """One unit of an article: its position and its text."""

    article: str
    paragraph: int
    text: str

    @property
    def id(self) -> str:
        """The record id, ``<article>-<paragraph, two digits>``."""
        return f"{self.article}-{self.paragraph:02d}"

    def to_record(self) -> dict:
        """The unlabeled record written for annotation."""
        return {"id": self.id, "article": self.article, "paragraph": self.paragraph,
                "text": self.text}


class Segmenter:
    """Cut raw article text into paragraph units.

    Parameters
    ----------
    chrome : sequence of str, optional
        Regular expressions (matched against a whole stripped line, case-insensitively)
        for page chrome to drop. Defaults to :data:`DEFAULT_CHROME`.
    max_heading_words : int, default=12
        A line of at most this many words with no sentence-final punctuation is a
        heading and joins the paragraph after it.
    """

    def __init__(self, chrome: Sequence[str] | None = None, max_heading_words: int = 12):
        self.chrome = tuple(DEFAULT_CHROME if chrome is None else chrome)
        self.max_heading_words = max_heading_words
        self._chrome = [re.compile(p, re.IGNORECASE) for p in self.chrome]

    def is_chrome(self, line: str) -> bool:
        """Whether a stripped line is page chrome."""
        return any(p.fullmatch(line) for p in self._chrome)

    def is_heading(self, line: str) -> bool:
        """Whether a line is a heading: short and without sentence-final punctuation."""
        return (len(line.split()) <= self.max_heading_words
                and not line.endswith(_SENTENCE_END))

    def blocks(self, text: str) -> list[str]:
        """Physical paragraphs of the text, chrome dropped, hard wraps joined."""
        text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        if _BLANK_LINE.search(text.strip()):
            chunks = [c.split("\n") for c in _BLANK_LINE.split(text)]
        else:
            chunks = [[line] for line in text.split("\n")]
        out = []
        for lines in chunks:
            kept = [s for s in (ln.strip() for ln in lines) if s and not self.is_chrome(s)]
            if kept:
                out.append(" ".join(kept))
        return out

    def split(self, text: str) -> list[str]:
        """The unit texts of one article, in order."""
        blocks = self.blocks(text)
        if not blocks:
            return []
        headline, units, pending = blocks[0], [blocks[0]], []
        for block in blocks[1:]:
            if block == headline:
                continue
            if self.is_heading(block):
                pending.append(block)
                continue
            units.append(" ".join([*pending, block]))
            pending = []
        if pending:
            units.append(" ".join(pending))
        return units

    def segment(self, text: str, article: str) -> list[Paragraph]:
        """The units of one article as :class:`Paragraph` objects numbered from 0."""
        return [Paragraph(article, i, t) for i, t in enumerate(self.split(text))]


def read_article(path: str | Path) -> str:
    """Read one article as UTF-8 text, or raise :class:`FramingDataError`."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FramingDataError(f"{path}: no such file. Check the path.") from None
    except IsADirectoryError:
        raise FramingDataError(f"{path}: is a folder; give the article files in it.") from None
    except UnicodeDecodeError as e:
        raise FramingDataError(
            f"{path}: not UTF-8 text (byte {e.start}). Convert the file to UTF-8.") from None
    except OSError as e:
        raise FramingDataError(f"{path}: cannot be read ({e.strerror}).") from None


def segment_files(paths: Iterable[str | Path],
                  segmenter: Segmenter | None = None) -> list[Paragraph]:
    """Segment article files; each article is named by its file name without suffix."""
    segmenter = segmenter or Segmenter()
    out: list[Paragraph] = []
    for p in paths:
        out.extend(segmenter.segment(read_article(p), Path(p).stem))
    return out
