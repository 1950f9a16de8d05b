"""Recording diagnostics: each condition is measured and named."""

import numpy as np

from features.quality import diagnose

SR = 16000


def speech_like(seconds=2.0, seed=0):
    """Harmonics of 150 Hz falling 6 dB/octave, amplitude-modulated, plus a noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 53))
    return 0.1 * voice * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.001 * rng.standard_normal(
        t.size
    )


def test_clean_signal_has_no_warnings():
    d = diagnose(speech_like(), SR)
    assert d.warnings() == []
    assert -30 < d.rms_dbfs < -5 and d.clipped_pct == 0


def test_silence():
    d = diagnose(np.zeros(SR), SR)
    assert d.silent and d.warnings()[0].startswith("no signal")


def test_clipping_is_measured():
    d = diagnose(np.clip(speech_like() * 10, -1, 1), SR)
    assert d.clipped_pct > 10 and any("clipped" in w for w in d.warnings())


def test_dc_offset_is_measured():
    d = diagnose(speech_like() + 0.1, SR)
    assert abs(d.dc_offset - 0.1) < 1e-3
    assert any("DC offset +0.100" in w for w in d.warnings())


def test_dead_channel_is_named():
    y = np.stack([speech_like(), np.zeros(2 * SR)])
    d = diagnose(y, SR)
    assert d.dead_channels == [1] and any("channel 1 is silent" in w for w in d.warnings())
    assert not d.silent


def test_narrow_band_is_detected():
    import soxr

    noise = np.random.default_rng(1).standard_normal(2 * SR)
    band = soxr.resample(soxr.resample(speech_like(), SR, 8000), 8000, SR)  # a telephone line
    assert diagnose(band, SR).bandwidth_hz < 4500
    assert diagnose(noise, SR).bandwidth_hz > 7000
    assert diagnose(speech_like(), SR).bandwidth_hz > 7000
    assert any("narrow band" in w for w in diagnose(band, SR).warnings())


def test_empty_and_tiny_inputs_do_not_fail():
    assert diagnose(np.zeros(0), SR).silent
    assert diagnose(np.ones(10) * 0.5, SR).bandwidth_hz == SR / 2


def test_streaming_equals_one_shot():
    from features.quality import DiagnosticsAccumulator

    y = np.stack([speech_like(3.0) + 0.05, np.zeros(3 * SR)])
    y[0, 1000:1100] = 1.0
    whole = diagnose(y, SR)
    accumulator = DiagnosticsAccumulator()
    for start in range(0, y.shape[1], 7001):  # blocks not aligned with the FFT frames
        accumulator.update(y[:, start : start + 7001])
    streamed = accumulator.result(SR)
    assert streamed.clipped_pct == whole.clipped_pct and streamed.dead_channels == [1]
    for field in ("peak_dbfs", "rms_dbfs", "dc_offset", "bandwidth_hz"):
        assert np.isclose(getattr(streamed, field), getattr(whole, field), rtol=1e-9), field
