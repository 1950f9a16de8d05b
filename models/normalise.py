"""Vowel formant normalisation as scikit-learn transformers (DataFrame in, DataFrame out).

Every normaliser takes a token table with a speaker column and formant columns
(Hz), learns per-speaker statistics in :meth:`fit` (attributes ending in ``_``,
DataFrames indexed by speaker) and applies them in :meth:`transform`, which is
pure and returns one normalised column per formant, named after the formant
without its unit and with the method as suffix (``f1_hz`` -> ``f1_lobanov``).

=====================  =========================================  =======================
class                  normalised value of formant k of token t     per-speaker statistic
=====================  =========================================  =======================
:class:`Lobanov`        (F_kt - mean_k) / sd_k                      ``means_``, ``scales_``
:class:`Nearey1`        ln F_kt - mean_t(ln F_k)                    ``log_means_``
:class:`Nearey2`        ln F_kt - G,  G = mean_k mean_t(ln F_k)     ``log_means_``
:class:`WattFabricius`  F_kt / S_k                                  ``centroids_``
:class:`DeltaF`         F_kt / ΔF                                   ``delta_f_``
:class:`BarkDifference` Z3 - Z1, Z3 - Z2, Z2 - Z1 (per token)       none (vowel-intrinsic)
=====================  =========================================  =======================

Speakers and cross-validation
-----------------------------
A per-speaker normaliser refuses, by default, a speaker it never saw in
:meth:`fit` (``unseen="error"``): the error names the speakers. Cross-validation
grouped by speaker (``GroupKFold``) tests only on unseen speakers, so the
speaker-intrinsic methods that need no vowel label (Lobanov, Nearey1, Nearey2,
ΔF) accept ``unseen="fit"``: the statistics of an unseen speaker are then
computed, inside :meth:`transform`, from that speaker's own tokens in ``X``
(formants only, never the vowel labels, so nothing leaks into a classifier;
nothing is stored, so ``transform`` stays pure). Watt & Fabricius needs the
vowel labels of the speaker and therefore always refuses unseen speakers.

Output container
----------------
``transform`` returns a DataFrame with the index of ``X``.
``set_output(transform="default")`` makes it return a NumPy array (the
scikit-learn default container), ``set_output(transform="pandas")`` a
DataFrame again. ``Pipeline.set_output`` forwards to it.

NaN formants are ignored when fitting (means and SDs over the values present)
and stay NaN in the output.

scikit-learn's estimator checks
-------------------------------
Every normaliser passes the checks of the estimator API that
:func:`sklearn.utils.estimator_checks.check_estimator` runs on any input
(``__init__`` stores parameters only, ``get_params``/``set_params``/``clone``,
``repr``, tags, unfitted estimators raise ``NotFittedError``) and refuses sparse
input with a message that says so. The other checks feed NumPy arrays
(``check_transformer_general``, ``check_fit_idempotent``, ``check_estimators_nan_inf``,
``check_estimators_empty_data_messages``, ``check_positive_only_tag_during_fit``, ...:
:data:`ARRAY_ONLY_CHECKS`) and fail with this module's ``TypeError``: the input
contract is a DataFrame because the speaker column and the named formant columns are
what a normaliser needs (an array has no speaker ids, and a column order would be a
silent way to swap F1 and F2). ``tests/models/test_normalise_checks.py`` runs every
check and holds each normaliser to exactly this split.

References
----------
Lobanov, B. M. (1971). Classification of Russian vowels spoken by different
speakers. JASA 49(2B), 606-608.
Nearey, T. M. (1978). Phonetic feature systems for vowels. Indiana University
Linguistics Club.
Syrdal, A. K. & Gopal, H. S. (1986). A perceptual model of vowel recognition
based on the auditory representation of American English vowels. JASA 79(4),
1086-1100.
Traunmüller, H. (1990). Analytical expressions for the tonotopic sensory scale.
JASA 88(1), 97-100.
Watt, D. & Fabricius, A. (2002). Evaluation of a technique for improving the
mapping of multiple speakers' vowel spaces in the F1 ~ F2 plane. Leeds Working
Papers in Linguistics and Phonetics 9, 159-173.
Johnson, K. (2020). The ΔF method of vocal tract length normalization for
vowels. Laboratory Phonology 11(1), 10.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "BarkDifference",
    "DeltaF",
    "Lobanov",
    "Nearey1",
    "Nearey2",
    "WattFabricius",
    "bark",
]

_OUTPUTS = ("default", "pandas")


def bark(f_hz: np.ndarray | float) -> np.ndarray:
    """Traunmüller (1990) Bark scale with his low- and high-end corrections.

    ``z = 26.81 f / (1960 + f) - 0.53``; then ``z + 0.15 (2 - z)`` where
    ``z < 2`` and ``z + 0.22 (z - 20.1)`` where ``z > 20.1``.

    Parameters
    ----------
    f_hz : array_like
        Frequencies in Hz, any shape; NaN stays NaN.

    Returns
    -------
    np.ndarray
        Bark values, same shape, float64.
    """
    f = np.asarray(f_hz, dtype=float)
    z = 26.81 * f / (1960.0 + f) - 0.53
    z = np.where(z < 2.0, z + 0.15 * (2.0 - z), z)
    return np.where(z > 20.1, z + 0.22 * (z - 20.1), z)


#: scikit-learn estimator checks that feed NumPy arrays, which the normalisers refuse by
#: design (see "scikit-learn's estimator checks" above).
ARRAY_ONLY_CHECKS: frozenset[str] = frozenset({
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters",
    "check_dtype_object", "check_estimators_dtypes", "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self", "check_estimators_nan_inf",
    "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit1d", "check_fit2d_1feature",
    "check_fit2d_1sample", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
})  # fmt: skip


def _base_name(column: str) -> str:
    return column.removesuffix("_hz")


def _format_ids(ids: Sequence[object], limit: int = 10) -> str:
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


class _FrameTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """DataFrame validation, output container and feature names shared by all normalisers."""

    _suffix: ClassVar[str] = ""
    _positive: ClassVar[bool] = True

    def set_output(self, *, transform: str | None = None):
        """Choose the container of :meth:`transform`: "pandas" (DataFrame) or "default" (NumPy).

        Parameters
        ----------
        transform : {"default", "pandas"} or None
            None leaves the setting unchanged. Unset, the output is a DataFrame.

        Returns
        -------
        self
        """
        if transform is None:
            return self
        if transform not in _OUTPUTS:
            raise ValueError(f"transform output must be one of {_OUTPUTS}, got {transform!r}")
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
        return self

    def _wrap(self, values: np.ndarray, index: pd.Index) -> pd.DataFrame | np.ndarray:
        config = getattr(self, "_sklearn_output_config", {}).get("transform", "pandas")
        if config == "default":
            return values
        return pd.DataFrame(values, index=index, columns=list(self.get_feature_names_out()))

    def _required_columns(self) -> list[str]:
        return list(self.formants)

    def _validate(self, X: pd.DataFrame) -> np.ndarray:
        """Check the table and return the formant matrix, shape (n_tokens, n_formants), float64."""
        if sparse.issparse(X):
            raise TypeError(f"{type(self).__name__} does not take sparse input: give a pandas "
                            "DataFrame of formants (Hz)")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"{type(self).__name__} takes a pandas DataFrame, got {type(X).__name__}"
            )
        if isinstance(self.formants, str) or len(self.formants) == 0:
            raise ValueError(f"formants must be a non-empty sequence of columns, got "
                             f"{self.formants!r}")
        missing = [c for c in self._required_columns() if c not in X.columns]
        if missing:
            raise ValueError(f"{type(self).__name__}: X lacks column(s) {missing}; "
                             f"it has {list(X.columns)}")
        try:
            values = X[list(self.formants)].to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise ValueError(f"formant columns {list(self.formants)} must be numeric") from e
        if self._positive:
            bad = ~np.isnan(values) & (values <= 0)
            if bad.any():
                row, col = np.argwhere(bad)[0]
                raise ValueError(
                    f"{type(self).__name__} needs formants > 0 Hz; {self.formants[col]} = "
                    f"{float(values[row, col])!r} at row {X.index[row]!r} "
                    f"({int(bad.sum())} such values)"
                )
        return values

    def _record_input(self, X: pd.DataFrame) -> None:
        cols = self._required_columns()
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns, e.g. ``["f1_lobanov", "f2_lobanov"]``.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn compatibility; the names follow ``formants``.

        Returns
        -------
        np.ndarray of str (object dtype)
        """
        check_is_fitted(self, "n_features_in_")
        return np.asarray([f"{_base_name(c)}_{self._suffix}" for c in self.formants],
                          dtype=object)


class _SpeakerNormaliser(_FrameTransformer, ABC):
    """Per-speaker statistics learnt in ``fit``, applied row by row in ``transform``.

    Subclasses implement ``_statistics(frame) -> dict[attribute, DataFrame by speaker]``
    and ``_normalise(values, stats) -> ndarray`` where ``stats`` maps the same
    attribute names to arrays aligned with the rows.
    """

    _label_free: ClassVar[bool] = True

    def __init__(self, speaker: str = "speaker_id", formants: Sequence[str] = ("f1_hz", "f2_hz"),
                 unseen: str = "error"):
        self.speaker = speaker
        self.formants = formants
        self.unseen = unseen

    def _required_columns(self) -> list[str]:
        return [self.speaker, *self.formants]

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        values = self._validate(X)
        frame = pd.DataFrame(values, columns=list(self.formants), index=X.index)
        speakers = X[self.speaker]
        if speakers.isna().any():
            rows = list(X.index[speakers.isna().to_numpy()])
            raise ValueError(f"missing {self.speaker!r} at row(s) {_format_ids(rows)}")
        frame.insert(0, "__speaker", speakers.to_numpy(dtype=object))
        return frame

    def _check_unseen_option(self) -> None:
        if self.unseen not in ("error", "fit"):
            raise ValueError(f"unseen must be 'error' or 'fit', got {self.unseen!r}")
        if self.unseen == "fit" and not self._label_free:
            raise ValueError(f"{type(self).__name__} needs the vowel labels of a speaker, so "
                             "it cannot fit unseen speakers at transform: use unseen='error'")

    def fit(self, X: pd.DataFrame, y=None):
        """Learn the per-speaker statistics.

        Parameters
        ----------
        X : pd.DataFrame
            Token table with the ``speaker`` and ``formants`` columns (Hz; NaN ignored).
        y : ignored

        Returns
        -------
        self
        """
        self._check_unseen_option()
        frame = self._frame(X)
        stats = self._statistics(frame)
        for name, table in stats.items():
            setattr(self, name, table)
        self.speakers_ = pd.Index(frame["__speaker"].unique(), name=self.speaker)
        self.n_tokens_ = frame.groupby("__speaker", sort=True).size().rename("n_tokens")
        self.n_tokens_.index.name = self.speaker
        self._record_input(X)
        return self

    def transform(self, X: pd.DataFrame):
        """Normalise the formants of ``X`` with the statistics of each token's speaker.

        Parameters
        ----------
        X : pd.DataFrame
            Token table with the columns seen in :meth:`fit`.

        Returns
        -------
        pd.DataFrame or np.ndarray
            Shape (n_tokens, n_formants), index of ``X``; columns from
            :meth:`get_feature_names_out`. NaN where the input formant is NaN.

        Raises
        ------
        ValueError
            If ``X`` holds speakers absent from :meth:`fit` (unless ``unseen="fit"``).
        """
        check_is_fitted(self, "speakers_")
        self._check_unseen_option()
        frame = self._frame(X)
        speakers = frame["__speaker"]
        unseen_mask = ~speakers.isin(self.speakers_)
        stats = {name: getattr(self, name) for name in self._stat_names}
        if unseen_mask.any():
            unseen = list(pd.unique(speakers[unseen_mask]))
            if self.unseen == "error":
                raise ValueError(
                    f"{type(self).__name__} was not fitted on speaker(s) {_format_ids(unseen)} "
                    f"({len(unseen)} unseen of {speakers.nunique()}); fit on them, or use "
                    "unseen='fit' for a label-free speaker-intrinsic method"
                )
            extra = self._statistics(frame[unseen_mask.to_numpy()])
            stats = {name: pd.concat([stats[name], extra[name]]) for name in stats}
        aligned = {name: table.reindex(speakers.to_numpy()).to_numpy(dtype=float)
                   for name, table in stats.items()}
        values = frame[list(self.formants)].to_numpy(dtype=float)
        return self._wrap(self._normalise(values, aligned), X.index)

    # -- per-method hooks --------------------------------------------------------------
    _stat_names: ClassVar[tuple[str, ...]] = ()

    def _grouped(self, frame: pd.DataFrame):
        return frame.groupby("__speaker", sort=True)[list(self.formants)]

    def _named(self, table: pd.DataFrame) -> pd.DataFrame:
        table.index.name = self.speaker
        return table

    def _require(self, ok: pd.Series, what: str) -> None:
        if not ok.all():
            bad = list(ok.index[~ok.to_numpy()])
            raise ValueError(f"{type(self).__name__} needs {what}; speaker(s) "
                             f"{_format_ids(bad)} do not have it")

    @abstractmethod
    def _statistics(self, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Per-speaker statistics, each a table indexed by speaker."""

    @abstractmethod
    def _normalise(self, values: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
        """Normalised formants of rows whose speakers' statistics are ``stats``."""


class Lobanov(_SpeakerNormaliser):
    """Lobanov (1971) z-scores per speaker and formant.

    ``z_kt = (F_kt - mean_k) / sd_k``, with mean and sample SD (ddof = 1) of
    formant k over the speaker's tokens (NaN ignored). A speaker needs at least
    two values and a non-zero SD in every formant.

    Parameters
    ----------
    speaker : str
        Speaker column.
    formants : sequence of str
        Formant columns (Hz, or any unit: z-scores do not need positive values).
    unseen : {"error", "fit"}
        What :meth:`transform` does with a speaker absent from :meth:`fit` (see module doc).

    Attributes
    ----------
    means_, scales_ : pd.DataFrame
        Per-speaker mean and SD, index speaker, columns ``formants``.
    speakers_ : pd.Index
    n_tokens_ : pd.Series
    """

    _suffix = "lobanov"
    _positive = False
    _stat_names = ("means_", "scales_")

    def _statistics(self, frame):
        grouped = self._grouped(frame)
        means, scales = grouped.mean(), grouped.std(ddof=1)
        self._require((scales > 0).all(axis=1),
                      "at least two values and a non-zero SD in every formant")
        return {"means_": self._named(means), "scales_": self._named(scales)}

    def _normalise(self, values, stats):
        return (values - stats["means_"]) / stats["scales_"]


def _log_means(normaliser: _SpeakerNormaliser, frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ln F per speaker (index) and formant (columns), the statistic of both
    Nearey (1978) normalisers."""
    logs = frame.assign(**{c: np.log(frame[c]) for c in normaliser.formants})
    means = normaliser._grouped(logs).mean()
    normaliser._require(means.notna().all(axis=1), "at least one value in every formant")
    return means


class Nearey1(_SpeakerNormaliser):
    """Nearey (1978) formant-intrinsic log-mean normalisation ("Nearey1").

    ``N_kt = ln F_kt - mean_t(ln F_kt)``: each formant's log is centred on the
    speaker's mean log of that formant (NaN ignored). The output is in natural
    log units (``exp`` of it is the ratio to the speaker's geometric mean).

    Parameters
    ----------
    speaker, formants, unseen
        As in :class:`Lobanov`; formants in Hz (> 0).

    Attributes
    ----------
    log_means_ : pd.DataFrame
        Mean ln F per speaker (index) and formant (columns).
    speakers_ : pd.Index
    n_tokens_ : pd.Series
    """

    _suffix = "nearey1"
    _stat_names = ("log_means_",)

    def _statistics(self, frame):
        return {"log_means_": self._named(_log_means(self, frame))}

    def _normalise(self, values, stats):
        return np.log(values) - stats["log_means_"]


class Nearey2(_SpeakerNormaliser):
    """Nearey (1978) formant-extrinsic log-mean normalisation ("Nearey2").

    ``N_kt = ln F_kt - G`` with one constant per speaker,
    ``G = (1/K) sum_k mean_t(ln F_kt)``: the mean over the K formants given
    (F1 and F2, and F3 if given) of the per-formant mean logs. With no missing
    value this equals the grand mean of all the speaker's log formants; with NaN
    it keeps each formant's weight at 1/K.

    Parameters
    ----------
    speaker, formants, unseen
        As in :class:`Lobanov`; formants in Hz (> 0).

    Attributes
    ----------
    log_means_ : pd.DataFrame
        G per speaker: index speaker, one column ``log_mean``.
    speakers_ : pd.Index
    n_tokens_ : pd.Series
    """

    _suffix = "nearey2"
    _stat_names = ("log_means_",)

    def _statistics(self, frame):
        means = _log_means(self, frame)
        return {"log_means_": self._named(means.mean(axis=1).to_frame("log_mean"))}

    def _normalise(self, values, stats):
        return np.log(values) - stats["log_means_"]


class DeltaF(_SpeakerNormaliser):
    """Johnson (2020) ΔF vocal-tract-length normalisation.

    A uniform tube closed at one end resonates at ``F_i = (i - 0.5) ΔF``; the
    speaker's formant spacing is estimated as the mean over tokens t and
    formants i of ``F_it / (i - 0.5)`` (all non-NaN values pooled, Johnson's
    eq. 2), and ``N_it = F_it / ΔF`` (dimensionless).

    The i-th entry of ``formants`` is taken to be formant number i (F1, F2, F3...).

    Parameters
    ----------
    speaker, formants, unseen
        As in :class:`Lobanov`; formants in Hz (> 0). Johnson uses F1-F3 (or F4).

    Attributes
    ----------
    delta_f_ : pd.DataFrame
        ΔF per speaker: index speaker, one column ``delta_f_hz``.
    speakers_ : pd.Index
    n_tokens_ : pd.Series
    """

    _suffix = "deltaf"
    _stat_names = ("delta_f_",)

    def _statistics(self, frame):
        ratios = frame.assign(**{c: frame[c] / (i + 0.5) for i, c in enumerate(self.formants)})
        grouped = self._grouped(ratios)
        delta = grouped.sum().sum(axis=1) / grouped.count().sum(axis=1)
        self._require(delta.notna(), "at least one formant value")
        return {"delta_f_": self._named(delta.to_frame("delta_f_hz"))}

    def _normalise(self, values, stats):
        return values / stats["delta_f_"]


class WattFabricius(_SpeakerNormaliser):
    """Watt & Fabricius (2002) S-centroid normalisation, original definition.

    Per speaker, three corners of the F1 x F2 vowel triangle:

    * [i] = (mean F1, mean F2) of the tokens labelled ``i_label`` (the high
      front corner: lowest F1, highest F2);
    * [a] = (mean F1, mean F2) of the tokens labelled ``a_label`` (highest F1);
    * [u'] = (F1 of [i], F1 of [i]): the hypothetical high back corner with F1
      and F2 both equal to the F1 of [i] (the 2002 definition; not the 2009
      "modified" variant).

    ``S = ([i] + [a] + [u']) / 3``, i.e. ``S1 = (2 i1 + a1) / 3`` and
    ``S2 = (i2 + a2 + i1) / 3``, and ``N_kt = F_kt / S_k`` (dimensionless).
    For Spanish, ``i_label="i"`` and ``a_label="a"``.

    Parameters
    ----------
    speaker : str
        Speaker column.
    formants : pair of str
        The F1 and F2 columns (Hz, > 0); exactly two.
    vowel : str
        Vowel label column (null = unlabelled, ignored).
    i_label, a_label : str
        Labels of the [i] and [a] categories.
    unseen : {"error"}
        Only "error": the method needs each speaker's vowel labels.

    Attributes
    ----------
    centroids_ : pd.DataFrame
        S per speaker: index speaker, columns ``formants``.
    corners_ : pd.DataFrame
        The [i] and [a] means per speaker: columns ``i_f1 i_f2 a_f1 a_f2``.
    speakers_ : pd.Index
    n_tokens_ : pd.Series
    """

    _suffix = "wf"
    _label_free = False
    _stat_names = ("centroids_",)

    def __init__(self, speaker: str = "speaker_id", formants: Sequence[str] = ("f1_hz", "f2_hz"),
                 vowel: str = "vowel", i_label: str = "i", a_label: str = "a",
                 unseen: str = "error"):
        self.speaker = speaker
        self.formants = formants
        self.vowel = vowel
        self.i_label = i_label
        self.a_label = a_label
        self.unseen = unseen

    def _required_columns(self):
        return [self.speaker, self.vowel, *self.formants]

    def _frame(self, X):
        if len(self.formants) != 2:
            raise ValueError("WattFabricius is defined on F1 and F2: formants must be two "
                             f"columns, got {list(self.formants)}")
        frame = super()._frame(X)
        frame["__vowel"] = X[self.vowel].astype(object).where(X[self.vowel].notna(), None)
        return frame

    def _statistics(self, frame):
        f1, f2 = self.formants

        def corner(label):
            sub = frame[frame["__vowel"] == label]
            means = sub.groupby("__speaker", sort=True)[[f1, f2]].mean()
            return means.reindex(pd.unique(frame["__speaker"]))

        i, a = corner(self.i_label), corner(self.a_label)
        ok = i.notna().all(axis=1) & a.notna().all(axis=1)
        self._require(ok, f"measured tokens of both {self.i_label!r} and {self.a_label!r}")
        centroids = pd.DataFrame({f1: (2 * i[f1] + a[f1]) / 3, f2: (i[f2] + a[f2] + i[f1]) / 3})
        corners = pd.DataFrame({"i_f1": i[f1], "i_f2": i[f2], "a_f1": a[f1], "a_f2": a[f2]})
        return {"centroids_": self._named(centroids.sort_index()),
                "corners_": self._named(corners.sort_index())}

    def _normalise(self, values, stats):
        return values / stats["centroids_"]


class BarkDifference(_FrameTransformer):
    """Syrdal & Gopal (1986) Bark-difference features, vowel-intrinsic.

    With Traunmüller's (1990) Bark ``Z_k = bark(F_k)`` (see :func:`bark`), the
    outputs are ``z3_z1_bark = Z3 - Z1`` (height), ``z3_z2_bark = Z3 - Z2``
    (backness) and ``z2_z1_bark = Z2 - Z1``; with only F1 and F2 given, just
    ``z2_z1_bark``. Each token is normalised by its own formants, so nothing is
    learnt per speaker and any speaker is accepted.

    Parameters
    ----------
    formants : sequence of str
        (F1, F2) or (F1, F2, F3) columns, Hz (> 0).

    Attributes
    ----------
    n_features_in_, feature_names_in_
    """

    def __init__(self, formants: Sequence[str] = ("f1_hz", "f2_hz", "f3_hz")):
        self.formants = formants

    def _pairs(self) -> list[tuple[int, int]]:
        if len(self.formants) == 3:
            return [(2, 0), (2, 1), (1, 0)]
        if len(self.formants) == 2:
            return [(1, 0)]
        raise ValueError(f"BarkDifference takes (F1, F2) or (F1, F2, F3), got "
                         f"{list(self.formants)}")

    def fit(self, X: pd.DataFrame, y=None):
        """Validate ``X``; nothing is learnt (the method is vowel-intrinsic).

        Returns
        -------
        self
        """
        self._pairs()
        self._validate(X)
        self._record_input(X)
        return self

    def transform(self, X: pd.DataFrame):
        """Bark differences of each token, shape (n_tokens, 1 or 3).

        Returns
        -------
        pd.DataFrame or np.ndarray
        """
        check_is_fitted(self, "n_features_in_")
        z = bark(self._validate(X))
        out = np.column_stack([z[:, hi] - z[:, lo] for hi, lo in self._pairs()])
        return self._wrap(out, X.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``["z3_z1_bark", "z3_z2_bark", "z2_z1_bark"]`` (or ``["z2_z1_bark"]``)."""
        check_is_fitted(self, "n_features_in_")
        return np.asarray([f"z{hi + 1}_z{lo + 1}_bark" for hi, lo in self._pairs()],
                          dtype=object)
