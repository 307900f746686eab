"""Edge cases of the metrics found by mutation testing: the messages, a class with one positive, and a
set with no positive at all (every mean undefined, said without a numpy warning)."""

import warnings

import numpy as np
import pytest

from panns_core.evaluation.metrics import score


def test_bad_inputs_are_refused_with_their_own_message():
    target = np.array([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"^output holds NaN or infinite scores; the model diverged"):
        score(target, np.array([[0.5, np.nan], [0.1, 0.2]]))
    with pytest.raises(ValueError, match=r"^target must hold only 0 and 1 \(score against the unmixed labels\)$"):
        score(np.array([[0.5, 0], [0, 1]]), np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"^target and output must both be \(clips, classes\); got \(2, 2\) and \(2,\)"
    ):
        score(target, np.ones(2))


def test_a_class_with_a_single_positive_is_scored():
    target = np.array([[1, 1], [0, 1], [0, 0], [0, 0]])
    output = np.array([[0.2, 0.9], [0.9, 0.8], [0.1, 0.1], [0.0, 0.2]])
    s = score(target, output)
    assert s.scored == [0, 1] and s.left_out == []
    assert s.ap[0] == pytest.approx(0.5) and s.ap[1] == pytest.approx(1.0)
    assert s.mAP == pytest.approx(0.75) and s.auc[0] == pytest.approx(2 / 3)


def test_no_positive_at_all_gives_undefined_means_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" on the way
        s = score(np.zeros((3, 2)), np.random.RandomState(0).rand(3, 2))
    assert np.isnan(s.mAP) and np.isnan(s.mean_auc) and np.isnan(s.d_prime)
    assert s.scored == [] and s.left_out == [0, 1] and s.auc_left_out == [0, 1]
    assert s.positives.tolist() == [0, 0]


def test_a_class_that_is_always_positive_has_ap_but_no_auc():
    target = np.array([[1, 1], [1, 0], [1, 1]])
    s = score(target, np.array([[0.3, 0.9], [0.2, 0.1], [0.1, 0.8]]))
    assert s.ap[0] == pytest.approx(1.0) and np.isnan(s.auc[0]) and s.auc_left_out == [0]
    assert s.mean_auc == pytest.approx(1.0) and s.mAP == pytest.approx(1.0)
