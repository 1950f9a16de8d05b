"""The data at rest -> Python: corpus layout, speaker profiles, recordings and
audio decoding, transcripts, and the synthetic reference corpus.

Never imports :mod:`features`, :mod:`models` or :mod:`speech`.
"""

from corpora.problems import CorpusError, Problem

__all__ = ["CorpusError", "Problem"]
