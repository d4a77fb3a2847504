"""The numpy metrics agree with the reference libraries (scipy, scikit-learn: test dependencies only, see README
"Dependency policy"), on ties, odd sizes and label types included."""

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.cluster import KMeans
from sklearn.metrics import v_measure_score

from mmembed.evaluation.metrics import pearson, spearman, v_measure
from mmembed.evaluation.tasks import kmeans


@pytest.mark.parametrize("seed", range(5))
def test_spearman_and_pearson_match_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=57)
    b = np.round(a + rng.normal(size=57), 1)  # rounding makes ties
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert pearson(a, b) == pytest.approx(pearsonr(a, b).statistic, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_v_measure_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, size=80).tolist()
    predicted = [t if rng.random() < 0.6 else int(rng.integers(0, 5)) for t in truth]
    assert v_measure(truth, predicted) == pytest.approx(v_measure_score(truth, predicted), abs=1e-12)
    names = ["cat", "dog", "sea", "sun"]
    assert v_measure([names[t] for t in truth], predicted) == pytest.approx(
        v_measure_score(truth, predicted), abs=1e-12
    )


def test_spherical_kmeans_finds_the_clusters_scikit_learn_finds():
    """Ours is cosine (spherical) k-means, which scikit-learn does not offer; on well separated unit vectors it
    must agree with scikit-learn's Euclidean k-means up to the cluster names."""
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:4] * 5
    points = np.concatenate([c + rng.normal(scale=0.3, size=(25, 8)) for c in centres])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    ours = kmeans(points, 4)
    theirs = KMeans(4, n_init=10, random_state=0).fit_predict(points)
    assert v_measure_score(theirs, ours) == pytest.approx(1.0)
