"""Where vowel formants are read (features.formant_points): values of frame tracks at
proportions of a token, and the F1-maximum measurement point, on tracks with known shapes."""

from __future__ import annotations

import numpy as np
import pytest

from features.formant_points import _f1_max_values, formant_track_at
from features.formants import FormantTracks

pytestmark = pytest.mark.filterwarnings("error")


def test_formants_are_read_at_the_f1_maximum_past_a_glide():
    # A rising diphthong [je]: F1 climbs from 300 to 500 Hz over the first 60 % and
    # F2 falls from 2600 to 2000 Hz, then both hold. The midpoint is still in the
    # glide; the F1 maximum (on its slow arc) is on the vowel's plateau.
    n = 41
    u = np.linspace(0, 1, n)
    rise = np.clip(u / 0.6, 0, 1)
    f = np.stack([300 + 200 * rise, 2600 - 600 * rise, np.full(n, 3000.0)])[None]
    tracks = FormantTracks(
        times_s=u * 0.2,
        freqs_hz=f,
        ceilings_hz=np.array([5000.0]),
        time_step_s=0.005,
        bandwidths_hz=np.full_like(f, 80.0),
        frame_offset_s=np.zeros(n),
    )
    sel = {"lo": np.array([0]), "n_frames": np.array([n])}
    freqs, bands, where = _f1_max_values(tracks, sel, np.array([0]), 5)
    assert where[0] >= 0.6
    assert freqs[0, 0] == pytest.approx(500, rel=0.02)
    assert freqs[0, 1] == pytest.approx(2000, rel=0.02)
    assert bands[0, 0] == pytest.approx(80.0)
    # the midpoint reads the glide
    mid = formant_track_at(
        f, sel["lo"], sel["n_frames"], np.array([0.5]), index=np.array([0]), n_coefficients=5
    )
    assert mid[0, 0, 0] < 480
