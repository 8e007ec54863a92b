"""Labelled corpora and texts to label: :class:`~framing.data.corpus.Corpus` and
:func:`~framing.data.corpus.load_corpus` (JSON lines, CSV, Parquet, Hugging Face, with
record-by-record validation), and the readers of files of texts (``texts``).

May import ``core`` and ``config.schema``.
"""

from framing.data.corpus import Corpus, load_corpus

__all__ = ["Corpus", "load_corpus"]
