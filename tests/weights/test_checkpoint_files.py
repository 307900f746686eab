"""Checkpoint reading and writing, details a user meets: numpy state in official files (new and old numpy), the
exact refusal messages, the deprecated tuple access, and what a saved file carries. Small models, no network."""

import os
import pickle
import re
import stat
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from panns_core import CheckpointError
from panns_core.config import AudioConfig
from panns_core.errors import ConfigError
from panns_core.labels.sets import ANIMAL, from_classes
from panns_core.models.registry import list_models
from panns_core.weights.catalogue import PRETRAINED
from panns_core.weights.checkpoints import (
    _labels_of,
    _unpickler_reason,
    atomic_save,
    check_state_dict,
    infer_arch,
    load_checkpoint,
    model_config,
    read_checkpoint,
    save_checkpoint,
    split_checkpoint,
)

SAFETY = (
    "Use an official PANNs checkpoint (python -m panns_core list) or one written by this package "
    "(python -m train fit); a file from elsewhere can be re-saved as a plain state dict of tensors."
)
DTYPES = ("f4", "f8", "i4", "i8", "u1", "b1", "f2", "u4", "u8", "i2")


class Payload:  # an arbitrary object: never unpickled
    pass


class Tiny(torch.nn.Module):
    """What a checkpoint records of a model (architecture name, head width, audio settings) on a two-weight
    network: building a real one costs seconds, and these tests run hundreds of times under mutation testing."""

    arch_name = "MobileNetV1"

    def __init__(self, classes_num: int, audio: AudioConfig = None):
        super().__init__()
        self.classes_num, self.audio = classes_num, audio or AudioConfig()
        self.fc_audioset = torch.nn.Linear(2, classes_num)


def test_numpy_state_of_every_common_dtype_loads(tmp_path):
    arrays = {t: np.array([0, 1, 3]).astype(t) for t in DTYPES}
    scalars = {t: np.array([1]).astype(t)[0] for t in DTYPES}
    torch.save({"model": {"w": torch.ones(2)}, "arrays": arrays, "scalars": scalars}, tmp_path / "s.pth")
    obj = read_checkpoint(tmp_path / "s.pth")
    for t in DTYPES:
        assert obj["arrays"][t].dtype == np.dtype(t) and obj["arrays"][t].tolist() == arrays[t].tolist(), t
        assert obj["scalars"][t].dtype == np.dtype(t) and obj["scalars"][t] == scalars[t], t
    assert torch.equal(obj["model"]["w"], torch.ones(2))


def test_files_pickled_by_numpy_1_load(tmp_path):
    """The Zenodo files were written with numpy 1, which pickles arrays as numpy.core.multiarray."""
    path = tmp_path / "old.pth"
    state = {"model": {"w": torch.arange(3.0)}, "queue": np.arange(3), "lr": np.float64(2.5)}
    torch.save(state, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    assert data.count(b"cnumpy._core.multiarray\n") >= 2
    path.write_bytes(data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"))
    obj = read_checkpoint(path)
    assert obj["queue"].tolist() == [0, 1, 2] and obj["lr"] == 2.5 and torch.equal(obj["model"]["w"], torch.arange(3.0))


def test_what_a_file_that_is_no_checkpoint_holds_is_named(tmp_path):
    cases = {
        "empty.pth": (b"", "an empty file"),
        "notes.pth": (b"these are notes, " * 80, "text"),
        "blob.pth": (b"\x00\x01\xfe\xff" * 300, r"bytes b'\x00\x01\xfe\xff'"),
        "tab.pth": (b"\tab\x00" * 10, r"bytes b'\tab\x00'"),  # ASCII but not printable
    }
    for name, (data, kind) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(tmp_path / name)
        assert str(err.value) == (
            f"{tmp_path / name} ({len(data):,} bytes) is not a readable PyTorch checkpoint: it holds {kind}, "
            "not a zip archive or pickle written by torch.save"
        )
    with pytest.raises(CheckpointError, match=r"^checkpoint \S+nothing\.pth does not exist$"):
        read_checkpoint(tmp_path / "nothing.pth")


def test_refusals_say_why_without_torchs_advice(tmp_path):
    torch.save({"model": {"w": torch.ones(1)}, "evil": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(tmp_path / "evil.pth")
    assert str(err.value) == (
        f"{tmp_path / 'evil.pth'} was refused for safety: it holds objects that are not safe to load "
        f"(GLOBAL {__name__}.Payload), and loading them could run code. Only tensors, plain containers "
        f"and numpy arrays are accepted. {SAFETY}"
    )
    data = pickle.dumps({1, 2}, protocol=4)  # a pickle opcode the safe loader does not know
    (tmp_path / "set.pth").write_bytes(data)
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(tmp_path / "set.pth")
    assert str(err.value) == (
        f"{tmp_path / 'set.pth'} ({len(data):,} bytes) is not a readable PyTorch checkpoint and was refused "
        f"for safety: Unsupported operand 149. {SAFETY}"
    )
    assert "weights_only" not in str(err.value)


def test_a_checkpoint_must_be_a_dict(tmp_path):
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match=r"list\.pth holds a list, not a checkpoint dict$"):
        read_checkpoint(tmp_path / "list.pth")


def test_model_config_keeps_known_sets_by_name_and_others_in_full():
    model = Tiny(65, AudioConfig(sample_rate=16000, fmax=8000))
    config = model_config(model, ANIMAL)
    assert config == {
        "arch": "MobileNetV1",
        "classes_num": 65,
        "label_set": "animal",
        "audio": model.audio.to_dict(),
    }
    assert config["audio"]["sample_rate"] == 16000
    assert model_config(model, "animal") == config  # by name
    assert model_config(model)["label_set"] == "animal"  # by head width
    birds = from_classes("birds", ["/m/a", "/m/b", "/m/c"], ["A", "B", "C"])
    small = Tiny(3)
    assert model_config(small, birds)["labels"] == {"mids": ["/m/a", "/m/b", "/m/c"], "names": ["A", "B", "C"]}
    assert model_config(small, birds)["label_set"] == "birds"


def test_saved_files_are_readable_by_others_and_replace_atomically(tmp_path):
    seen = []
    real_save = torch.save

    def save_and_look(obj, f):  # what is in the folder while the bytes are being written
        seen.extend(p.name for p in (tmp_path / "deep" / "er").iterdir())
        real_save(obj, f)

    old = os.umask(0o022)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(torch, "save", save_and_look)
            path = atomic_save({"model": {"w": torch.ones(2)}}, tmp_path / "deep" / "er" / "a.pth")
    finally:
        os.umask(old)
    # the bytes go to a temporary file beside the target (a rename is atomic only within one file system),
    # named after it and ending in .tmp, so that one left by a crash is recognisable
    assert len(seen) == 1 and seen[0].startswith("a.pth.") and seen[0].endswith(".tmp"), seen
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600: the umask decides
    assert path == tmp_path / "deep" / "er" / "a.pth" and torch.equal(
        read_checkpoint(path)["model"]["w"], torch.ones(2)
    )
    # a save that fails half-way leaves the previous file whole and no temporary file behind
    with pytest.raises(TypeError, match="cannot pickle"):
        atomic_save({"model": {"w": torch.ones(2)}, "bad": threading.Lock()}, path)
    assert torch.equal(read_checkpoint(path)["model"]["w"], torch.ones(2))
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.pth"]


def test_saved_extras_and_config_overrides(tmp_path):
    model = Tiny(65)
    path = save_checkpoint(tmp_path / "x.pth", model, config={"fit": {"lr": 0.1}, "label_set": "mine"}, iteration=3)
    assert path == tmp_path / "x.pth"
    obj = read_checkpoint(path)
    assert set(obj) == {"model", "config", "iteration"} and obj["iteration"] == 3
    assert obj["config"] == {
        "arch": "MobileNetV1",
        "classes_num": 65,
        "label_set": "mine",  # the caller's config wins over the model's
        "audio": AudioConfig().to_dict(),
        "fit": {"lr": 0.1},
    }
    assert obj["model"].keys() == model.state_dict().keys()
    assert all(torch.equal(obj["model"][k], v) for k, v in model.state_dict().items())


def test_saving_with_a_label_set_and_without_extra_config(tmp_path):
    birds = from_classes("birds", ["/m/a", "/m/b", "/m/c"], ["A", "B", "C"])
    obj = read_checkpoint(save_checkpoint(tmp_path / "b.pth", Tiny(3), label_set=birds))
    assert set(obj) == {"model", "config"}
    assert obj["config"]["label_set"] == "birds"
    assert obj["config"]["labels"] == {"mids": ["/m/a", "/m/b", "/m/c"], "names": ["A", "B", "C"]}


def test_tensors_go_where_map_location_says(tmp_path):
    torch.save({"model": {"w": torch.ones(2)}}, tmp_path / "plain.pth")
    torch.save({"model": {"w": torch.ones(2)}, "queue": np.arange(3)}, tmp_path / "numpy.pth")  # the retry path
    for name in ("plain.pth", "numpy.pth"):
        assert read_checkpoint(tmp_path / name, map_location="meta")["model"]["w"].device.type == "meta", name
        assert read_checkpoint(tmp_path / name)["model"]["w"].device.type == "cpu", name


def test_torchs_switch_to_unsafe_loading_is_ignored(tmp_path, monkeypatch):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD turns torch.load's safety off where a caller does not ask for it."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    torch.save({"model": {"w": torch.ones(1)}, "evil": Payload()}, tmp_path / "evil.pth")
    # numpy first: refused by the first load, retried with numpy allowed, refused again for the payload
    torch.save({"queue": np.arange(3), "model": {"w": torch.ones(1)}, "evil": Payload()}, tmp_path / "np_evil.pth")
    for name in ("evil.pth", "np_evil.pth"):
        with pytest.raises(CheckpointError, match=rf"was refused for safety: .*\(GLOBAL {__name__}\.Payload\)"):
            read_checkpoint(tmp_path / name)


def test_a_corrupt_file_names_the_error(tmp_path):
    data = pickle.dumps(12345, protocol=2)  # a pickle, but not one torch.save wrote
    (tmp_path / "n.pth").write_bytes(data)
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(tmp_path / "n.pth")
    assert str(err.value).startswith(
        f"{tmp_path / 'n.pth'} ({len(data)} bytes) is not a readable PyTorch checkpoint; it may be truncated or "
        "corrupt: RuntimeError: "
    )


@pytest.mark.parametrize(
    "message, reason",
    [
        # torch 2.6: the reason on its own line after the marker
        (
            "Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` will likely "
            "succeed.\nPlease file an issue: WeightsUnpickler error: \n\nUnsupported operand 149\n\n"
            "Check the documentation of torch.load to learn more about weights_only.",
            "Unsupported operand 149",
        ),
        # the reason on the marker's line
        (
            "Weights only load failed. Please file an issue: WeightsUnpickler error: Unsupported operand 149\n"
            "Check the documentation of torch.load.",
            "Unsupported operand 149",
        ),
        # only the first marker counts
        (
            "WeightsUnpickler error: Unsupported operand 149\n(in WeightsUnpickler error: data.pkl)",
            "Unsupported operand 149",
        ),
        # no marker: every line of advice is left out, whichever way it is recognised
        (
            "Weights only load failed with `weights_only` on.\nPlease file an issue so that we can help.\n"
            "Check the documentation to learn more.\n(1) Retry as advised.\n(2) Or allow the global.\n"
            "See torch.load for details.\nUnsupported operand: X.",
            "Unsupported operand: X",
        ),
        # nothing but advice
        ("Weights only load failed with `weights_only`.\nPlease retry.", "the file's contents are not plain tensors"),
    ],
)
def test_torchs_reason_is_kept_and_its_advice_left_out(message, reason):
    assert _unpickler_reason(pickle.UnpicklingError(message)) == reason


# ------------------------------------------------------------------ reading a file's layout, without building a model
def test_the_state_dict_is_found_in_every_layout():
    state = {"a.weight": torch.ones(2), "b.bias": torch.zeros(1)}
    assert split_checkpoint({"model": state, "iteration": 5}) == (state, {})  # official
    assert split_checkpoint({"model": state, "config": {"arch": "Cnn14"}}) == (state, {"arch": "Cnn14"})  # ours
    assert split_checkpoint(state) == (state, {})  # bare
    assert split_checkpoint({"model": state, "config": "not a dict"}) == (state, {})
    for bad in ({"model": {}}, {"model": {"a": 1}}, {"model": [torch.ones(1)]}, {"iteration": torch.ones(1), "x": 2}):
        with pytest.raises(CheckpointError) as err:
            split_checkpoint(bad, "f.pth")
        assert str(err.value) == "f.pth has no state dict of tensors (expected a 'model' entry or a bare state dict)"


def test_the_architecture_comes_from_config_then_name_then_layout(tmp_path):
    t = torch.ones(1)
    assert infer_arch({}, {"arch": "ResNet38"}, "Cnn14_mAP=0.431.pth") == "ResNet38"
    assert infer_arch({}, {"arch": ""}, "MobileNetV1_x.pth") == "MobileNetV1"  # an empty entry says nothing
    # the longest registered name that starts the file name, wherever the file lies
    assert infer_arch({}, {}, "Cnn14_DecisionLevelMax_mAP=0.385.pth") == "Cnn14_DecisionLevelMax"
    assert (
        infer_arch({}, {}, str(tmp_path / "Cnn14" / "Wavegram_Logmel_Cnn14_mAP=0.439.pth")) == "Wavegram_Logmel_Cnn14"
    )
    layouts = {
        "pre_conv0.weight": "Wavegram_Logmel_Cnn14",
        "resnet.layer1.0.conv1.weight": "ResNet38",
        "features.0.0.weight": "MobileNetV1",
        "conv_block6.conv1.weight": "Cnn14",
    }
    for key, arch in layouts.items():
        assert infer_arch({key: t, "fc_audioset.weight": t}, {}, "weights.pth") == arch
    # Wavegram-Logmel-CNN14 also has Cnn14's blocks: its own key decides
    assert infer_arch({"conv_block6.conv1.weight": t, "pre_conv0.weight": t}, {}) == "Wavegram_Logmel_Cnn14"
    assert infer_arch({"fc1.weight": t}, {}, "weights.pth") is None


def test_a_state_dict_that_does_not_fit_is_described(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 4), torch.nn.Linear(4, 5))
    good = model.state_dict()
    check_state_dict(model, dict(good))
    state = {"0.weight": torch.zeros(3, 5), "0.bias": torch.zeros(2), "x": t1(), "y": t1(), "z": t1(), "w": t1()}
    with pytest.raises(CheckpointError) as err:
        check_state_dict(model, state, "f.pth")
    assert str(err.value) == (
        "f.pth does not fit Sequential: 4 missing weights (e.g. 1.weight, 1.bias, 2.weight); "
        "4 unexpected weights (e.g. x, y, z); "
        "2 shape mismatches (e.g. 0.weight: file (3, 5) vs model (3, 2); 0.bias: file (2,) vs model (3,))"
    )
    tiny = Tiny(3)
    with pytest.raises(CheckpointError, match=r"^checkpoint does not fit MobileNetV1: 1 missing weights"):
        check_state_dict(tiny, {"fc_audioset.weight": torch.zeros(3, 2)})


def t1():
    return torch.ones(1)


def test_labels_come_from_the_caller_then_the_file_then_the_release(tmp_path):
    path = tmp_path / "mine.pth"
    saved = {"labels": {"mids": ["/m/a", "/m/b"], "names": ["A", "B"]}}
    assert _labels_of(saved, None, 2, None, path).names == ("A", "B")
    assert _labels_of(saved, None, 2, None, path).name == "mine"  # named after the file without a set name
    assert _labels_of({**saved, "label_set": "birds"}, None, 2, None, path).name == "birds"
    only_mids = {"labels": {"mids": ["/m/a", "/m/b"]}}
    assert _labels_of(only_mids, None, 2, None, path).names == ("/m/a", "/m/b")
    assert _labels_of({"label_set": "animal"}, None, 65, None, path) is ANIMAL
    caller = from_classes("caller", ["x", "y"])
    assert _labels_of(saved, None, 2, caller, path) is caller
    with pytest.warns(UserWarning, match=rf"^{re.escape(str(path))} predicts 2 classes, which match no known"):
        unknown = _labels_of({"label_set": "no-such-set"}, None, 2, None, path)
    assert unknown.names == ("class_0", "class_1")
    with pytest.raises(ConfigError, match="0 ids but 2 names"):  # names without ids: refused, not a crash
        _labels_of({"labels": {"names": ["A", "B"]}}, None, 2, None, path)
    release = replace(PRETRAINED["Cnn14"], label_set="animal")
    assert _labels_of({}, release, 65, None, path) is ANIMAL
    assert _labels_of({"label_set": "animal"}, PRETRAINED["Cnn14"], 65, None, path) is ANIMAL  # the file wins


def known() -> str:
    """The registered architectures as the errors list them (other tests may register toy ones)."""
    names = list_models()
    assert {"Cnn14", "Cnn14_DecisionLevelMax", "MobileNetV1", "ResNet38", "Wavegram_Logmel_Cnn14"} <= set(names)
    return ", ".join(names)


def test_load_checkpoint_refuses_before_building_anything(tmp_path):
    t = torch.ones(1)
    torch.save({"conv_block6.conv1.weight": t, "fc_audioset.weight": torch.zeros(5, 2)}, tmp_path / "w.pth")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "w.pth", classes_num=3)
    assert str(err.value) == f"{tmp_path / 'w.pth'} predicts 5 classes, not the 3 asked for"
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "w.pth", arch="Nope")
    assert str(err.value) == (f"unknown architecture 'Nope' for {tmp_path / 'w.pth'}; known: {known()}")
    torch.save({"conv_block6.conv1.weight": t}, tmp_path / "headless.pth")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "headless.pth")
    assert str(err.value) == f"{tmp_path / 'headless.pth'} has no fc_audioset head: not a PANNs checkpoint"
    torch.save({"model": {}}, tmp_path / "empty.pth")
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(tmp_path / 'empty.pth'))} has no state dict"):
        load_checkpoint(tmp_path / "empty.pth")
    torch.save({"fc1.weight": t}, tmp_path / "x.pth")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "x.pth")
    assert str(err.value) == (f"cannot tell the architecture of {tmp_path / 'x.pth'}; pass arch= one of {known()}")
