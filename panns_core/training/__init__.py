"""Training on packed AudioSet data: dataset, samplers, mixup, the loop, evaluation and reporting.

The command-line stages that drive these live in the top-level `train` package (`python -m train`).
"""

from .config import FitConfig
from .dataset import PackedDataset
from .loop import fit
from .packfile import PackError, PackWriter, inspect_pack
from .sampler import BalancedSampler, ShuffleSampler

__all__ = [
    "BalancedSampler",
    "FitConfig",
    "PackError",
    "PackWriter",
    "PackedDataset",
    "ShuffleSampler",
    "fit",
    "inspect_pack",
]
