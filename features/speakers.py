"""Speaker attribution without a transcript: segment embeddings and clustering.

The third method of speaker attribution (after channel maps and transcript
tiers): every segment (an IPU) of a recording with ``n_speakers`` voices gets a
voice label ``0 .. n_speakers - 1`` from its acoustics alone.

Method
------
1. One STFT, one mel filter bank and one MFCC matrix over the whole recording
   (Davis & Mermelstein 1980); c0, the frame level, is dropped so loudness
   does not separate voices.
2. A diagonal Gaussian mixture fitted to the recording's energetic frames is
   the background model; each segment's means are relevance-MAP adapted from
   its frames (Reynolds et al. 2000) and stacked into a mean *supervector*
   scaled by ``sqrt(weight) / sigma`` (the KL-divergence kernel of Campbell et
   al. 2006).  Segments are thereby compared phone class by phone class, not
   through what they happen to say: a few per cent of vocal-tract length or
   some breathiness separate two voices of equal F0.  The per-segment sums are
   sparse frame-range reductions, one per Gaussian, over all segments at once
   (no librosa call per segment).
3. Bottom-up Ward clustering of the supervectors (agglomerative diarization,
   Anguera et al. 2012), refined by a few centroid (Lloyd) iterations on the
   longer segments; labels are ordered by total speech, so label 0 is the
   voice with most speech (the interviewee in the reference study).

References
----------
Davis, S. B., & Mermelstein, P. (1980). Comparison of parametric representations
for monosyllabic word recognition in continuously spoken sentences. *IEEE Trans.
ASSP*, 28(4), 357-366.
Reynolds, D. A., Quatieri, T. F., & Dunn, R. B. (2000). Speaker verification using
adapted Gaussian mixture models. *Digital Signal Processing*, 10(1-3), 19-41.
Campbell, W. M., Sturim, D. E., & Reynolds, D. A. (2006). Support vector machines
using GMM supervectors for speaker verification. *IEEE Signal Processing
Letters*, 13(5), 308-311.
Anguera, X., Bozonnet, S., Evans, N., Fredouille, C., Friedland, G., & Vinyals, O.
(2012). Speaker diarization: a review of recent research. *IEEE Trans. ASLP*,
20(2), 356-370.
Ward, J. H. (1963). Hierarchical grouping to optimize an objective function.
*JASA*, 58(301), 236-244.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse
from scipy.signal import get_window
from sklearn.cluster import AgglomerativeClustering
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from features.frames import expand_ranges, span_frames
from features.spectral import mel_filters
from features.validation import check_signal, check_spans

__all__ = [
    "attribute_from_frames",
    "attribute_speakers",
    "cluster_speakers",
    "embedding_names",
    "embeddings_from_frames",
    "segment_embeddings",
    "voice_frames",
]

_EPS = 1e-12


def embedding_names(*, n_mfcc: int = 20, n_gaussians: int = 16, with_f0: bool = False) -> list[str]:
    """Column names of :func:`segment_embeddings` called with the same arguments.

    ``sv{j}_mfcc{i}``: the offset of Gaussian ``j``'s adapted mean of MFCC ``i``
    (``i = 1 .. n_mfcc - 1``), then ``f0_st`` when an F0 track is given.
    """
    names = [f"sv{j}_mfcc{i}" for j in range(n_gaussians) for i in range(1, n_mfcc)]
    if with_f0:
        names.append("f0_st")
    return names


#: Frames per chunk when accumulating supervector statistics (bounds memory).
_STATS_CHUNK = 100_000


def _range_matrix(a: np.ndarray, b: np.ndarray, n_frames: int) -> sparse.csr_matrix:
    """Sparse (n_segments, n_frames) indicator of the frame ranges ``[a, b)``."""
    cols, rows = expand_ranges(a, b)
    return sparse.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(a.size, n_frames))


def _column_moments(x: np.ndarray, rows: np.ndarray,
                    chunk: int = _STATS_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof 0) of each column of ``x[rows]``, in float64.

    Equal, bit for bit, to ``x[rows].mean(axis=0, dtype=np.float64)`` and
    ``x[rows].std(axis=0, dtype=np.float64)`` (NumPy sums a column-wise reduction row
    after row; carrying the running sum in as the first row of the next chunk keeps
    that order), without the copy of the rows and the float64 deviations, which for
    a 3-hour recording are some 170 MB.
    """
    def column_sums(parts):
        total = None
        for part in parts:
            stack = part if total is None else np.concatenate([total[None, :], part])
            total = stack.sum(axis=0, dtype=np.float64)
        return total

    def squared_deviations(start):
        d = x[rows[start : start + chunk]] - mu
        return np.multiply(d, d, out=d)

    starts = range(0, rows.size, chunk)
    mu = column_sums(x[rows[i : i + chunk]] for i in starts) / rows.size
    var = column_sums(squared_deviations(i) for i in starts) / rows.size
    return mu, np.sqrt(var)


def _supervectors(
    x: np.ndarray,
    mask: np.ndarray,
    agg: sparse.csr_matrix,
    *,
    n_gaussians: int,
    relevance: float,
    max_frames: int,
    random_state: int,
) -> np.ndarray:
    """MAP-adapted, KL-scaled GMM mean supervectors, shape (n_segments, C * D).

    ``x`` (T, D) frame features, ``mask`` (T,) the frames that count, ``agg``
    the (n_segments, T) frame-range indicator.  Returns zeros (the background
    model itself) where the recording has too few frames to fit a mixture.
    """
    d = x.shape[1]
    n_seg = agg.shape[0]
    sel = np.flatnonzero(mask)
    if sel.size < 4 * n_gaussians:
        return np.zeros((n_seg, n_gaussians * d))
    mu, sd = _column_moments(x, sel)
    sd = np.where(sd > 1e-9, sd, 1.0)
    rng = np.random.default_rng(random_state)
    fit = sel if sel.size <= max_frames else np.sort(rng.choice(sel, max_frames, replace=False))
    # A small model: one thread is faster, and OpenMP/BLAS threads spinning in
    # parallel pipeline workers on shared cores can slow it a hundredfold.
    with threadpool_limits(limits=1):
        gm = GaussianMixture(
            n_components=n_gaussians,
            covariance_type="diag",
            max_iter=100,
            reg_covar=1e-3,
            random_state=random_state,
        ).fit((x[fit].astype(np.float64) - mu) / sd)
    # Only energetic frames inside some segment carry weight: work on those rows alone
    # (a 3-hour recording has a million frames; the statistics need only these).
    covered = np.asarray(agg.sum(axis=0)).ravel() > 0
    used = np.flatnonzero(mask & covered)
    agg = agg.tocsc()
    n_c = np.zeros((n_seg, n_gaussians))  # soft frame counts
    f = np.zeros((n_gaussians, n_seg, d))  # first-order statistics
    # Accumulated over chunks of frames, so memory does not grow with the recording.
    for start in range(0, used.size, _STATS_CHUNK):
        rows = used[start : start + _STATS_CHUNK]
        xs = (x[rows].astype(np.float64) - mu) / sd
        resp = gm.predict_proba(xs)
        part = agg[:, rows]
        n_c += part @ resp
        for j in range(n_gaussians):  # one sparse product per Gaussian, all segments at once
            f[j] += part @ (resp[:, j : j + 1] * xs)
    out = np.empty((n_seg, n_gaussians, d))
    for j in range(n_gaussians):
        adapted = (f[j] + relevance * gm.means_[j]) / (n_c[:, j : j + 1] + relevance)
        out[:, j] = (adapted - gm.means_[j]) * np.sqrt(gm.weights_[j] / gm.covariances_[j])
    return out.reshape(n_seg, n_gaussians * d)


def segment_embeddings(
    y: np.ndarray,
    sr: int,
    segments: np.ndarray,
    *,
    hop_s: float = 0.01,
    win_s: float = 0.025,
    n_mfcc: int = 20,
    n_mels: int = 40,
    fmin: float = 60.0,
    fmax: float | None = None,
    f0_hz: np.ndarray | None = None,
    f0_weight: float = 1.0,
    dynamic_range_db: float = 35.0,
    n_gaussians: int = 16,
    relevance: float = 4.0,
    max_gmm_frames: int = 20000,
    random_state: int = 0,
) -> np.ndarray:
    """Per-segment voice embeddings (GMM mean supervectors) from one pass over ``y``.

    One STFT and MFCC matrix for the whole signal; a diagonal GMM background
    model on the energetic frames; each segment's relevance-MAP adapted means,
    as offsets from the background scaled by ``sqrt(weight) / sigma`` (see the
    module docstring for the method and references).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono floating-point signal.
    sr : int
        Sample rate (Hz).
    segments : np.ndarray, shape (n_segments, 2)
        Start and end times (s).  A segment owns the frames centred inside it;
        one shorter than a hop owns its nearest frame.  Segments may overlap.
    hop_s, win_s : float
        Frame hop and analysis window (s); frame ``k`` is centred at ``k * hop_s``.
    n_mfcc, n_mels : int
        Cepstral coefficients (c0 included, then dropped) and mel bands.
    fmin, fmax : float
        Mel filter bank range (Hz); ``fmax`` defaults to ``sr / 2``.
    f0_hz : np.ndarray, shape (n_frames,), optional
        F0 track on the same frame grid (Hz; NaN or 0 where unvoiced; a shorter
        track is padded as unvoiced, a longer one truncated).  Adds the
        column ``f0_st``: ``f0_weight`` times the median F0 of the segment's voiced
        frames in semitones re 100 Hz (NaN without voiced frames).
    f0_weight : float
        Weight of ``f0_st`` against the supervector (whose typical within-voice
        spread is about 1).
    dynamic_range_db : float
        Frames more than this below the loud frames (95th percentile of frame
        level) are not energetic and do not count.
    n_gaussians : int
        Components of the background GMM.
    relevance : float
        Relevance factor of the MAP adaptation (frames): segments with few frames
        stay near the background, i.e. near zero.
    max_gmm_frames : int
        At most this many (random, seeded) frames fit the background model.
    random_state : int

    Returns
    -------
    np.ndarray of float64, shape (n_segments, n_gaussians * (n_mfcc - 1) [+ 1])
        Columns named by :func:`embedding_names`.  Finite except ``f0_st``.
    """
    mfcc, level_db = voice_frames(y, sr, hop_s=hop_s, win_s=win_s, n_mfcc=n_mfcc,
                                  n_mels=n_mels, fmin=fmin, fmax=fmax)
    return embeddings_from_frames(
        mfcc, level_db, segments, hop_s=hop_s, f0_hz=f0_hz, f0_weight=f0_weight,
        dynamic_range_db=dynamic_range_db, n_gaussians=n_gaussians, relevance=relevance,
        max_gmm_frames=max_gmm_frames, random_state=random_state,
    )  # fmt: skip


def voice_frames(
    y: np.ndarray,
    sr: int,
    *,
    hop_s: float = 0.01,
    win_s: float = 0.025,
    n_mfcc: int = 20,
    n_mels: int = 40,
    fmin: float = 60.0,
    fmax: float | None = None,
    power: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The frame-level half of :func:`segment_embeddings`: MFCCs (c0 dropped) and
    frame level, on the common grid. Computable block by block (frame-aligned
    blocks with context give the same frames), so that a long recording never
    has to be in memory whole.

    ``power``, shape (1 + len(y) // hop, 1 + n_fft // 2), is the power spectrogram
    of these frames when it is already computed, e.g. by
    :func:`features.spectral.spectral_tracks` (``return_power=True``: the same
    frames and window, float32 FFT of the mean-removed signal), so one STFT per
    recording block serves both; without it, this function's own STFT (float64
    FFT, librosa's values bit for bit).

    Returns
    -------
    mfcc : np.ndarray of float32, shape (n_mfcc - 1, n_frames)
        Frames on the last axis, as every track of ``features``.
    level_db : np.ndarray of float32, shape (n_frames,)
        Frame power (dB, relative to the block's loudest frame floor of -100 dB).
    """
    y = check_signal(y, sr, dtype=None, allow_empty=False)
    if n_mfcc < 2:
        raise ValueError(f"n_mfcc must be >= 2 (c0 is dropped), got {n_mfcc}")
    if not hop_s > 0 or not win_s > 0:
        raise ValueError(f"hop_s and win_s must be positive, got {hop_s}, {win_s}")
    hop = max(1, round(hop_s * sr))
    win = max(16, round(win_s * sr))
    n_fft = 1 << int(np.ceil(np.log2(win)))
    # power.T is |librosa.stft(y, n_fft, hop, win)|^2 (centred frames, zero padding,
    # periodic Hann centred in n_fft, float64 FFT stored as complex64), and the
    # products below are librosa.feature.mfcc's: the same values bit for bit,
    # without importing librosa (some 125 MB per worker, through numba and LLVM).
    if power is None:
        power = _stft_power(y.astype(np.float32), n_fft, hop, win)
    elif power.shape != (1 + y.size // hop, 1 + n_fft // 2):
        raise ValueError(f"power must have shape {(1 + y.size // hop, 1 + n_fft // 2)} (frames, "
                         f"bins) for this signal and window, got {power.shape!r}")
    fb = mel_filters(sr, n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    # An absolute floor (not relative to the block's maximum) keeps blocks comparable.
    mel_db = 10.0 * np.log10(np.maximum(fb @ power.T, 1e-10))
    mfcc = scipy.fft.dct(mel_db, axis=-2, type=2, norm="ortho")[1:n_mfcc].astype(np.float32)
    level_db = (10.0 * np.log10(np.maximum(power.sum(axis=1), 1e-10))).astype(np.float32)
    return mfcc, level_db


#: Frames per FFT batch of :func:`_stft_power` (bounds its float64 temporaries).
_STFT_BATCH = 4096


def _stft_power(y: np.ndarray, n_fft: int, hop: int, win: int) -> np.ndarray:
    """Power spectra (float32, shape (1 + len(y) // hop, 1 + n_fft // 2)) of centred,
    zero-padded frames with a periodic Hann window of ``win`` samples centred in
    ``n_fft`` (librosa's ``stft`` conventions), transformed in float64 batches."""
    window = np.zeros(n_fft)
    left = (n_fft - win) // 2
    window[left : left + win] = get_window("hann", win, fftbins=True)
    padded = np.pad(y, n_fft // 2)
    frames = sliding_window_view(padded, n_fft)[::hop]
    power = np.empty((frames.shape[0], 1 + n_fft // 2), dtype=np.float32)
    for start in range(0, frames.shape[0], _STFT_BATCH):
        spec = np.fft.rfft(window * frames[start : start + _STFT_BATCH], axis=-1)
        power[start : start + _STFT_BATCH] = np.abs(spec.astype(np.complex64)) ** 2
    return power


def embeddings_from_frames(
    mfcc: np.ndarray,
    level_db: np.ndarray,
    segments: np.ndarray,
    *,
    hop_s: float = 0.01,
    f0_hz: np.ndarray | None = None,
    f0_weight: float = 1.0,
    dynamic_range_db: float = 35.0,
    n_gaussians: int = 16,
    relevance: float = 4.0,
    max_gmm_frames: int = 20000,
    random_state: int = 0,
) -> np.ndarray:
    """The segment-level half of :func:`segment_embeddings`, from :func:`voice_frames`
    of the whole recording: ``mfcc`` (n_mfcc - 1, n_frames) and ``level_db``
    (n_frames,) (see :func:`segment_embeddings` for the parameters)."""
    seg = check_spans(segments, name="segments")
    if n_gaussians < 1:
        raise ValueError(f"n_gaussians must be >= 1, got {n_gaussians}")
    mfcc = np.asarray(mfcc)
    if mfcc.ndim != 2:
        raise ValueError(f"mfcc must have shape (n_mfcc, n_frames), got {mfcc.shape!r}")
    # The GMM takes frames as rows: one (n_frames, n_mfcc) C-ordered matrix (no copy
    # when mfcc is the transpose of one, as the segmenter's track buffer is).
    mfcc = np.ascontiguousarray(mfcc.T)
    if not np.issubdtype(mfcc.dtype, np.floating):
        mfcc = mfcc.astype(np.float64)
    n_frames = mfcc.shape[0]
    level_db = np.asarray(level_db, dtype=np.float64)
    energetic = level_db > np.percentile(level_db, 95) - dynamic_range_db
    a, b = span_frames(seg, n_frames, hop_s, min_frames=1)
    agg = _range_matrix(a, b, n_frames)
    emb = _supervectors(
        mfcc,
        energetic,
        agg,
        n_gaussians=n_gaussians,
        relevance=relevance,
        max_frames=max_gmm_frames,
        random_state=random_state,
    )
    if f0_hz is None:
        return emb
    f0 = np.full(n_frames, np.nan)
    src = np.asarray(f0_hz, dtype=np.float64).ravel()[:n_frames]
    f0[: src.size] = src
    voiced = np.isfinite(f0) & (f0 > 0)
    st = 12.0 * np.log2(np.where(voiced, f0, 100.0) / 100.0)
    return np.hstack([emb, f0_weight * _range_medians(agg, st, voiced)[:, None]])


def _range_medians(agg: sparse.csr_matrix, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median of ``values[mask]`` over each row's frames of ``agg`` (NaN when none).

    One lexsort of every (segment, frame) pair: robust to octave errors of a
    pitch tracker where a mean is not.
    """
    coo = agg.tocoo()
    keep = mask[coo.col]
    rows, vals = coo.row[keep], values[coo.col[keep]]
    order = np.lexsort((vals, rows))
    rows, vals = rows[order], vals[order]
    n = np.bincount(rows, minlength=agg.shape[0])
    first = np.cumsum(n) - n
    lo = first + np.maximum(n - 1, 0) // 2
    hi = first + n // 2
    out = np.full(agg.shape[0], np.nan)
    has = n > 0
    out[has] = 0.5 * (vals[lo[has]] + vals[hi[has]])
    return out


def cluster_speakers(
    embeddings: np.ndarray,
    *,
    n_speakers: int,
    durations_s: np.ndarray | None = None,
    min_duration_s: float = 0.3,
    n_iter: int = 10,
    max_linkage: int = 4000,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster segment embeddings into ``n_speakers`` voices.

    The embeddings are centred, NaN entries imputed by the column median, and
    the whole matrix divided by one scale (no per-column standardisation: the
    supervector's own metric, the KL kernel, is kept, and near-constant columns
    are not inflated into noise).  The segments of at least ``min_duration_s``
    are clustered bottom-up with Ward linkage (Ward 1963; Anguera et al. 2012),
    the partition refined by at most ``n_iter`` duration-weighted centroid
    (Lloyd) iterations on those segments, and every segment assigned to the
    nearest centroid.

    Parameters
    ----------
    embeddings : np.ndarray, shape (n_segments, d)
        From :func:`segment_embeddings` (or any features on a common scale).
    n_speakers : int
        Number of voices (>= 1); fewer labels are used when there are fewer segments.
    durations_s : np.ndarray, shape (n_segments,), optional
        Segment durations (s): they order the labels, weight the centroids and
        select the core.  Default: every segment counts 1 s.
    min_duration_s : float
        Shortest segment in the core that defines the voices (the core falls
        back to all segments when it has fewer than ``2 * n_speakers``).
    n_iter : int
        Most refinement iterations (0: Ward only).
    max_linkage : int
        Most segments in the Ward linkage, whose memory grows with the square of
        their number (4000: about 130 MB, some 3 hours of interview). A larger core
        is linked on its ``max_linkage`` longest segments; the refinement then runs
        on the whole core.

    Returns
    -------
    labels : np.ndarray of int64, shape (n_segments,)
        ``0 .. k - 1`` ordered by total duration, descending: 0 is the voice
        with most speech (the interviewee of an interview).
    confidence : np.ndarray of float64, shape (n_segments,)
        In [0, 1]: ``1 - 2 t`` clipped, with ``t`` the position of the segment
        on the line from its own centroid (``t = 0``) to the nearest other one
        (``t = 1``): 1 at or beyond its own centroid, 0 on the boundary.  1 for
        every segment when there is one voice; 0 for a segment identical to
        every other.
    """
    x = np.array(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must have shape (n_segments, d), got {x.shape}")
    if isinstance(n_speakers, bool) or not isinstance(n_speakers, int | np.integer):
        raise ValueError(f"n_speakers must be an integer, got {n_speakers!r}")
    if n_speakers < 1:
        raise ValueError(f"n_speakers must be >= 1, got {n_speakers}")
    n = x.shape[0]
    if durations_s is None:
        dur = np.ones(n)
    else:
        dur = np.asarray(durations_s, dtype=np.float64).ravel()
        if dur.shape != (n,):
            raise ValueError(f"durations_s must have shape ({n},), got {dur.shape}")
        if not np.all(np.isfinite(dur) & (dur >= 0)):
            raise ValueError("durations_s must be finite and non-negative")
    k = min(int(n_speakers), n)
    if k <= 1:
        return np.zeros(n, dtype=np.int64), np.ones(n)

    bad = ~np.isfinite(x)
    x[:, bad.all(axis=0)] = 0.0
    bad = ~np.isfinite(x)
    if bad.any():
        med = np.nanmedian(np.where(bad, np.nan, x), axis=0)
        x = np.where(bad, med, x)
    x -= x.mean(axis=0)
    scale = np.sqrt(np.mean(x * x))
    if not scale > 1e-12:  # every segment looks the same: nothing to separate
        return np.zeros(n, dtype=np.int64), np.zeros(n)
    x /= scale

    core = dur >= min_duration_s
    if core.sum() < 2 * k:
        core = np.ones(n, dtype=bool)
    xc, wc = x[core], np.maximum(dur[core], 1e-3)
    if int(max_linkage) < 2 * k:
        raise ValueError(f"max_linkage must be at least 2 * n_speakers, got {max_linkage!r}")
    linked = np.sort(np.argsort(-wc, kind="stable")[: int(max_linkage)])
    lab = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(xc[linked])
    means = _centroids(xc[linked], lab, wc[linked], k)
    if linked.size < xc.shape[0]:
        lab = _nearest(xc, means)
    for _ in range(n_iter):
        new = _nearest(xc, means)
        if np.array_equal(new, lab) or np.unique(new).size < k:
            break
        lab = new
        means = _centroids(xc, lab, wc, k)
    labels = _nearest(x, means)
    conf = _confidence(x, labels, means)
    total = np.bincount(labels, weights=dur, minlength=k)
    count = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -count, -total))  # last key sorts first
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], conf


def _centroids(x: np.ndarray, lab: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    onehot = (lab[:, None] == np.arange(k)[None, :]) * w[:, None]
    return (onehot.T @ x) / np.maximum(onehot.sum(axis=0), 1e-12)[:, None]


def _nearest(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    d2 = (x * x).sum(axis=1)[:, None] - 2.0 * x @ means.T + (means * means).sum(axis=1)[None, :]
    return np.argmin(d2, axis=1)


def _confidence(x: np.ndarray, labels: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``clip(1 - 2 t)``, ``t`` the projection on own -> nearest other centroid."""
    k = means.shape[0]
    d2 = ((x[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    d2[np.arange(x.shape[0]), labels] = np.inf
    other = np.argmin(d2, axis=1)
    delta = means[other] - means[labels]
    norm2 = (delta * delta).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((x - means[labels]) * delta).sum(axis=1) / norm2
    conf = np.clip(1.0 - 2.0 * t, 0.0, 1.0)
    return np.where(np.isfinite(conf) & (norm2 > 0) & (k > 1), conf, 0.0)


def attribute_speakers(
    y: np.ndarray,
    sr: float,
    segments: np.ndarray,
    *,
    n_speakers: int,
    f0_hz: np.ndarray | None = None,
    hop_s: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Voice labels and confidences of ``segments``: :func:`voice_frames` of ``y``, then
    :func:`attribute_from_frames` (what the segmenter runs on its pass-1 frames).

    Returns ``labels`` (int64, label 0 = most speech) and ``confidence`` in
    [0, 1], each of shape (n_segments,).
    """
    mfcc, level_db = voice_frames(y, sr, hop_s=hop_s)
    return attribute_from_frames(mfcc, level_db, segments, n_speakers=n_speakers,
                                 f0_hz=f0_hz, hop_s=hop_s)


def attribute_from_frames(
    mfcc: np.ndarray,
    level_db: np.ndarray,
    segments: np.ndarray,
    *,
    n_speakers: int,
    f0_hz: np.ndarray | None = None,
    hop_s: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Voice labels and confidences of ``segments`` from :func:`voice_frames` output:
    :func:`embeddings_from_frames`, then :func:`cluster_speakers` weighted by the
    segments' durations.

    Returns ``labels`` (int64, label 0 = most speech) and ``confidence`` in
    [0, 1], each of shape (n_segments,).
    """
    seg = check_spans(segments, name="segments")
    emb = embeddings_from_frames(mfcc, level_db, seg, hop_s=hop_s, f0_hz=f0_hz)
    return cluster_speakers(emb, n_speakers=n_speakers, durations_s=seg[:, 1] - seg[:, 0])
