"""Planted F0 contours of inter-pausal units.

A contour is defined in semitones around the speaker's median F0 and is smooth
and continuous over the whole IPU (also through unvoiced stretches, so the
glottal cycle sequence never breaks):

* declination: a linear fall of ``declination_st`` (2-4 st) from IPU start to end,
  centred on the median (``+d/2`` at the start, ``-d/2`` at the end);
* phrase accents: a Gaussian bump of 1.5-3 st per accented stressed syllable, its
  peak at the end of the stressed vowel, i.e. delayed into the post-tonic
  syllable as in Spanish prenuclear accents (Prieto, van Santen & Hirschberg 1995);
* a declarative final fall (2-3 st, raised cosine over the last 300 ms), or for a
  question a final rise (+5-7 st, raised cosine from the start of the last stressed
  vowel to the IPU end).

References
----------
Prieto, P., van Santen, J., & Hirschberg, J. (1995). Tonal alignment patterns in
Spanish. *Journal of Phonetics*, 23, 429-451.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

F0_MIN_HZ = 55.0
F0_MAX_HZ = 450.0


@dataclass(frozen=True)
class F0Contour:
    """A planted F0 contour; call it with times in seconds to get Hz.

    Attributes
    ----------
    median_hz : float
        Reference F0 (Hz) the semitone offsets are relative to.
    start_s, end_s : float
        Speech span of the IPU (s, signal time).
    declination_st : float
        Total declination over the span (st).
    accent_times_s, accent_st, accent_width_s : tuple of float
        Peak time (s), height (st) and Gaussian SD (s) of each accent.
    final_start_s : float
        Start of the final fall or rise (s).
    final_st : float
        Size of the final movement (st): negative = fall, positive = rise.
    """

    median_hz: float
    start_s: float
    end_s: float
    declination_st: float
    accent_times_s: tuple[float, ...]
    accent_st: tuple[float, ...]
    accent_width_s: tuple[float, ...]
    final_start_s: float
    final_st: float

    def semitones(self, t_s: np.ndarray) -> np.ndarray:
        """Offset (st) from ``median_hz`` at times ``t_s`` (s), any shape."""
        t = np.asarray(t_s, dtype=float)
        span = max(self.end_s - self.start_s, 1e-3)
        u = np.clip((t - self.start_s) / span, 0.0, 1.0)
        st = self.declination_st * (0.5 - u)
        for c, a, w in zip(self.accent_times_s, self.accent_st, self.accent_width_s, strict=True):
            st = st + a * np.exp(-0.5 * ((t - c) / w) ** 2)
        fin = max(self.end_s - self.final_start_s, 1e-3)
        v = np.clip((t - self.final_start_s) / fin, 0.0, 1.0)
        return st + self.final_st * (0.5 - 0.5 * np.cos(np.pi * v))

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        """F0 (Hz) at times ``t_s`` (s)."""
        hz = self.median_hz * 2.0 ** (self.semitones(t_s) / 12.0)
        return np.clip(hz, F0_MIN_HZ, F0_MAX_HZ)


def plan_contour(
    median_hz: float,
    *,
    start_s: float,
    end_s: float,
    stressed_vowels: Sequence[tuple[float, float]],
    question: bool,
    rng: np.random.Generator,
) -> F0Contour:
    """Draw the contour of one IPU.

    Parameters
    ----------
    median_hz : float
        Speaker median F0 (Hz).
    start_s, end_s : float
        Speech span (s).
    stressed_vowels : sequence of (start_s, end_s)
        Stressed vowels, in time order; each is accented with probability 0.85
        (the last one always, as the nuclear accent of a question).
    question : bool
        Final rise instead of the declarative fall.
    rng : numpy.random.Generator
    """
    times, heights, widths = [], [], []
    for i, (s, e) in enumerate(stressed_vowels):
        last = i == len(stressed_vowels) - 1
        if rng.random() < 0.85 or (question and last):
            times.append(e)
            heights.append(float(rng.uniform(1.5, 3.0)) * (0.6 if last and not question else 1.0))
            widths.append(max(0.6 * (e - s), 0.04))
    if question and stressed_vowels:
        final_start = stressed_vowels[-1][0]
        final_st = float(rng.uniform(5.0, 7.0))
    else:
        final_start = max(start_s, end_s - 0.3)
        final_st = -float(rng.uniform(2.0, 3.0))
    # Centre the contour on the median: accents push it up, so lower the base a little.
    decl = float(rng.uniform(2.0, 4.0))
    return F0Contour(
        median_hz=float(median_hz) * 2.0 ** (-0.5 / 12.0),
        start_s=start_s,
        end_s=end_s,
        declination_st=decl,
        accent_times_s=tuple(times),
        accent_st=tuple(heights),
        accent_width_s=tuple(widths),
        final_start_s=final_start,
        final_st=final_st,
    )
