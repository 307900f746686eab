"""The model base class (panns_core.models.base) beyond what the fidelity tests pin down: identity of a
model built without the registry, the frozen front end and its dB scale, padding and frame counts of
short clips, SpecAugment in training, the head's dropout and the forward split.

Everything runs on a tiny architecture (8 kHz, 16 mel bins, a 4-wide head) so each test takes
milliseconds."""

from __future__ import annotations

import math

import pytest
import torch

from panns_core import AudioConfig
from panns_core.models.base import PannsModel

TINY = AudioConfig(sample_rate=8000, window_size=256, hop_size=64, mel_bins=16, fmin=50, fmax=4000)
WIDTH = 4


class Tiny(PannsModel):
    """The smallest architecture on the base: log-mel, its first WIDTH mel bins as features, the PANNs head.

    It records the `frames_num` each head call is given."""

    def __init__(self, classes_num: int = 3, audio: AudioConfig | None = None):
        super().__init__(classes_num, audio)
        self.build_frontend()
        self.build_head(WIDTH)
        self.frames_seen = []

    def forward_features(self, waveform, mixup_lambda=None):
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel)
        return x[:, 0, :, :WIDTH].transpose(1, 2)  # (batch, WIDTH, frames)

    def forward_head(self, features, frames_num=None):
        self.frames_seen.append(frames_num)
        return super().forward_head(features, frames_num)


def tiny(**kwargs) -> Tiny:
    torch.manual_seed(0)
    return Tiny(audio=TINY, **kwargs)


# ------------------------------------------------------------------ identity


def test_a_model_built_directly_knows_its_name_width_and_settings():
    model = Tiny(classes_num=3, audio=TINY)
    assert model.arch_name == "Tiny"  # an unregistered class is known by its class name
    assert model.classes_num == 3 and model.fc_audioset.out_features == 3
    assert model.audio is TINY
    default = Tiny()  # no settings: the official ones
    assert default.audio == AudioConfig() and default.bn0.num_features == AudioConfig().mel_bins


def test_a_name_given_in_the_class_body_is_kept_and_subclasses_get_their_own():
    class Named(Tiny):
        arch_name = "MyNet-v2"

    class Child(Named):
        pass

    assert Named.arch_name == "MyNet-v2" and Named(audio=TINY).arch_name == "MyNet-v2"
    assert Child.arch_name == "Child"


def test_build_frontend_with_other_settings_switches_to_them():
    model = tiny()
    other = AudioConfig(sample_rate=16000, window_size=512, hop_size=160, mel_bins=24, fmin=0, fmax=8000)
    model.build_frontend(other)
    assert model.audio is other and model.bn0.num_features == 24
    assert model.min_samples == 31 * 160
    assert model.display_log_mel(torch.zeros(16000)).shape == (1 + 16000 // 160, 24)


# ------------------------------------------------------------------ the front end


def test_the_stft_and_mel_bank_are_frozen_only_bn0_and_the_head_train():
    model = tiny().train()
    frozen = list(model.spectrogram_extractor.parameters()) + list(model.logmel_extractor.parameters())
    assert frozen and not any(p.requires_grad for p in frozen)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"bn0.weight", "bn0.bias", "fc1.weight", "fc1.bias", "fc_audioset.weight", "fc_audioset.bias"}
    model(0.1 * torch.randn(2, 4000))["clipwise_output"].sum().backward()
    assert all(p.grad is None for p in frozen) and model.bn0.weight.grad is not None


def test_log_mel_is_in_db_with_silence_at_the_floor_and_no_dynamic_range_cut():
    """10 log10(max(power, 1e-10)) with nothing clipped: silence sits at -100 dB even beside a loud tone."""
    model = tiny().eval()
    t = torch.arange(8000) / 8000
    wave = torch.cat([0.5 * torch.sin(2 * math.pi * 1000 * t), torch.zeros(8000)])
    spec = model.display_log_mel(wave)  # (frames, mel)
    assert spec.shape == (1 + 16000 // 64, 16)
    silent = spec[-100:]  # frames whose window lies wholly in the zero half
    assert (silent + 100).abs().max() < 1e-3
    assert spec[20:100].max() > 0  # the tone is more than 80 dB above the silence: nothing lifted it


def test_the_front_end_pads_short_clips_to_its_minimum():
    model = tiny()
    assert model.min_samples == 31 * 64
    one = model.pad_short(torch.ones(100))  # any leading shape: the samples are the last axis
    assert one.shape == (31 * 64,) and one[:100].eq(1).all() and one[100:].eq(0).all()
    almost = model.pad_short(torch.ones(2, 31 * 64 - 1))  # one sample short is still padded
    assert almost.shape == (2, 31 * 64) and almost[:, -1].eq(0).all() and almost[:, :-1].eq(1).all()
    for samples in (31 * 64, 5000):  # long enough: passed through as it is (no copy)
        x = torch.ones(2, samples)
        assert model.pad_short(x) is x


@pytest.mark.parametrize("shape", [(100,), (2, 100), (1, 31 * 64 - 1), (2, 31 * 64), (3, 1037), (6000,)])
def test_frames_of_is_the_number_of_frames_the_front_end_makes(shape):
    model = tiny().eval()
    x = 0.1 * torch.randn(*shape)
    frames = model.frames_of(x)
    assert isinstance(frames, int)
    assert frames == 1 + max(shape[-1], 31 * 64) // 64
    assert frames == model.display_log_mel(x).shape[-2]


def test_forward_gives_the_head_the_frame_count_of_the_input():
    model = tiny().eval()
    with torch.no_grad():
        for samples in (300, 3000):
            model.frames_seen.clear()
            x = 0.1 * torch.randn(2, samples)
            features = model.forward_features(x)
            model(x)
            assert model.frames_seen == [1 + max(samples, 31 * 64) // 64]
            assert model.frames_seen[-1] == features.shape[-1]  # one feature column per STFT frame


def zero_runs(mask: torch.Tensor) -> list:
    """Lengths of the runs of True in a 1-d bool tensor."""
    runs, length = [], 0
    for value in [*mask.tolist(), False]:
        if value:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs


def test_specaugment_in_training_drops_up_to_two_stripes_in_time_and_in_frequency():
    """The PANNs recipe: per clip, 2 time stripes of 0..63 frames and 2 frequency stripes of 0..7 mel bins."""
    model = tiny()
    aug = model.spec_augmenter
    assert (aug.time_dropper.drop_width, aug.time_dropper.stripes_num) == (64, 2)
    assert (aug.freq_dropper.drop_width, aug.freq_dropper.stripes_num) == (8, 2)
    torch.manual_seed(1)
    x = 0.1 * torch.randn(48, 24000)  # 376 frames each
    with torch.no_grad():
        model.eval()
        assert not model.logmel(x).eq(0).any()  # no augmentation in eval
        model.train()
        spec = model.logmel(x)[:, 0]  # (clips, frames, mel)
    assert spec.shape == (48, 376, 16)
    zero = spec.eq(0)
    time_runs = [zero_runs(zero[i].all(dim=1)) for i in range(48)]
    freq_runs = [zero_runs(zero[i].all(dim=0)) for i in range(48)]
    # outside the stripes nothing is zero: every zero lies in a dropped frame or a dropped bin
    dropped = zero.all(dim=2, keepdim=True) | zero.all(dim=1, keepdim=True)
    assert torch.equal(zero, dropped)
    for runs, widest in ((time_runs, 63), (freq_runs, 7)):
        assert all(len(r) <= 2 for r in runs)
        assert all(sum(r) <= 2 * widest for r in runs)
        singles = [w for r in runs if len(r) == 2 for w in r]  # two separate stripes: each is one draw
        assert singles and max(singles) <= widest
    assert sum(len(r) == 2 for r in time_runs) > 24  # most clips show two separate time stripes
    assert max(max(r, default=0) for r in time_runs) > 40  # and wide ones


# ------------------------------------------------------------------ the head


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(((a - b).abs() <= tol * (1 + b.abs())).all())


def identity_head(model: Tiny) -> None:
    with torch.no_grad():
        for layer in (model.fc1, model.fc_audioset):
            layer.weight.copy_(torch.eye(WIDTH, layer.in_features))
            layer.bias.zero_()


def test_build_head_makes_fc1_and_the_classifier_with_zero_biases():
    model = tiny(classes_num=5)
    assert model.fc1.weight.shape == (WIDTH, WIDTH) and model.fc_audioset.weight.shape == (5, WIDTH)
    for layer in (model.fc1, model.fc_audioset):
        assert layer.bias is not None and layer.bias.eq(0).all()
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))  # xavier uniform
        assert layer.weight.abs().max() <= bound and layer.weight.std() > bound / 4


def test_the_head_pools_then_drops_half_in_training_and_nothing_in_eval():
    """features -> max + mean over time -> dropout -> relu(fc1) -> clip scores; embedding = dropout of that."""
    model = tiny(classes_num=WIDTH)
    identity_head(model)  # fc1 and the classifier pass their input through: scores = sigmoid(pooled)
    torch.manual_seed(2)
    features = 0.5 + torch.rand(256, WIDTH, 10)
    pooled = features.amax(dim=2) + features.mean(dim=2)
    model.eval()
    out = model.forward_head(features)
    assert close(out["embedding"], pooled) and close(out["clipwise_output"], torch.sigmoid(pooled))
    model.train()
    out = model.forward_head(features)
    hidden = torch.logit(out["clipwise_output"].double()).float()  # relu(fc1(dropout(pooled)))
    kept = hidden.abs() > 1e-3
    assert close(hidden[kept], 2 * pooled[kept], 2e-3)  # the survivors are scaled by 2
    assert 0.4 < kept.float().mean() < 0.6  # about half dropped before fc1
    emb = out["embedding"]
    emb_kept = emb != 0
    assert not emb_kept[~kept].any()  # what fc1 never saw stays zero
    assert close(emb[emb_kept], 2 * hidden[emb_kept], 4e-3)
    assert 0.4 < emb_kept[kept].float().mean() < 0.6  # and the embedding drops half again
