"""Checkpoint loading, saving and downloading: official layout, safety, and every failure named clearly."""

import hashlib
import http.server
import threading
import typing
from dataclasses import replace

import pytest
import torch

from panns_core import CheckpointError, Tagger, WeightsUnavailableError, create_model
from panns_core.errors import DownloadError
from panns_core.labels.sets import ANIMAL, ANIMAL_INDICES
from panns_core.weights.cache import download, hub_file, verify
from panns_core.weights.catalogue import PRETRAINED, get_weights
from panns_core.weights.checkpoints import load_checkpoint, save_checkpoint


def test_official_format_loads_strictly_through_from_pretrained(official_checkpoint):
    path = official_checkpoint("MobileNetV1")
    tagger = Tagger.from_pretrained(str(path), label_set="audioset")
    assert tagger.arch == "MobileNetV1" and tagger.info.iteration == 600000
    raw = torch.load(path, weights_only=False)["model"]
    for k, v in tagger.model.state_dict().items():
        assert torch.equal(v, raw[k]), k


def test_bare_state_dict_needs_the_architecture_only_when_nothing_says_it(tmp_path):
    model = create_model("Cnn14_DecisionLevelMax")
    torch.save(model.state_dict(), tmp_path / "weights.pth")
    # Cnn14 and its decision-level variant share a layout: the contents say "Cnn14"...
    assert load_checkpoint(tmp_path / "weights.pth").arch == "Cnn14"
    # ...and `arch` picks the variant
    info = load_checkpoint(tmp_path / "weights.pth", arch="Cnn14_DecisionLevelMax")
    assert info.arch == "Cnn14_DecisionLevelMax" and info.head_labels.name == "audioset"


def test_our_checkpoints_carry_their_config(tmp_path):
    model = create_model("MobileNetV1", sample_rate=16000, fmax=8000).reset_head(ANIMAL)
    save_checkpoint(tmp_path / "ours.pth", model, iteration=12, optimizer={"lr": torch.tensor(1e-3)})
    info = load_checkpoint(tmp_path / "ours.pth")
    loaded = info.model
    assert (info.arch, info.classes_num, info.head_labels.name, info.iteration) == ("MobileNetV1", 65, "animal", 12)
    assert loaded.audio.sample_rate == 16000
    assert not list(tmp_path.glob("*.tmp"))  # atomic write leaves no temporary file


def test_reset_head_keeps_the_animal_rows(reference):
    model = create_model("MobileNetV1").eval()
    reference.fill.fill_state_dict(model, salt=3)  # real values everywhere: every output row differs
    torch.manual_seed(0)
    x = torch.randn(1, 32000) * 0.1
    with torch.no_grad():
        logits = {}
        model.fc_audioset.register_forward_hook(lambda m, a, out: logits.__setitem__("full", out[0]))
        model(x)
        full = logits["full"][ANIMAL_INDICES]
        cut = model.reset_head(ANIMAL)
        cut.fc_audioset.register_forward_hook(lambda m, a, out: logits.__setitem__("cut", out[0]))
        cut(x)
    assert logits["cut"].shape == (65,) and torch.allclose(full, logits["cut"])
    assert not torch.allclose(full, logits["full"][:65])  # the rows really differ: the wrong slice would fail


def test_wrong_architecture_names_the_problem(official_checkpoint):
    with pytest.raises(CheckpointError, match=r"does not fit ResNet38.*missing weights"):
        load_checkpoint(official_checkpoint("MobileNetV1"), arch="ResNet38")
    with pytest.raises(CheckpointError, match="predicts 527 classes"):
        load_checkpoint(official_checkpoint("MobileNetV1"), classes_num=65)


def test_mismatched_shapes_and_missing_head(tmp_path):
    state = create_model("MobileNetV1").state_dict()
    state["fc1.weight"] = torch.zeros(3, 3)
    torch.save({"model": state}, tmp_path / "MobileNetV1_bad.pth")
    with pytest.raises(CheckpointError, match=r"shape mismatches.*fc1\.weight"):
        load_checkpoint(tmp_path / "MobileNetV1_bad.pth")
    torch.save({"model": {"fc1.weight": torch.zeros(2)}}, tmp_path / "x.pth")
    with pytest.raises(CheckpointError, match="cannot tell the architecture"):
        load_checkpoint(tmp_path / "x.pth")


def test_truncated_empty_and_foreign_files_are_refused(tmp_path, official_checkpoint):
    data = official_checkpoint("MobileNetV1").read_bytes()
    (tmp_path / "MobileNetV1_cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(tmp_path / "MobileNetV1_cut.pth")
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "empty.pth")
    with pytest.raises(CheckpointError, match=r"does not exist|neither a file"):
        load_checkpoint(tmp_path / "nope.pth")


class Payload:  # an arbitrary object: must never be unpickled from a checkpoint
    pass


def test_arbitrary_objects_are_never_unpickled(tmp_path):
    torch.save({"model": create_model("MobileNetV1").state_dict(), "evil": Payload()}, tmp_path / "MobileNetV1_x.pth")
    with pytest.raises(CheckpointError, match="not safe to load"):
        load_checkpoint(tmp_path / "MobileNetV1_x.pth")


# ------------------------------------------------------------------ downloads


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one payload with HTTP Range support; can cut the first response short."""

    payload = b""
    cut_after = None
    requests: typing.ClassVar[list] = []

    def do_GET(self):
        start = 0
        header = self.headers.get("Range")
        type(self).requests.append(header)
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).cut_after is not None:
            body, type(self).cut_after = body[: type(self).cut_after], None
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    RangeHandler.requests = []
    yield httpd
    httpd.shutdown()


def _weights_for(payload: bytes, server, **over):
    url = f"http://127.0.0.1:{server.server_address[1]}/Cnn14_mAP=0.431.pth"
    base = replace(
        get_weights("Cnn14"),
        url=url,
        size=len(payload),
        md5=hashlib.md5(payload).hexdigest(),
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    return replace(base, **over)


def test_interrupted_download_resumes_and_is_verified(tmp_path, server, monkeypatch, official_checkpoint):
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    payload = official_checkpoint("MobileNetV1").read_bytes()
    RangeHandler.payload, RangeHandler.cut_after = payload, len(payload) // 3
    weights = _weights_for(payload, server)
    with pytest.raises(DownloadError, match="truncated"):
        download(weights, cache=tmp_path, progress=False)
    part = tmp_path / "Cnn14_mAP=0.431.pth.part"
    assert part.stat().st_size == len(payload) // 3 and not (tmp_path / weights.filename).exists()
    path = download(weights, cache=tmp_path, progress=False)
    assert RangeHandler.requests[-1] == f"bytes={len(payload) // 3}-"
    assert path.read_bytes() == payload and not part.exists()


def test_checksum_mismatch_is_refused_and_never_loaded(tmp_path, server, monkeypatch):
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    RangeHandler.payload, RangeHandler.cut_after = b"x" * 1000, None
    weights = _weights_for(b"y" * 1000, server)
    with pytest.raises(DownloadError, match="sha256"):
        download(weights, cache=tmp_path, progress=False)
    assert not (tmp_path / weights.filename).exists() and not (tmp_path / (weights.filename + ".part")).exists()
    # a wrong file put in the cache by hand is refused too
    (tmp_path / weights.filename).write_bytes(b"x" * 1000)
    with pytest.raises(DownloadError):
        download(weights, cache=tmp_path, progress=False)


def test_cached_official_name_goes_through_verification(tmp_path, monkeypatch, official_checkpoint):
    """from_pretrained('Cnn14') uses the cache; a file that matches the registry entry loads."""
    path = official_checkpoint("MobileNetV1")
    data = path.read_bytes()
    entry = replace(PRETRAINED["MobileNetV1"], size=len(data), md5=hashlib.md5(data).hexdigest())
    monkeypatch.setitem(PRETRAINED, "MobileNetV1", entry)
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    (tmp_path / entry.filename).write_bytes(data)
    tagger = Tagger.from_pretrained("MobileNetV1")
    assert tagger.arch == "MobileNetV1" and (tmp_path / (entry.filename + ".verified")).exists()
    verify(tmp_path / entry.filename, entry)


def test_offline_error_says_what_is_missing_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    with pytest.raises(WeightsUnavailableError) as err:
        Tagger.from_pretrained("ResNet38")
    message = str(err.value)
    assert "ResNet38_mAP=0.434.pth" in message and str(tmp_path) in message
    assert "python -m panns_core download ResNet38" in message and "zenodo.org" in message


def test_hub_weights_go_through_huggingface_hub(tmp_path, monkeypatch):
    """hf://owner/repo/file is fetched with hf_hub_download (replaced here: no network in tests)."""
    import huggingface_hub

    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    payload = b"weights"
    calls = {}

    def fake_download(repo_id, filename, local_files_only=False):
        calls.update(repo_id=repo_id, filename=filename)
        out = tmp_path / "hub" / filename
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(payload)
        return str(out)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    weights = replace(
        get_weights("Cnn14"),
        url="hf://someone/panns-animals/cnn14_animal.pth",
        size=len(payload),
        md5=hashlib.md5(payload).hexdigest(),
        sha256=None,
    )
    cache = tmp_path / "cache"
    path = download(weights, cache=cache, progress=False)
    assert path == cache / weights.filename and path.read_bytes() == payload  # found at cached_path() later
    assert calls == {"repo_id": "someone/panns-animals", "filename": "cnn14_animal.pth"}
    with pytest.raises(CheckpointError, match="not of the form"):
        hub_file("hf://only-owner")
    # a plain repo id means its model.pth (loading it fails here: the fake file is no checkpoint)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint("someone/panns-animals")
    assert calls == {"repo_id": "someone/panns-animals", "filename": "model.pth"}
    with pytest.raises(CheckpointError, match="nor a Hugging Face repo id"):
        load_checkpoint("no such file.pth")
