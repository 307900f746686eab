"""The shared helpers in panns_core.models.blocks: weight initialisation, PANNs mixup and clip pooling."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from panns_core.models.blocks import clip_pool, do_mixup, init_bn, init_layer


def test_init_bn_makes_batch_norm_start_as_a_plain_standardisation():
    bn = nn.BatchNorm2d(5)
    with torch.no_grad():
        bn.weight.uniform_(2, 3)
        bn.bias.uniform_(2, 3)
    init_bn(bn)
    assert bn.weight.eq(1).all() and bn.bias.eq(0).all()
    x = torch.randn(4, 5, 3, 2)
    y = bn.train()(x)  # per channel: zero mean, unit variance, nothing scaled or shifted
    assert y.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    assert (y.var(dim=(0, 2, 3), unbiased=False) - 1).abs().max() < 1e-3


@pytest.mark.parametrize("layer", [nn.Linear(30, 50), nn.Conv2d(8, 16, kernel_size=3)], ids=["linear", "conv"])
def test_init_layer_is_xavier_uniform_with_zero_bias(layer):
    with torch.no_grad():
        layer.bias.fill_(5.0)
        layer.weight.fill_(5.0)
    init_layer(layer)
    assert layer.bias.eq(0).all()
    receptive = layer.weight[0, 0].numel()
    bound = math.sqrt(6 / ((layer.weight.shape[0] + layer.weight.shape[1]) * receptive))
    w = layer.weight
    assert w.abs().max() <= bound and w.min() < -bound / 2 and w.max() > bound / 2  # spread over [-b, b]
    assert abs(w.std().item() - bound / math.sqrt(3)) < 0.1 * bound  # the std of uniform(-b, b)


def test_init_layer_takes_layers_without_bias():
    layer = nn.Linear(6, 6, bias=False)  # a bias switched off
    init_layer(layer)
    assert layer.bias is None and layer.weight.abs().max() <= math.sqrt(6 / 12)
    table = nn.Embedding(10, 6)  # no bias attribute at all
    init_layer(table)
    assert table.weight.abs().max() <= math.sqrt(6 / 16) and not hasattr(table, "bias")


def test_mixup_mixes_each_pair_with_its_own_weights_in_any_shape():
    x = torch.arange(6.0).view(6, 1, 1) * torch.ones(6, 2, 3)  # clip i is all i
    lam = torch.tensor([0.25, 0.75, 0.5, 0.5, 1.0, 0.0])
    mixed = do_mixup(x, lam)
    assert mixed.shape == (3, 2, 3)
    expected = torch.tensor([0.25 * 0 + 0.75 * 1, 0.5 * 2 + 0.5 * 3, 1.0 * 4 + 0.0 * 5])
    assert torch.allclose(mixed, expected.view(3, 1, 1).expand(3, 2, 3))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_mixup_keeps_the_dtype_of_what_it_mixes(dtype):
    x = torch.ones(4, 3, dtype=dtype)
    lam = torch.tensor([0.3, 0.7, 0.1, 0.9])  # float32 weights, as mixup_lambdas gives
    mixed = do_mixup(x, lam)
    assert mixed.dtype == dtype and torch.allclose(mixed.double(), torch.ones(2, 3, dtype=torch.float64), atol=1e-3)
    # and float32 data mixed with float64 weights (say from numpy) stays float32
    assert do_mixup(torch.ones(4, 3), lam.double()).dtype == torch.float32


def test_clip_pool_adds_the_max_and_the_mean_over_time():
    x = torch.tensor([[[1.0, 2.0, 6.0], [-3.0, -1.0, -2.0]], [[0.0, 0.0, 0.0], [4.0, 4.0, 1.0]]])  # (2, 2, 3)
    assert clip_pool(x).tolist() == [[6.0 + 3.0, -1.0 - 2.0], [0.0, 4.0 + 3.0]]
