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
from itertools import accumulate, compress

_WORD = re.compile(r"\w+")
_LEAD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
_GAP = re.compile(r"[\s\-]+")
#: The split of the texts seen last: the codebook, the cues and the sentence rule each
#: look the same paragraph up, and split it once.
_RECENT: dict[str, list[str]] = {}
_RECENT_LIMIT = 4 * 2 ** 20  # characters of text remembered, at most
_recent_size = [0]


def _remember(text: str, parts: list[str]) -> None:
    if _recent_size[0] + len(text) > _RECENT_LIMIT:
        _RECENT.clear()
        _recent_size[0] = 0
    _RECENT[text] = parts
    _recent_size[0] += len(text)


def split_words(text: str) -> list[str] | None:
    """``re.split(r"(\\w+)", text.lower())``: the gaps and words in turn (the words
    lower-cased) — remembered, as the word lists look the same text up — or None where
    lower-casing changes the text's length (offsets would shift)."""
    parts = _RECENT.get(text)
    if parts is None:
        low = text.lower()
        if len(low) != len(text):
            return None
        parts = _SPLIT.split(low)
        _remember(text, parts)
    return parts


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
                # A term of whole words (the last may be a stem) is checked against the
                # text's next words and the gaps between them; any other by its expression.
                plain = all(_LEAD.fullmatch(w) for w in words)
                alt = (li, rank, compiled, tuple(words[1:]) if plain else None,
                       expr.endswith(r"\w*"))
                if len(words) == 1 and plain and expr.endswith(r"\w*"):
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
        parts = split_words(text)  # one split gives the words and what lies between
        if parts is not None:
            words = parts[1::2]
        else:  # a character whose lower case is longer: offsets would shift
            parts = None
            found = list(_WORD.finditer(text))
            words = [m.group(0).lower() for m in found]
        missing = set(words).difference(cache)
        if missing:
            if len(cache) + len(missing) > 200000:  # a huge vocabulary: bounded memory
                cache.clear()
                missing = set(words)
            for word in missing:  # the terms each new word may start, each list's in order
                cache[word] = sorted(exact.get(word, []) + [alt for key, alt in prefix
                                                            if word.startswith(key)],
                                     key=lambda a: (a[0], a[1])) or None
        looked = list(map(cache.__getitem__, words))
        hits = list(compress(range(len(words)), looked))  # words that may start a term
        if hits:
            # word i spans ends[2i] to ends[2i + 1]; the gap before it is parts[2i]
            ends = list(accumulate(map(len, parts))) if parts is not None else None
            n_words = len(words)
            free = [0] * len(names)  # where each list may match next (no overlaps)
            for i in hits:
                pos = ends[2 * i] if ends is not None else found[i].start()
                done = -1
                for li, _rank, compiled, tail, stem in looked[i]:
                    if li == done or pos < free[li]:
                        continue
                    if tail is not None and ends is not None:
                        last = i + len(tail)
                        if last >= n_words or not _follows(words, parts, i, tail, stem):
                            continue
                        end = ends[2 * last + 1]
                    else:
                        hit = compiled.match(text, pos)
                        if not hit:
                            continue
                        end = hit.end()
                    out[li].append((pos, end))
                    free[li] = end
                    done = li
        for li in fallback:  # rare: a term that starts with punctuation
            out[li] = [m.span() for m in patterns[li].finditer(text)] if patterns[li] else []
        return out

    def counts(self, text: str) -> list[int]:
        """Per list, how many times its terms occur in ``text``."""
        return [len(s) for s in self.spans(text)]


def _follows(words: list[str], parts: list[str], i: int, tail: tuple[str, ...],
             stem: bool) -> bool:
    """Whether the words after word ``i`` are ``tail`` (the last one a stem's beginning
    when ``stem``), each after a gap of spaces or hyphens only."""
    for k, w in enumerate(tail, 1):
        word = words[i + k]
        if not (word.startswith(w) if stem and k == len(tail) else word == w):
            return False
        if not _GAP.fullmatch(parts[2 * (i + k)]):
            return False
    return True


def _literal_words(body: str) -> list[str]:
    """The literal words of a term's expression (unescaped), lower-case."""
    body = body.removesuffix(r"\w*").removesuffix(r"\b")
    return [re.sub(r"\\(.)", r"\1", w) for w in body.split(r"[\s\-]+")]
