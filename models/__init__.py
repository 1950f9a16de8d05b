"""pandas tables -> results: normalisation, speaker profiles, structure (PCA and
clustering), regression, prediction, plots.

Sees DataFrames only; never imports :mod:`corpora`, :mod:`features` or :mod:`speech`.
"""
