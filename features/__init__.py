"""NumPy signal -> frame tracks and tables: segmentation, prosody, voice quality,
spectra, rhythm, vowels, sibilants.

Sees arrays and a sample rate only; never imports :mod:`corpora`, :mod:`models`
or :mod:`speech`.
"""
