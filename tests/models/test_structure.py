"""SpeakerStructure: standardise -> PCA -> Ward clustering with k by silhouette."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from models.structure import SpeakerStructure


def planted_clusters(seed: int = 0, per_cluster: int = 15, n_features: int = 8):
    """Three Gaussian clusters in 8 features of very different units."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, size=(3, n_features))
    truth = np.repeat([0, 1, 2], per_cluster)
    values = centres[truth] + rng.normal(size=(truth.size, n_features))
    values *= np.logspace(-2, 3, n_features)  # Hz next to ratios: standardising must cope
    ids = [f"S{i:03d}" for i in range(truth.size)]
    frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(n_features)])
    frame.insert(0, "speaker_id", ids)
    return frame, truth


def test_recovers_three_planted_clusters():
    frame, truth = planted_clusters()
    model = SpeakerStructure().fit(frame)
    assert model.n_clusters_ == 3
    assert max(model.silhouette_, key=model.silhouette_.get) == 3
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)
    assert set(model.labels_) == {1, 2, 3}
    assert list(model.silhouette_) == list(range(2, 9))
    assert model.linkage_.shape == (len(frame) - 1, 4)
    assert list(model.scores_.index) == frame["speaker_id"].tolist()


def test_loadings_are_orthonormal_and_variance_ratios_sum_below_one():
    frame, _ = planted_clusters(seed=1)
    model = SpeakerStructure(n_components=5).fit(frame)
    w = model.loadings_.to_numpy()
    assert w.shape == (8, 5)
    np.testing.assert_allclose(w.T @ w, np.eye(5), atol=1e-10)
    ratio = model.explained_variance_ratio_
    assert np.all(np.diff(ratio) <= 1e-12) and 0 < ratio.sum() <= 1
    assert list(model.loadings_.columns) == [f"PC{i}" for i in range(1, 6)]
    # scores are uncorrelated, with variances equal to the eigenvalues
    cov = np.cov(model.scores_.to_numpy().T, ddof=0)
    np.testing.assert_allclose(cov, np.diag(model.eigenvalues_[:5]), atol=1e-8)


def test_component_rules():
    frame, _ = planted_clusters(seed=2)
    kaiser = SpeakerStructure().fit(frame)
    assert kaiser.scores_.shape[1] == max(2, int((kaiser.eigenvalues_ > 1).sum()))
    share = SpeakerStructure(n_components=0.9).fit(frame)
    k = share.scores_.shape[1]
    assert share.explained_variance_ratio_.sum() >= 0.9
    assert share.eigenvalues_[: k - 1].sum() / share.eigenvalues_.sum() < 0.9
    with pytest.raises(ValueError, match="n_components"):
        SpeakerStructure(n_components=20).fit(frame)


def test_signs_are_deterministic_and_transform_reproduces_scores():
    frame, _ = planted_clusters(seed=3)
    a = SpeakerStructure().fit(frame)
    b = SpeakerStructure().fit(frame.sample(frac=1.0, random_state=0))
    pd.testing.assert_frame_equal(a.loadings_, b.loadings_, atol=1e-10)
    w = a.loadings_.to_numpy()
    assert np.all(w[np.argmax(np.abs(w), axis=0), np.arange(w.shape[1])] > 0)
    np.testing.assert_allclose(a.transform(frame).to_numpy(), a.scores_.to_numpy(), atol=1e-10)


def test_missing_values_are_median_imputed_and_counted():
    frame, truth = planted_clusters(seed=4)
    frame.loc[[0, 5, 20], "x3"] = np.nan
    model = SpeakerStructure().fit(frame)
    assert model.n_imputed_["x3"] == 3 and model.n_imputed_.drop("x3").eq(0).all()
    assert np.isfinite(model.scores_.to_numpy()).all()
    assert adjusted_rand_score(truth, model.labels_) > 0.9
    with pytest.raises(ValueError, match="x1"):
        SpeakerStructure().fit(frame.assign(x1=np.nan))


def test_unstructured_data_give_low_silhouette():
    rng = np.random.default_rng(5)
    model = SpeakerStructure().fit(rng.normal(size=(40, 6)))
    assert max(model.silhouette_.values()) < 0.35
