"""Data only, no code: the speaker-profile vocabulary (``profiles.toml``).

One home for the survey's vocabulary (education scale, yes/no and gender spellings,
dialect regions, profile columns), read through :mod:`importlib.resources` by
:mod:`corpora` (validating ``speakers.csv``, the synthetic corpus) and by :mod:`models`
(analysable profiles), so that neither imports the other. See ``docs/architecture.md``.
"""
