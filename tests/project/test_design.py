"""The core's contracts (issue 14): models that know what they are, labels as the one authority on
class sets, weights as bundles, typed checkpoints, one error policy, and old names that still work."""

from __future__ import annotations

import io
import json
import pickle
import tokenize
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from panns_core import AudioConfig, CheckpointError, ConfigError, Tagger, create_model, list_models, register_model
from panns_core.labels.sets import ANIMAL, ANIMAL_INDICES, AUDIOSET, generic, labels_for_head, view
from panns_core.models.base import PannsModel
from panns_core.models.cnn14 import Cnn14
from panns_core.weights.catalogue import PRETRAINED, get_weights, register_weights
from panns_core.weights.checkpoints import LoadedCheckpoint, load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ a model knows what it is


def test_a_model_built_directly_knows_its_arch_classes_and_audio():
    model = Cnn14(classes_num=len(ANIMAL))
    assert (model.arch_name, model.classes_num, model.audio) == ("Cnn14", len(ANIMAL), AudioConfig())
    assert create_model("Cnn14_DecisionLevelMax").arch_name == "Cnn14_DecisionLevelMax"
    assert isinstance(model, PannsModel) and model.fc_audioset.out_features == len(ANIMAL)


def test_tagger_takes_a_model_built_without_the_registry():
    tagger = Tagger(Cnn14(classes_num=len(ANIMAL)), device="cpu")
    result = tagger.predict(np.random.RandomState(0).randn(16000).astype(np.float32) * 0.1, 16000)
    assert tagger.arch == "Cnn14" and result.labels is ANIMAL and result.scores.shape == (len(ANIMAL),)


def test_forward_is_features_then_head():
    torch.manual_seed(0)
    model = create_model("MobileNetV1").eval()
    x = torch.randn(2, 20000) * 0.1
    with torch.no_grad():
        whole = model(x)
        split = model.forward_head(model.forward_features(x))
    assert torch.equal(whole["clipwise_output"], split["clipwise_output"])
    assert torch.equal(whole["embedding"], split["embedding"])


def test_reset_head_keeps_the_rows_of_the_requested_classes():
    torch.manual_seed(0)
    model = create_model("MobileNetV1")
    weight, bias = model.fc_audioset.weight.detach().clone(), model.fc_audioset.bias.detach().clone()
    model.reset_head(ANIMAL)
    assert model.classes_num == len(ANIMAL)
    assert torch.equal(model.fc_audioset.weight, weight[ANIMAL_INDICES])  # the animal rows, not the first 65
    assert torch.equal(model.fc_audioset.bias, bias[ANIMAL_INDICES])
    assert not torch.equal(model.fc_audioset.weight, weight[: len(ANIMAL)])
    model.reset_head([3, 0])  # explicit rows, in that order
    assert torch.equal(model.fc_audioset.weight, weight[[ANIMAL_INDICES[3], ANIMAL_INDICES[0]]])
    model.reset_head(7)  # a fresh head
    assert model.classes_num == 7 and model.fc_audioset.weight.shape == (7, model.fc_audioset.in_features)
    with pytest.raises(ConfigError):
        create_model("MobileNetV1", classes_num=len(ANIMAL)).reset_head(AUDIOSET)  # rows it does not have


def test_display_log_mel_is_the_unnormalised_front_end():
    model = create_model("MobileNetV1").eval()
    wave = torch.sin(torch.arange(32000) / 32000 * 2 * torch.pi * 440) * 0.5
    spec = model.display_log_mel(wave)
    assert spec.shape == (1 + 32000 // 320, 64)
    # loudest mel bin of a 440 Hz tone is a low one, and the image is in dB (no batch norm applied)
    assert spec.mean(0).argmax() < 16 and spec.max() > 0


# ------------------------------------------------------------------ one new architecture, one file + one line


class _ToyNet(PannsModel):
    """A new architecture as a user would add it: one class on the base, one registry line."""

    embedding_size = 8

    def __init__(self, classes_num: int = len(AUDIOSET), audio: AudioConfig | None = None):
        super().__init__(classes_num, audio)
        self.build_frontend()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.build_head(8)

    def forward_features(self, waveform, mixup_lambda=None):
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel)
        return F.relu(self.conv(x)).mean(dim=3)  # (batch, 8, frames)


if "ToyNetDesignTest" not in list_models():
    register_model("ToyNetDesignTest")(_ToyNet)


def test_a_new_architecture_runs_through_tagger_checkpoints_and_evaluation(tmp_path, shared_dir):
    from panns_core.evaluation.scoring import evaluate
    from panns_core.training.dataset import PackedDataset
    from train.pack import pack

    torch.manual_seed(0)
    model = create_model("ToyNetDesignTest")
    assert model.arch_name == "ToyNetDesignTest" and model.classes_num == len(AUDIOSET)
    path = save_checkpoint(tmp_path / "toy.pth", model, iteration=3)
    loaded = load_checkpoint(path)
    assert loaded.arch == "ToyNetDesignTest" and loaded.head_labels is AUDIOSET and loaded.iteration == 3
    tagger = Tagger.from_pretrained(str(path), device="cpu")
    clip = shared_dir / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav"
    result = tagger.predict_file(clip)
    assert result.labels is ANIMAL and np.isfinite(result.scores).all()
    # the Tagger's view of the general model on the animal set is the animal rows of the full output
    full = Tagger(loaded.model, label_set="audioset", device="cpu").predict_file(clip)
    np.testing.assert_allclose(result.scores, full.scores[ANIMAL_INDICES], rtol=1e-6)
    # training evaluation views it the same way
    table = [("Ya", clip, [ANIMAL.mids[0]]), ("Yb", clip, [ANIMAL.mids[1]])]
    pack(table, tmp_path / "eval.h5")
    data = PackedDataset(tmp_path / "eval.h5")
    scores = evaluate(loaded.model, data, AUDIOSET, ANIMAL, batch_size=2)
    data.close()
    assert len(scores.ap) == len(ANIMAL)


# ------------------------------------------------------------------ labels decide every class set


def test_view_selects_by_class_not_by_position():
    assert view(AUDIOSET, AUDIOSET) is None
    assert view(AUDIOSET, ANIMAL) == ANIMAL_INDICES
    with pytest.raises(ConfigError, match="cannot be viewed"):
        view(ANIMAL, AUDIOSET)


def test_no_class_count_or_sample_rate_literal_outside_their_definitions():
    """527, 65 and 32000 live in labels.py (derived from the AudioSet list) and config.py (AudioConfig)."""
    allowed = {REPO / "panns_core" / "labels.py", REPO / "panns_core" / "config.py"}
    found = []
    for path in sorted([*REPO.joinpath("panns_core").rglob("*.py"), *REPO.joinpath("train").rglob("*.py")]):
        if path in allowed:
            continue
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        found += [
            f"{path.relative_to(REPO)}:{t.start[0]}: {t.string}"
            for t in tokens
            if t.type == tokenize.NUMBER and t.string.replace("_", "") in ("527", "65", "32000")
        ]
    assert not found, found


# ------------------------------------------------------------------ weights as bundles


def test_released_weights_are_bundles():
    cnn14 = get_weights("Cnn14")
    assert cnn14.labels is AUDIOSET and cnn14.classes_num == len(AUDIOSET) and cnn14.audio == AudioConfig()


def test_registration_refuses_unknown_architectures_and_duplicates(monkeypatch):
    monkeypatch.setattr("panns_core.weights.catalogue.PRETRAINED", dict(PRETRAINED))
    with pytest.raises(ConfigError, match="not registered"):
        register_weights(replace(get_weights("Cnn14"), name="Cnn15", arch="Cnn15"))
    with pytest.raises(ConfigError, match="already registered"):
        register_weights(get_weights("Cnn14"))
    with pytest.raises(ConfigError, match="label set"):
        register_weights(replace(get_weights("Cnn14"), name="Cnn14_birds", label_set="birds"))
    ours = register_weights(replace(get_weights("MobileNetV1"), name="MobileNetV1_animal", label_set="animal"))
    assert ours.classes_num == len(ANIMAL)


def test_get_model_loads_a_cached_bundle(tmp_path, monkeypatch, official_checkpoint):
    import hashlib

    data = official_checkpoint("MobileNetV1").read_bytes()
    entry = replace(PRETRAINED["MobileNetV1"], size=len(data), md5=hashlib.md5(data).hexdigest())
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    (tmp_path / entry.filename).write_bytes(data)
    model = load_checkpoint(entry, progress=False).model
    assert model.arch_name == "MobileNetV1" and not model.training


# ------------------------------------------------------------------ typed checkpoints


def test_loaded_checkpoint_fields(official_checkpoint):
    loaded = load_checkpoint(official_checkpoint("MobileNetV1"))
    assert isinstance(loaded, LoadedCheckpoint)
    assert (loaded.arch, loaded.head_labels, loaded.classes_num, loaded.iteration) == (
        "MobileNetV1",
        AUDIOSET,
        len(AUDIOSET),
        600000,
    )
    assert loaded.path == official_checkpoint("MobileNetV1") and loaded.weights is None
    assert loaded.audio == AudioConfig() and loaded.model.arch_name == "MobileNetV1"
    assert loaded.label_set == "audioset"


def _head_checkpoint(path: Path, classes: int) -> Path:
    torch.manual_seed(0)
    torch.save({"model": create_model("MobileNetV1", classes_num=classes).state_dict()}, path)
    return path


def test_a_head_of_unknown_width_loads_with_generic_labels_and_a_warning(tmp_path):
    path = _head_checkpoint(tmp_path / "MobileNetV1_birds.pth", 3)
    with pytest.warns(UserWarning, match="match no known label set"):
        loaded = load_checkpoint(path)
    assert loaded.head_labels.names == ("class_0", "class_1", "class_2") and loaded.classes_num == 3
    with pytest.warns(UserWarning):
        tagger = Tagger.from_pretrained(str(path), device="cpu")
    result = tagger.predict(np.zeros(16000, np.float32), 16000)
    assert result.labels.names == ("class_0", "class_1", "class_2") and result.scores.shape == (3,)
    assert result.top(1)[0][0].startswith("class_")


def test_a_labels_file_names_the_outputs(tmp_path):
    path = _head_checkpoint(tmp_path / "MobileNetV1_birds.pth", 3)
    csv_file = tmp_path / "birds.csv"
    csv_file.write_text("mid,display_name\n/m/015p6,Bird\nx1,Robin\nx2,Wren\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the labels are given
        loaded = load_checkpoint(path, head_labels=csv_file)
    assert loaded.head_labels.names == ("Bird", "Robin", "Wren")
    assert loaded.head_labels.indices[0] == AUDIOSET.index_of("/m/015p6")
    json_file = tmp_path / "birds.json"
    json_file.write_text(json.dumps(["a", "b", "c"]))
    assert load_checkpoint(path, head_labels=json_file).head_labels.names == ("a", "b", "c")
    json_file.write_text(json.dumps(["a", "b"]))
    with pytest.raises(ConfigError, match="predicts 3 classes but the labels"):
        load_checkpoint(path, head_labels=json_file)
    # a model saved with such labels keeps them
    resaved = save_checkpoint(tmp_path / "resaved.pth", loaded.model, label_set=loaded.head_labels)
    assert load_checkpoint(resaved).head_labels.names == ("Bird", "Robin", "Wren")


def test_generic_labels_are_only_for_unknown_widths():
    assert labels_for_head(len(ANIMAL)) is ANIMAL
    assert generic(2).mids == ("class_0", "class_1")


def test_a_text_file_given_as_a_checkpoint_is_a_checkpoint_error(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    with pytest.raises(CheckpointError, match=r"passwd.*not a readable PyTorch checkpoint"):
        load_checkpoint(passwd, arch="Cnn14")
    if Path("/etc/passwd").is_file():
        with pytest.raises(CheckpointError, match="/etc/passwd"):
            load_checkpoint("/etc/passwd", arch="Cnn14")
    binary = tmp_path / "noise.pth"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # looks like a zip, is not one
    with pytest.raises(CheckpointError, match=r"noise\.pth"):
        load_checkpoint(binary, arch="Cnn14")


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_refused_pickle_never_suggests_turning_safety_off(tmp_path):
    torch.save({"model": {"fc": torch.zeros(1)}, "evil": _Payload()}, tmp_path / "evil.pth")
    with open(tmp_path / "legacy.pth", "wb") as f:
        pickle.dump({"x": _Payload()}, f, protocol=2)
    with open(tmp_path / "framed.pth", "wb") as f:  # an opcode torch's safe unpickler does not take
        pickle.dump({"x": [1, 2]}, f, protocol=4)
    for name in ("evil.pth", "legacy.pth", "framed.pth"):
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(tmp_path / name, arch="Cnn14")
        message = str(err.value)
        assert "weights_only" not in message and name in message
        assert "refused for safety" in message and "official PANNs checkpoint" in message


# ------------------------------------------------------------------ one error policy, one vocabulary


def test_cli_checkpoint_option_and_the_old_name_is_gone(tmp_path, official_checkpoint, capsys, shared_dir):
    from panns_core.cli.main import main

    clip = shared_dir / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav"
    ckpt = str(official_checkpoint("MobileNetV1"))
    assert main(["tag", str(clip), "--checkpoint", ckpt, "--csv", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert (tmp_path / "a.csv").read_text().startswith("file,start,end,label_1")
    with pytest.raises(SystemExit) as gone:  # nothing was released: the old spelling is simply unknown
        main(["tag", str(clip), "--model", ckpt])
    assert gone.value.code == 2 and "unrecognized arguments: --model" in capsys.readouterr().err
    # a user error is one line and exit code 2; no input at all is a user error
    assert main(["tag", str(tmp_path / "empty_dir_missing"), "--checkpoint", str(tmp_path / "x.pth")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_train_shows_tracebacks_for_bugs(monkeypatch):
    """Only PannsError is a one-line message; a ValueError from a bug must surface with its traceback."""
    from train import __main__ as train_main

    def broken(args):
        raise ValueError("a bug, not a user error")

    monkeypatch.setattr(train_main.evaluate, "run", broken)
    with pytest.raises(ValueError, match="a bug"):
        train_main.main(["evaluate", "--checkpoint", "x", "--eval", "y"])
