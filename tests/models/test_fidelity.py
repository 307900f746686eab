"""A model-fidelity check small enough for the quick subset (`-m "not slow"`): one model, one short input.

MobileNetV1 on the 4.4-s golden input exercises the whole shared front end (STFT, mel filterbank with
fmin/fmax, log with ref/amin, bn0) and a full network against the reference implementation's outputs.
The full comparison (every model, both inputs) is the slow test in test_core_models.py.
"""

import json

import torch

from panns_core import create_model

INPUT = "clip_odd_139999"


def test_mobilenet_matches_the_reference_on_a_short_clip(reference):
    golden = json.loads(reference.golden.read_text())
    expected = golden["models"]["MobileNetV1"][INPUT]
    model = create_model("MobileNetV1").eval()
    reference.fill.fill_state_dict(model, salt=golden["salt"])
    captured = {}
    model.fc_audioset.register_forward_hook(lambda mod, args, out: captured.__setitem__("logits", out[0]))
    with torch.no_grad():
        out = model(reference.compare.golden_inputs(str(reference.clip))[INPUT])
    err = reference.compare._err
    tolerance = reference.compare.TOLERANCE
    assert err(captured["logits"], expected["logits"]) < tolerance
    assert err(out["embedding"][0], expected["embedding"]) < tolerance
    assert err(out["clipwise_output"][0], expected["clipwise_output"]) < tolerance
    # the logits are spread out: a model answering a constant, or a mangled front end, is far away
    assert torch.tensor(expected["logits"]).std() > 10 * tolerance
