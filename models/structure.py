"""Speaker structure, the reference analysis: standardised features -> PCA -> Ward clustering.

:class:`SpeakerStructure` is a scikit-learn estimator. :meth:`~SpeakerStructure.fit`

1. imputes a missing feature value with the feature's median over the speakers
   (counted per feature in ``n_imputed_``: a speaker lacking one measure, e.g. too
   few coda /s/ for a rate, is kept rather than dropped, because with tens of
   speakers every speaker matters; the imputed value sits at the centre of the
   feature and so pulls the speaker towards no direction of it);
2. standardises every feature to zero mean and unit variance (a PCA of
   correlations, so Hz, semitones and ratios weigh alike; Jolliffe 2002, 2.3);
3. runs a PCA: ``n_components`` None keeps the components whose eigenvalue of
   the correlation matrix exceeds 1 (Kaiser 1960), at least two; an int keeps
   that many; a float in (0, 1) keeps enough to explain that share of variance;
4. clusters the speakers by Ward's minimum-variance criterion (Ward 1963) on the
   retained component scores and cuts the tree into k clusters for each k in
   2..``max_clusters``, keeping the k with the largest mean silhouette
   (Rousseeuw 1987; the smaller k on a tie).

Loadings are the eigenvectors (``components_`` transposed: orthonormal columns),
each signed so that its largest absolute entry is positive, so that results do
not flip sign between runs or machines.

References
----------
Jolliffe, I. T. (2002). Principal Component Analysis (2nd ed.). Springer.
Kaiser, H. F. (1960). The application of electronic computers to factor analysis.
Educational and Psychological Measurement 20(1), 141-151.
Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and
validation of cluster analysis. J. Comput. Appl. Math. 20, 53-65.
Ward, J. H. (1963). Hierarchical grouping to optimize an objective function.
JASA 58(301), 236-244.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import silhouette_score
from sklearn.utils.validation import check_is_fitted

__all__ = ["SpeakerStructure"]


class SpeakerStructure(TransformerMixin, BaseEstimator):
    """Standardise, PCA, Ward clustering with k chosen by silhouette.

    Parameters
    ----------
    n_components : None, int or float
        None: Kaiser's criterion (eigenvalue > 1, at least 2); int: that many;
        float in (0, 1): the fewest components explaining that share of variance.
    max_clusters : int
        Largest k tried (also capped at n_speakers - 1).
    random_state : int
        Kept for a uniform interface; PCA is solved by a full, deterministic SVD.

    Attributes
    ----------
    feature_names_in_ : np.ndarray
        Feature columns seen in :meth:`fit`.
    medians_, means_, scales_ : pd.Series
        Per-feature imputation median and standardisation mean and SD (ddof 0).
    n_imputed_ : pd.Series
        Number of speakers whose value was imputed, per feature.
    eigenvalues_ : np.ndarray
        All eigenvalues of the correlation matrix, descending.
    explained_variance_ratio_ : np.ndarray
        Share of the total variance per retained component.
    loadings_ : pd.DataFrame
        Feature x component (``PC1``...), orthonormal columns.
    scores_ : pd.DataFrame
        Speaker x component scores of the training data (index of ``X``).
    linkage_ : np.ndarray
        SciPy linkage matrix (n - 1, 4) of Ward's clustering of ``scores_``.
    silhouette_ : dict of int to float
        Mean silhouette width per k tried.
    n_clusters_ : int
        The k chosen.
    labels_ : np.ndarray
        Cluster of each training speaker, 1..k (SciPy ``fcluster`` numbering).
    """

    def __init__(self, n_components: int | float | None = None, max_clusters: int = 8,
                 random_state: int = 0):
        self.n_components = n_components
        self.max_clusters = max_clusters
        self.random_state = random_state

    def _frame(self, X) -> pd.DataFrame:
        frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        if "speaker_id" in frame.columns:
            frame = frame.set_index("speaker_id")
        frame.columns = [str(c) for c in frame.columns]
        non_numeric = [c for c in frame.columns
                       if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
        if non_numeric:
            raise ValueError(f"SpeakerStructure needs numeric features; not numeric: {non_numeric}")
        return frame.astype(float)

    def _standardised(self, frame: pd.DataFrame) -> np.ndarray:
        filled = frame.fillna(self.medians_)
        return ((filled - self.means_) / self.scales_).to_numpy(dtype=float)

    def fit(self, X, y=None):
        """Learn the standardisation, the components and the clustering.

        Parameters
        ----------
        X : pd.DataFrame or array_like, shape (n_speakers, n_features)
            Numeric speaker features (a ``speaker_id`` column becomes the index).
            NaN: imputed with the feature median (see module docstring).
        y : ignored

        Returns
        -------
        self
        """
        frame = self._frame(X)
        n, p = frame.shape
        if n < 3:
            raise ValueError(f"SpeakerStructure needs at least 3 speakers, got {n}")
        empty = [c for c in frame.columns if frame[c].notna().sum() == 0]
        if empty:
            raise ValueError(f"feature(s) {empty} have no value for any speaker; drop them")
        if not isinstance(self.max_clusters, Integral) or self.max_clusters < 2:
            raise ValueError(f"max_clusters must be an int >= 2, got {self.max_clusters!r}")
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = p
        self.medians_ = frame.median()
        self.n_imputed_ = frame.isna().sum().astype("int64")
        filled = frame.fillna(self.medians_)
        self.means_ = filled.mean()
        scales = filled.std(ddof=0)
        # A constant feature carries no information: scale 1 leaves it at zero.
        self.scales_ = scales.where(scales > 0, 1.0)
        z = self._standardised(frame)

        # PCA by SVD of the standardised matrix (eigen-decomposition of the correlations).
        _, s, vt = np.linalg.svd(z, full_matrices=False)
        eigenvalues = s**2 / n
        flip = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
        vt = vt * np.where(flip == 0, 1.0, flip)[:, None]
        total = eigenvalues.sum() if eigenvalues.sum() > 0 else 1.0
        k = self._n_kept(eigenvalues, total)
        self.eigenvalues_ = eigenvalues
        self.components_ = vt[:k]
        self.explained_variance_ratio_ = eigenvalues[:k] / total
        names = [f"PC{i + 1}" for i in range(k)]
        self.component_names_ = names
        self.loadings_ = pd.DataFrame(self.components_.T, index=frame.columns, columns=names)
        self.loadings_.index.name = "feature"
        scores = z @ self.components_.T
        self.scores_ = pd.DataFrame(scores, index=frame.index, columns=names)

        self.linkage_ = linkage(scores, method="ward")
        self.silhouette_ = {}
        best = None
        for n_clusters in range(2, min(self.max_clusters, n - 1) + 1):
            labels = fcluster(self.linkage_, n_clusters, criterion="maxclust")
            if np.unique(labels).size < 2:
                continue
            width = float(silhouette_score(scores, labels))
            self.silhouette_[n_clusters] = width
            if best is None or width > self.silhouette_[best] + 1e-12:
                best = n_clusters
        if best is None:
            best = 1
        self.n_clusters_ = best
        self.labels_ = fcluster(self.linkage_, best, criterion="maxclust").astype("int64")
        return self

    def _n_kept(self, eigenvalues: np.ndarray, total: float) -> int:
        available = eigenvalues.size
        wanted = self.n_components
        if wanted is None:
            return int(min(available, max(2, int(np.sum(eigenvalues > 1.0)))))
        if isinstance(wanted, Integral):
            if not 1 <= wanted <= available:
                raise ValueError(f"n_components must be in 1..{available}, got {wanted}")
            return int(wanted)
        if isinstance(wanted, Real) and 0 < wanted < 1:
            cumulative = np.cumsum(eigenvalues) / total
            return int(min(available, np.searchsorted(cumulative, wanted - 1e-12) + 1))
        raise ValueError(f"n_components must be None, an int or a float in (0, 1); got {wanted!r}")

    def transform(self, X) -> pd.DataFrame:
        """Component scores of ``X`` (same features as in :meth:`fit`; NaN imputed as there)."""
        check_is_fitted(self, "components_")
        frame = self._frame(X)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise ValueError(f"X lacks feature(s) {missing} seen in fit")
        frame = frame[list(self.feature_names_in_)]
        scores = self._standardised(frame) @ self.components_.T
        return pd.DataFrame(scores, index=frame.index, columns=self.component_names_)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "components_")
        return np.asarray(self.component_names_, dtype=object)
