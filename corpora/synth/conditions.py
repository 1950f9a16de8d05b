"""Web-conference conditions, applied to a synthetic corpus after synthesis.

The reference study's interviews were web conferences: automatic gain control pumps
the level, lossy codecs (Opus in the call, AAC in the m4a/mp4 export) smear the
harmonics, lost packets are concealed, laptop microphones add room reverberation.
Each condition here is a plain function over one signal with a strength and a
random generator; :func:`degrade_corpus` applies a set of them to every recording
of a corpus written by :func:`corpora.synth.write_corpus`, in place, like
:func:`corpora.synth.noise.add_noise`. The speech itself (its timing, F0 and
formants) is unchanged, so the corpus's ``truth/`` stays exact: every condition
keeps the signal aligned sample for sample with the original (codec delays are
removed, the reverberation's direct path stays at lag 0).

Conditions and their strength parameter:

- ``agc``: automatic gain control; ``strength`` in [0, 1] is the fraction of the
  level difference to a -23 dBFS target that the gain corrects (1: full levelling,
  0: none), with a 10 ms attack and 1.5 s release, so pauses are pumped up.
- ``opus`` / ``aac``: a round trip through the codec (PyAV) at ``strength``
  kbit/s, at 48 kHz (``codec_sr``; Zoom and Teams run Opus at 48 kHz) or 16 kHz.
- ``loss``: packet loss at a rate of ``strength`` (0-1) of 20 ms packets, in
  bursts (a two-state Gilbert model, mean burst 2 packets), concealed by repeating
  the last good packet with a 0.5 gain per repeat (the waveform substitution of
  ITU-T G.711 Appendix I, without its pitch search).
- ``reverb``: a synthetic room impulse response with reverberation time RT60 =
  ``strength`` seconds (exponentially decaying Gaussian noise after a direct path,
  Schroeder's statistical model), direct-to-reverberant ratio 0 dB at 0.5 s.

Two conditions are not applied to the signal but to the interview's plan, before
synthesis, since they change what is said when (:data:`PLAN_CONDITIONS`;
:func:`corpora.synth.session.plan_interview`): ``overlap``, the share of turn
changes where the next voice starts 100-600 ms before the previous turn ends, and
``backchannel``, the listener's backchannels per minute of the other voice's
speech. :func:`split_conditions` separates them; ``write_corpus(overlap=...,
backchannel_per_min=...)`` takes them, and :func:`degrade_corpus` accepts them only
for a corpus written with the same values (it cannot add them afterwards).

References
----------
Schroeder, M. R. (1962). Frequency-correlation functions of frequency responses in
rooms. JASA 34(12), 1819-1823.
ITU-T G.711 Appendix I (1999). A high quality low-complexity algorithm for packet
loss concealment with G.711.
Valin, J.-M., Vos, K. & Terriberry, T. (2012). Definition of the Opus audio codec.
RFC 6716.
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Mapping
from pathlib import Path

import av
import numpy as np
import pandas as pd
import soundfile as sf
import soxr
from scipy.signal import fftconvolve

#: Every condition by name, with its strength's meaning and valid range.
CONDITIONS: dict[str, tuple[str, float, float]] = {
    "agc": ("fraction of the level difference corrected", 0.0, 1.0),
    "opus": ("bit rate (kbit/s)", 6.0, 256.0),
    "aac": ("bit rate (kbit/s)", 8.0, 320.0),
    "loss": ("fraction of 20 ms packets lost", 0.0, 0.5),
    "reverb": ("reverberation time RT60 (s)", 0.05, 2.0),
    "overlap": ("share of turn changes overlapped", 0.0, 1.0),
    "backchannel": ("backchannels per minute of the other voice's speech", 0.0, 30.0),
}

#: Conditions of the interview plan (applied at synthesis), with the keyword of
#: :func:`corpora.synth.write_corpus` that takes each.
PLAN_CONDITIONS: dict[str, str] = {"overlap": "overlap", "backchannel": "backchannel_per_min"}

#: Moderate settings of an ordinary call: 15 % of turn changes overlapped and 4
#: backchannels per minute of the other's speech (in the plan), then Opus at 24
#: kbit/s, 3% packet loss, a small room (RT60 0.3 s), half-strength AGC. The signal
#: conditions apply in this order (the room and the AGC act before the codec and the
#: network, as in a real call).
WEBCONF: dict[str, float] = {"overlap": 0.15, "backchannel": 4.0, "reverb": 0.3, "agc": 0.5,
                             "opus": 24.0, "loss": 0.03}

#: Named presets for ``speech-profile synth --condition``.
PRESETS: dict[str, dict[str, float]] = {"webconf": WEBCONF}

_AGC_TARGET_DB = -23.0
_PACKET_S = 0.02


def check_condition(name: str, strength: float) -> float:
    """Validate one condition and its strength; return the strength as a float."""
    if name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; use one of {', '.join(CONDITIONS)}")
    meaning, lo, hi = CONDITIONS[name]
    value = float(strength)
    if not lo <= value <= hi:
        raise ValueError(f"{name} strength ({meaning}) must be in [{lo:g}, {hi:g}], "
                         f"got {strength!r}")
    return value


def parse_conditions(spec: str) -> dict[str, float]:
    """``"webconf"`` or ``"opus=16,loss=0.05"`` -> ``{"opus": 16.0, "loss": 0.05}``.

    A preset name may be followed by overrides: ``"webconf,opus=12"``.
    """
    out: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part in PRESETS:
            out.update(PRESETS[part])
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"condition {part!r} needs a strength (NAME=VALUE) or a preset "
                             f"({', '.join(PRESETS)})")
        try:
            number = float(value)
        except ValueError as e:
            raise ValueError(f"condition {name!r}: strength {value!r} is not a number") from e
        out[name.strip()] = check_condition(name.strip(), number)
    if not out:
        raise ValueError(f"no condition in {spec!r}")
    return out


def split_conditions(conditions: Mapping[str, float]) -> tuple[dict[str, float],
                                                               dict[str, float]]:
    """``conditions`` -> (keyword arguments of :func:`corpora.synth.write_corpus` for
    the plan conditions, the signal conditions in their order).

    >>> split_conditions({"overlap": 0.15, "opus": 24.0})
    ({'overlap': 0.15}, {'opus': 24.0})
    """
    plan = {PLAN_CONDITIONS[k]: check_condition(k, v) for k, v in conditions.items()
            if k in PLAN_CONDITIONS}
    signal = {k: v for k, v in conditions.items() if k not in PLAN_CONDITIONS}
    return plan, signal


def agc(y: np.ndarray, sr: int, *, strength: float = 0.5, attack_s: float = 0.01,
        release_s: float = 1.5) -> np.ndarray:
    """Automatic gain control: a level follower and a gain that pulls it to -23 dBFS.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    sr : int
        Sample rate (Hz).
    strength : float
        Fraction in [0, 1] of the level difference (dB) to the target corrected.
    attack_s, release_s : float
        Time constants (s) of the level follower when the level rises and falls.

    Returns
    -------
    np.ndarray, shape (n,)
        The signal times a slowly varying gain (at most +30 dB), so that soft
        stretches and pauses rise after each loud one decays: the "pumping" of
        web-conference AGC.
    """
    check_condition("agc", strength)
    # Level per 10 ms block, followed with attack/release one-pole smoothing (sequential
    # by nature; 100 steps per second of audio is cheap).
    block = max(1, round(0.01 * sr))
    n_blocks = -(-y.size // block)
    padded = np.zeros(n_blocks * block)
    padded[: y.size] = y
    power = np.mean(padded.reshape(n_blocks, block) ** 2, axis=1)
    level_db = 10 * np.log10(power + 1e-12)
    up, down = (np.exp(-0.01 / t) for t in (attack_s, release_s))
    followed = np.empty(n_blocks)
    state = level_db[0]
    for i, value in enumerate(level_db):
        a = up if value > state else down
        state = a * state + (1 - a) * value
        followed[i] = state
    gain_db = np.clip(strength * (_AGC_TARGET_DB - followed), -30.0, 30.0)
    centres = (np.arange(n_blocks) + 0.5) * block
    gain = 10 ** (np.interp(np.arange(y.size), centres, gain_db) / 20)
    return y * gain


def _align(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> np.ndarray:
    """``decoded`` shifted so that it lines up with ``reference`` (codec delay removed),
    cut or zero-padded to the reference's length.

    The delay is the lag of the cross-correlation peak within ``max_lag`` samples,
    over the most energetic 2**17-sample stretch of the reference (a stretch of
    silence would give no peak).
    """
    n = min(reference.size, 1 << 17)
    energy = np.concatenate([[0.0], np.cumsum(reference**2)])
    starts = np.arange(0, reference.size - n + 1, max(1, n // 4))
    start = int(starts[np.argmax(energy[starts + n] - energy[starts])])
    segment = decoded[start : start + n + max_lag]
    xc = fftconvolve(segment, reference[start : start + n][::-1], mode="full")
    lags = np.arange(xc.size) - (n - 1)
    ok = (lags >= -max_lag) & (lags <= max_lag)
    lag = int(lags[ok][np.argmax(xc[ok])])
    out = np.zeros(reference.size)
    if lag >= 0:
        part = decoded[lag : lag + reference.size]
        out[: part.size] = part
    else:
        part = decoded[: reference.size + lag]
        out[-lag : -lag + part.size] = part
    return out


def codec_roundtrip(y: np.ndarray, sr: int, *, codec: str = "opus", kbps: float = 24.0,
                    codec_sr: int = 48000) -> np.ndarray:
    """Encode with a lossy codec and decode again, aligned with the input.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal in [-1, 1].
    sr : int
        Its sample rate (Hz); the codec runs at ``codec_sr`` (resampled with soxr
        on the way in and out).
    codec : {"opus", "aac"}
        libopus in Ogg (the call itself) or FFmpeg's native AAC-LC in ADTS (the
        m4a/mp4 export of Zoom and Teams).
    kbps : float
        Bit rate (kbit/s).
    codec_sr : {48000, 16000}
        The codec's sample rate.

    Returns
    -------
    np.ndarray, shape (n,)
        The decoded signal, the codec's delay removed (found by cross-correlation
        within 100 ms, at the codec's rate).
    """
    check_condition(codec, kbps)
    name, container = {"opus": ("libopus", "ogg"), "aac": ("aac", "adts")}[codec]
    x = soxr.resample(y, sr, codec_sr) if codec_sr != sr else np.asarray(y, float)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(name, rate=codec_sr, layout="mono")
        stream.bit_rate = int(kbps * 1000)
        fmt = "flt" if codec == "opus" else "fltp"
        hop = 960 * codec_sr // 48000 * 10
        for start in range(0, x.size, hop):
            chunk = np.clip(x[start : start + hop], -1, 1).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
            frame.sample_rate = codec_sr
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer, "r") as src:
        frames = list(src.decode(audio=0))
    decoded = np.concatenate([f.to_ndarray().astype(np.float64).mean(axis=0) for f in frames])
    # FFmpeg's libopus decoder always outputs 48 kHz, whatever the stream's rate.
    decoded_sr = frames[0].sample_rate
    if decoded_sr != codec_sr:
        decoded = soxr.resample(decoded, decoded_sr, codec_sr)
    # Aligned at the codec's rate, where its delay (AAC's 1024 priming samples) is whole.
    aligned = _align(x, decoded, max_lag=int(0.1 * codec_sr))
    back = soxr.resample(aligned, codec_sr, sr) if codec_sr != sr else aligned
    out = np.zeros(y.size)
    out[: min(y.size, back.size)] = back[: y.size]
    return out


def packet_loss(y: np.ndarray, sr: int, *, rate: float = 0.03, rng: np.random.Generator,
                mean_burst: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Drop 20 ms packets in bursts and conceal them by fading repetition.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    sr : int
        Sample rate (Hz).
    rate : float
        Long-run fraction of packets lost.
    rng : np.random.Generator
        Source of the losses.
    mean_burst : float
        Mean length of a burst of lost packets (Gilbert model).

    Returns
    -------
    concealed : np.ndarray, shape (n,)
        Each lost packet replaced by the last received one times 0.5 per repeat.
    lost : np.ndarray, shape (n_packets,), bool
        Which packets were lost.
    """
    check_condition("loss", rate)
    size = round(_PACKET_S * sr)
    n_packets = -(-y.size // size)
    # Two-state Gilbert chain: P(bad -> good) = 1 / mean_burst; P(good -> bad) keeps
    # the stationary loss at `rate`.
    leave_bad = 1.0 / mean_burst
    enter_bad = rate * leave_bad / max(1e-12, 1.0 - rate)
    draws = rng.random(n_packets)
    lost = np.zeros(n_packets, bool)
    bad = False
    for i in range(n_packets):
        bad = draws[i] >= leave_bad if bad else draws[i] < enter_bad
        lost[i] = bad
    out = np.asarray(y, float).copy()
    last = np.zeros(size)
    repeats = 0
    for i in range(n_packets):
        part = slice(i * size, min((i + 1) * size, y.size))
        width = part.stop - part.start
        if lost[i]:
            repeats += 1
            out[part] = last[:width] * 0.5**repeats
        else:
            repeats = 0
            last = np.zeros(size)
            last[:width] = out[part]
    return out, lost


def room_impulse_response(sr: int, *, rt60_s: float, rng: np.random.Generator,
                          drr_db: float = 0.0) -> np.ndarray:
    """A synthetic room impulse response: a unit direct path at lag 0, then
    exponentially decaying Gaussian noise (60 dB in ``rt60_s``) starting 2 ms later,
    scaled to a direct-to-reverberant energy ratio of ``drr_db``.

    Returns
    -------
    np.ndarray, shape (round(1.2 rt60_s sr),)
    """
    check_condition("reverb", rt60_s)
    n = round(1.2 * rt60_s * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10 ** (-3 * t / rt60_s)  # -60 dB at rt60
    tail[: int(0.002 * sr)] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


def reverb(y: np.ndarray, sr: int, *, rt60_s: float = 0.3,
           rng: np.random.Generator) -> np.ndarray:
    """Convolve with :func:`room_impulse_response` (direct path at lag 0, so the
    speech stays aligned with its truth); the output keeps the input's length and
    the input's peak level."""
    h = room_impulse_response(sr, rt60_s=rt60_s, rng=rng)
    wet = fftconvolve(y, h)[: y.size]
    peak = np.max(np.abs(wet))
    return wet * (np.max(np.abs(y)) / peak) if peak > 0 else wet


def apply_conditions(y: np.ndarray, sr: int, conditions: Mapping[str, float], *,
                     rng: np.random.Generator, codec_sr: int = 48000) -> np.ndarray:
    """Apply ``conditions`` (name -> strength) to one signal, in the mapping's order."""
    out = np.asarray(y, float)
    for name, strength in conditions.items():
        value = check_condition(name, strength)
        if name in PLAN_CONDITIONS:
            raise ValueError(f"{name} changes the interview plan, not the signal: give it to "
                             f"write_corpus({PLAN_CONDITIONS[name]}=...)")
        if name == "agc":
            out = agc(out, sr, strength=value)
        elif name in ("opus", "aac"):
            out = codec_roundtrip(out, sr, codec=name, kbps=value, codec_sr=codec_sr)
        elif name == "loss":
            out, _ = packet_loss(out, sr, rate=value, rng=rng)
        else:
            out = reverb(out, sr, rt60_s=value, rng=rng)
    return out


def degrade_corpus(corpus_dir: str | Path, conditions: Mapping[str, float], *, seed: int = 0,
                   codec_sr: int = 48000) -> None:
    """Apply ``conditions`` to every recording of a synthetic corpus, in place.

    Each recording draws from its own stream (``SeedSequence([seed, 9137, i])`` for
    the i-th recording in recordings.csv order), so the result does not depend on
    which recordings are degraded together. Files are rewritten as 16-bit PCM at
    their own rate, scaled down only if they would clip (a scale leaves every
    truth value unchanged). The conditions applied are written to
    ``truth/conditions.csv`` (condition, strength, seed, codec_sr).

    Plan conditions (:data:`PLAN_CONDITIONS`) are checked against the corpus's
    ``corpus.toml`` (written by ``write_corpus``): a ``ValueError`` unless the
    corpus was synthesised with the same values; they are listed in
    ``truth/conditions.csv`` with the others.
    """
    checked = {name: check_condition(name, value) for name, value in conditions.items()}
    root = Path(corpus_dir)
    plan, signal = split_conditions(checked)
    if plan:
        _check_planned(root, plan)
    recordings = pd.read_csv(root / "recordings.csv", dtype=str)
    for i, row in enumerate(recordings.itertuples(index=False) if signal else ()):
        y, sr = sf.read(root / row.path, dtype="float64", always_2d=True)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 9137, i]))
        out = np.stack([apply_conditions(y[:, c], sr, signal, rng=rng, codec_sr=codec_sr)
                        for c in range(y.shape[1])], axis=1)
        peak = np.max(np.abs(out))
        if peak > 0.99:
            out *= 0.99 / peak
        sf.write(root / row.path, out if out.shape[1] > 1 else out[:, 0], sr, subtype="PCM_16")
    table = pd.DataFrame({"condition": list(checked), "strength": list(checked.values()),
                          "seed": seed, "codec_sr": codec_sr})
    (root / "truth").mkdir(exist_ok=True)
    table.to_csv(root / "truth" / "conditions.csv", index=False)


def _check_planned(root: Path, plan: Mapping[str, float]) -> None:
    """Raise unless ``root/corpus.toml`` records the plan settings ``plan`` (the
    keywords of ``write_corpus``; absent means 0)."""
    toml = root / "corpus.toml"
    written = tomllib.loads(toml.read_text(encoding="utf-8")).get("synth", {}) \
        if toml.is_file() else {}
    for keyword, value in plan.items():
        if float(written.get(keyword, 0.0)) != value:
            raise ValueError(
                f"{toml}: {keyword} = {written.get(keyword, 0.0)!r}, but {value:g} was asked "
                f"for; it changes the interview plan, so synthesise the corpus with it "
                f"(write_corpus({keyword}={value:g}), synth --condition)")
