"""Released checkpoints as bundles (timm's pretrained configs, torchaudio's pipeline bundles).

Each entry is frozen data saying what the file is, where it lives, how to verify it and what its
outputs mean (`labels`, `audio`); `load_checkpoint(entry)` fetches, verifies and loads it. Our own animal
checkpoints are added the same way once they are published (see `register_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional
from urllib.parse import quote

from panns_core.config import AudioConfig
from panns_core.errors import ConfigError
from panns_core.labels.sets import LabelSet, get_label_set

ZENODO_RECORD = "3987831"


def zenodo_url(filename: str, record: str = ZENODO_RECORD) -> str:
    return f"https://zenodo.org/record/{record}/files/{quote(filename, safe='')}?download=1"


@dataclass(frozen=True)
class PretrainedWeights:
    """One released checkpoint: a file, its checksums, and the settings its outputs assume."""

    name: str  # what users type: Tagger.from_pretrained(name)
    arch: str  # registered architecture
    filename: str
    url: str  # https://... or hf://owner/repo/path
    size: Optional[int] = None  # bytes; None where not published
    md5: Optional[str] = None
    sha256: Optional[str] = None
    reported_map: Optional[float] = None  # mAP its authors report, on `reported_on`
    reported_on: str = "AudioSet eval set, 527 classes"
    label_set: str = "audioset"  # what the head predicts: a known label set's name ('audioset', 'animal')
    audio: AudioConfig = field(default_factory=AudioConfig)
    licence: str = "CC BY 4.0"
    citation: str = "Kong et al., PANNs, IEEE/ACM TASLP 2020; Zenodo record 3987831"

    @property
    def labels(self) -> LabelSet:
        """What the head's outputs mean, in order."""
        return get_label_set(self.label_set)

    @property
    def classes_num(self) -> int:
        return len(self.labels)


def _official(name, arch, filename, reported_map, size=None, md5=None, sha256=None) -> PretrainedWeights:
    return PretrainedWeights(
        name=name,
        arch=arch,
        filename=filename,
        url=zenodo_url(filename),
        size=size,
        md5=md5,
        sha256=sha256,
        reported_map=reported_map,
    )


PRETRAINED: Dict[str, PretrainedWeights] = {}


def register_weights(weights: PretrainedWeights) -> PretrainedWeights:
    """Add a released checkpoint. Its architecture must be registered, its label set known and its name new:
    a second entry under one name would silently change what `Tagger.from_pretrained(name)` loads."""
    from panns_core.models.registry import is_registered, list_models

    if not is_registered(weights.arch):
        raise ConfigError(
            f"weights {weights.name!r} name architecture {weights.arch!r}, which is not registered "
            f"({', '.join(list_models())})"
        )
    try:
        get_label_set(weights.label_set)
    except KeyError as e:
        raise ConfigError(f"weights {weights.name!r}: {e.args[0]}") from None
    if weights.name in PRETRAINED:
        raise ConfigError(f"weights named {weights.name!r} are already registered ({PRETRAINED[weights.name].url})")
    PRETRAINED[weights.name] = weights
    return weights


for _w in (
    _official(
        "Cnn14",
        "Cnn14",
        "Cnn14_mAP=0.431.pth",
        0.431,
        size=327_428_481,
        md5="541141fa2ee191a88f24a3219fff024e",
        sha256="0dc499e40e9761ef5ea061ffc77697697f277f6a960894903df3ada000e34b31",
    ),
    _official("ResNet38", "ResNet38", "ResNet38_mAP=0.434.pth", 0.434, md5="bf12f36aaabac4e0855e22d3c3239c1b"),
    _official(
        "Wavegram_Logmel_Cnn14",
        "Wavegram_Logmel_Cnn14",
        "Wavegram_Logmel_Cnn14_mAP=0.439.pth",
        0.439,
        md5="17fa9ab65af3c0eb5ffbc5f65552c4e1",
    ),
    _official(
        "MobileNetV1",
        "MobileNetV1",
        "MobileNetV1_mAP=0.389.pth",
        0.389,
        size=23_639_473,
        md5="a419303e1c88aa1b9d2ac3811563d371",
    ),
    _official(
        "Cnn14_DecisionLevelMax",
        "Cnn14_DecisionLevelMax",
        "Cnn14_DecisionLevelMax_mAP=0.385.pth",
        0.385,
        size=327_428_481,
        sha256="dd3b4043a87d4ec13df8082c0fcfee3fb5084151808e47e060987a95eabdd142",
    ),
):
    register_weights(_w)


def get_weights(name: str) -> PretrainedWeights:
    """Look up by name ('Cnn14') or file name ('Cnn14_mAP=0.431.pth')."""
    if name in PRETRAINED:
        return PRETRAINED[name]
    for weights in PRETRAINED.values():
        if weights.filename == name:
            return weights
    raise KeyError(f"no released checkpoint named {name!r}; known: {', '.join(PRETRAINED)}")
