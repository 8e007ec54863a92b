"""Word lists matched in one pass over a text's words.

A codebook or a cue list is a list of terms: a word, a phrase (words separated by spaces
or hyphens in the text), or a stem (``terror*``: any ending). Matched as one
case-insensitive regular-expression alternation per list, every list scans the whole
text at every position; with two dozen lists that was most of a model's prediction
time. :class:`TermIndex` finds the same matches by looking each word of the text up once:
an exact first word in a dictionary, a stem through a per-word cache, then the candidate
term verified with its own expression at that position. The counts (and positions) are
the ones ``re.findall`` of the list's alternation gives — leftmost, non-overlapping, the
longer pattern first — and a test holds them equal on the seeds and generated text.

Standard library only; the compiled index is rebuilt after unpickling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import compress

_WORD = re.compile(r"\w+")
_LEAD = re.compile(r"\w+")


def term_regex(term: str) -> str | None:
    """The expression of one term: words joined by spaces or hyphens, ``*`` any ending."""
    term = str(term).strip().lower()
    if not term:
        return None
    stem = term.endswith("*")
    body = r"[\s\-]+".join(re.escape(w) for w in term.rstrip("*").split())
    return r"\b" + body + (r"\w*" if stem else r"\b")


def term_pattern(terms: Sequence[str], flags: int = re.IGNORECASE) -> re.Pattern | None:
    """One alternation for a list (longest expression first), as the lists were matched."""
    parts = [p for p in (term_regex(t) for t in terms) if p]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), flags)


class TermIndex:
    """Several term lists, matched in one pass over a text's words.

    Parameters
    ----------
    lists : mapping of str to list of str
        A name per list, and its terms.
    """

    def __init__(self, lists: Mapping[str, Sequence[str]]):
        self.lists = {str(k): [str(t) for t in (v or [])] for k, v in lists.items()}
        self._built = None

    def __getstate__(self):
        return {"lists": self.lists, "_built": None}

    def _build(self):
        names = list(self.lists)
        exact: dict[str, list] = {}
        prefix: list[tuple[str, tuple]] = []
        fallback: list[int] = []  # lists with a term that starts with no word character
        for li, name in enumerate(names):
            # the alternation's order: the terms' order, stably by length, longest first
            exprs = [p for p in (term_regex(t) for t in self.lists[name]) if p]
            exprs.sort(key=len, reverse=True)
            for rank, expr in enumerate(exprs):
                body = expr[2:]  # without the leading \b
                compiled = re.compile(expr, re.IGNORECASE)
                words = _literal_words(body)
                lead = _LEAD.match(words[0]) if words else None
                if lead is None or lead.start() != 0:
                    fallback.append(li)
                    continue
                key = lead.group(0)
                alt = (li, rank, compiled)
                if len(words) == 1 and expr.endswith(r"\w*") and key == words[0]:
                    prefix.append((key, alt))
                else:
                    exact.setdefault(key, []).append(alt)
        self._built = (names, exact, prefix, sorted(set(fallback)),
                       [term_pattern(self.lists[n]) for n in names], {})
        return self._built

    @property
    def names(self) -> list[str]:
        """The lists' names, in order."""
        return list(self.lists)

    def spans(self, text: str) -> list[list[tuple[int, int]]]:
        """Per list, the (start, end) of each match in ``text``."""
        names, exact, prefix, fallback, patterns, cache = self._built or self._build()
        out: list[list[tuple[int, int]]] = [[] for _ in names]
        free = [0] * len(names)  # where each list may match next (matches do not overlap)
        found = list(_WORD.finditer(text))
        words = [m.group(0).lower() for m in found]
        missing = set(words).difference(cache)
        if len(cache) + len(missing) > 200000:  # a huge vocabulary: keep memory bounded
            cache.clear()
            missing = set(words)
        for word in missing:  # the terms each new word may start, each list's in order
            cache[word] = sorted(exact.get(word, []) + [alt for key, alt in prefix
                                                        if word.startswith(key)],
                                 key=lambda a: (a[0], a[1]))
        looked = list(map(cache.__getitem__, words))
        for i in compress(range(len(words)), looked):  # only words that may start a term
            pos = found[i].start()
            done = -1
            for li, _rank, compiled in looked[i]:
                if li == done or pos < free[li]:
                    continue
                hit = compiled.match(text, pos)
                if hit:
                    out[li].append((pos, hit.end()))
                    free[li] = hit.end()
                    done = li
        for li in fallback:  # rare: a term that starts with punctuation
            out[li] = [m.span() for m in patterns[li].finditer(text)] if patterns[li] else []
        return out

    def counts(self, text: str) -> list[int]:
        """Per list, how many times its terms occur in ``text``."""
        return [len(s) for s in self.spans(text)]


def _literal_words(body: str) -> list[str]:
    """The literal words of a term's expression (unescaped), lower-case."""
    body = body.removesuffix(r"\w*").removesuffix(r"\b")
    return [re.sub(r"\\(.)", r"\1", w) for w in body.split(r"[\s\-]+")]
