"""Mixup and SpecAugment: shapes and labels stay right, and both are reproducible from a seed."""

import numpy as np
import pytest
import torch

from panns_core import create_model
from panns_core.training.mixup import mix, mixup_lambdas


def test_lambdas_come_in_pairs_summing_to_one_and_are_seeded():
    lam = mixup_lambdas(8, 1.0, np.random.default_rng(0))
    assert lam.shape == (8,) and lam.dtype == torch.float32
    torch.testing.assert_close(lam[0::2] + lam[1::2], torch.ones(4))
    assert ((lam >= 0) & (lam <= 1)).all()
    assert torch.equal(lam, mixup_lambdas(8, 1.0, np.random.default_rng(0)))
    assert not torch.equal(lam, mixup_lambdas(8, 1.0, np.random.default_rng(1)))
    with pytest.raises(ValueError, match="even"):
        mixup_lambdas(5, 1.0, np.random.default_rng(0))


def test_targets_are_mixed_pairwise_with_the_same_weights():
    y = torch.eye(4)  # clip i has class i
    lam = torch.tensor([0.7, 0.3, 1.0, 0.0])
    mixed = mix(y, lam)
    assert mixed.shape == (2, 4)
    torch.testing.assert_close(mixed, torch.tensor([[0.7, 0.3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match="cannot mix"):
        mix(y, lam[:2])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("MobileNetV1", classes_num=65).train()


def test_training_forward_halves_the_batch_like_the_targets(model):
    x = 0.1 * torch.randn(4, 32000)
    before = x.clone()
    lam = mixup_lambdas(4, 1.0, np.random.default_rng(3))
    out = model(x, mixup_lambda=lam)["clipwise_output"]
    target = mix(torch.eye(65)[:4], lam)
    assert out.shape == target.shape == (2, 65)
    assert torch.equal(x, before)  # SpecAugment and mixup work on copies
    assert model(x)["clipwise_output"].shape == (4, 65)


def test_augmentation_is_reproducible_from_the_seed(model):
    """Dropout and SpecAugment masks come from torch's generator: the training loop reseeds it per step."""
    x = 0.1 * torch.randn(2, 64000)
    torch.manual_seed(11)
    a = model(x)["clipwise_output"]
    torch.manual_seed(11)
    b = model(x)["clipwise_output"]
    torch.manual_seed(12)
    c = model(x)["clipwise_output"]
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)  # masks (and dropout) really change with the seed
    model.eval()
    try:
        assert torch.equal(model(x)["clipwise_output"], model(x)["clipwise_output"])  # no augmentation in eval
    finally:
        model.train()
