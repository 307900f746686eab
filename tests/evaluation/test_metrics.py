"""Metrics must be the ones every AudioSet paper reports: scikit-learn's, averaged over scorable classes."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from panns_core.evaluation.metrics import d_prime, score


def _random_predictions(seed, clips=200, classes=12):
    rng = np.random.default_rng(seed)
    target = rng.random((clips, classes)) < 0.15
    # Informative but imperfect scores, with ties, so AP and AUC are neither 0.5 nor 1.
    output = np.round(0.6 * target + rng.random((clips, classes)), 2)
    return target, output


def test_hand_computed_example():
    # Ranking: pos 0.9, neg 0.8, pos 0.1 -> precision 1 at recall 0.5, 2/3 at recall 1.
    target = np.array([[1], [0], [1]])
    output = np.array([[0.9], [0.8], [0.1]])
    s = score(target, output)
    assert s.ap[0] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert s.auc[0] == pytest.approx(0.5)  # two positive/negative pairs, one ordered right
    assert s.d_prime == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_to_scikit_learn(seed):
    target, output = _random_predictions(seed)
    s = score(target, output)
    expected_ap = average_precision_score(target, output, average=None)
    expected_auc = roc_auc_score(target, output, average=None)
    np.testing.assert_allclose(s.ap, expected_ap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.auc, expected_auc, rtol=0, atol=1e-12)
    assert s.mAP == pytest.approx(average_precision_score(target, output, average="macro"), abs=1e-12)
    assert s.mean_auc == pytest.approx(roc_auc_score(target, output, average="macro"), abs=1e-12)
    assert s.left_out == [] and s.scored == list(range(target.shape[1]))
    np.testing.assert_array_equal(s.positives, target.sum(axis=0))


def test_classes_without_positives_are_left_out_and_named():
    target, output = _random_predictions(3)
    target[:, [2, 7]] = False  # no positive: AP undefined
    target[:, 5] = True  # no negative: AP is 1 but AUC undefined
    s = score(target, output)
    assert s.left_out == [2, 7]
    assert s.auc_left_out == [2, 5, 7]
    assert np.isnan(s.ap[[2, 7]]).all() and np.isnan(s.auc[[2, 5, 7]]).all()
    keep = [k for k in range(target.shape[1]) if k not in (2, 7)]
    assert s.mAP == pytest.approx(np.mean([average_precision_score(target[:, k], output[:, k]) for k in keep]))
    keep_auc = [k for k in keep if k != 5]
    assert s.mean_auc == pytest.approx(np.mean([roc_auc_score(target[:, k], output[:, k]) for k in keep_auc]))
    # sklearn's own macro average would count the empty classes (with a warning) and differ:
    assert s.mAP != pytest.approx(np.nanmean(np.where(np.isnan(s.ap), 0.0, s.ap)))


def test_d_prime_matches_the_normal_quantile():
    # AUC = Phi(d'/sqrt 2): d' = 1 for AUC ~ 0.760, the usual AudioSet table pairing.
    assert d_prime(0.7602499389065233) == pytest.approx(1.0, abs=1e-9)
    s = score(*_random_predictions(4))
    assert s.d_prime == pytest.approx(d_prime(s.mean_auc))
    assert s.d_prime > 0


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="clips, classes"):
        score(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        score(np.full((4, 2), 0.5), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        score(np.eye(2), np.array([[np.nan, 0.0], [0.0, 1.0]]))
