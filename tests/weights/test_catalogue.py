"""Weights verification beyond the sha256 case: md5-only releases, changed cached files, servers that
ignore Range, and the messages that tell a user what to do. A local HTTP server stands in for Zenodo."""

import hashlib
import http.server
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from panns_core.errors import DownloadError, WeightsUnavailableError
from panns_core.weights import cache as dl
from panns_core.weights.catalogue import PRETRAINED

PAYLOAD = bytes(range(256)) * 40  # 10 kB, content known


class Handler(http.server.BaseHTTPRequestHandler):
    """One payload; `honour_range=False` plays a server that always sends the whole file (200)."""

    payload = PAYLOAD
    honour_range = True
    requests = []

    def do_GET(self):
        header = self.headers.get("Range")
        type(self).requests.append(header)
        start = int(header.split("=")[1].split("-")[0]) if header and self.honour_range else 0
        if start >= len(self.payload) and header:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if header and self.honour_range else 200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Handler.payload, Handler.honour_range, Handler.requests = PAYLOAD, True, []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.pth"
    httpd.shutdown()


def md5_only(name: str, payload: bytes = PAYLOAD, url: str | None = None):
    """The registry entry `name` (md5 only, no size) with the md5 of our payload."""
    entry = PRETRAINED[name]
    return replace(entry, md5=hashlib.md5(payload).hexdigest(), url=url or entry.url)


@pytest.mark.parametrize("name", ["ResNet38", "Wavegram_Logmel_Cnn14"])
def test_md5_only_releases_are_checked_by_md5(tmp_path, name):
    entry = PRETRAINED[name]
    assert entry.sha256 is None and entry.size is None and len(entry.md5) == 32  # md5 is their only check
    path = tmp_path / entry.filename
    path.write_bytes(PAYLOAD)
    with pytest.raises(DownloadError, match=f"{entry.filename}.*md5.*{entry.md5}"):
        dl.verify(path, entry)  # the real registered md5: our bytes are not the release
    dl.verify(path, md5_only(name))  # the right md5: accepted
    with pytest.raises(DownloadError, match="md5"):
        dl.verify(path, md5_only(name, payload=PAYLOAD[:-1] + b"\x00"))  # one byte differs


def test_md5_only_download_is_verified_and_a_mismatch_refused(tmp_path, server):
    good = md5_only("ResNet38", url=server)
    path = dl.download(good, cache=tmp_path, progress=False)
    assert path == tmp_path / good.filename and path.read_bytes() == PAYLOAD
    assert (tmp_path / (good.filename + ".verified")).read_text() == f"{len(PAYLOAD)} {path.stat().st_mtime_ns}"
    bad = md5_only("Wavegram_Logmel_Cnn14", payload=b"another file", url=server)
    with pytest.raises(DownloadError, match="md5"):
        dl.download(bad, cache=tmp_path, progress=False)
    # no size is published, so a complete file with a wrong checksum is removed rather than resumed
    assert not (tmp_path / bad.filename).exists() and not (tmp_path / (bad.filename + ".part")).exists()


def test_a_cached_file_is_hashed_once_and_again_when_it_changes(tmp_path, monkeypatch):
    entry = md5_only("ResNet38")
    path = tmp_path / entry.filename
    path.write_bytes(PAYLOAD)  # placed by hand
    hashed = []
    real_digest = dl.file_digest
    monkeypatch.setattr(dl, "file_digest", lambda p, a: hashed.append(a) or real_digest(p, a))
    assert dl.download(entry, cache=tmp_path, progress=False) == path
    assert hashed == ["md5"]
    assert dl.download(entry, cache=tmp_path, progress=False) == path
    assert hashed == ["md5"]  # the stamp matches: hundreds of MB are not hashed on every load
    # the same size, another content, a later mtime (e.g. a copy interrupted and redone by hand)
    path.write_bytes(PAYLOAD[::-1])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(DownloadError, match="md5"):
        dl.download(entry, cache=tmp_path, progress=False)
    assert hashed == ["md5", "md5"]
    # a changed size is caught even if the mtime is put back
    old_mtime = path.stat().st_mtime_ns
    path.write_bytes(PAYLOAD + b"!")
    os.utime(path, ns=(old_mtime, old_mtime))
    with pytest.raises(DownloadError, match="md5"):
        dl.download(entry, cache=tmp_path, progress=False)
    # and a good file again is accepted and stamped anew
    path.write_bytes(PAYLOAD)
    assert dl.download(entry, cache=tmp_path, progress=False) == path
    assert (tmp_path / (entry.filename + ".verified")).read_text() == dl._fingerprint(path)


def test_size_is_checked_before_hashing(tmp_path, monkeypatch):
    entry = replace(md5_only("MobileNetV1"), size=len(PAYLOAD) + 1)
    path = tmp_path / entry.filename
    path.write_bytes(PAYLOAD)
    monkeypatch.setattr(dl, "file_digest", lambda p, a: pytest.fail("hashed a file of the wrong size"))
    with pytest.raises(DownloadError, match=f"has {len(PAYLOAD):,} bytes, expected {len(PAYLOAD) + 1:,}"):
        dl.verify(path, entry)


def test_both_checksums_are_checked(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(PAYLOAD)
    good = replace(
        PRETRAINED["Cnn14"],
        size=len(PAYLOAD),
        md5=hashlib.md5(PAYLOAD).hexdigest(),
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
    )
    dl.verify(path, good)
    with pytest.raises(DownloadError, match="md5"):
        dl.verify(path, replace(good, md5="0" * 32))
    with pytest.raises(DownloadError, match="sha256"):
        dl.verify(path, replace(good, sha256="0" * 64))
    assert dl.file_digest(path, "sha256") == hashlib.sha256(PAYLOAD).hexdigest()


def test_a_server_that_ignores_range_restarts_the_file(tmp_path, server):
    entry = replace(md5_only("ResNet38", url=server), size=len(PAYLOAD))
    part = tmp_path / (entry.filename + ".part")
    part.write_bytes(b"stale bytes from another attempt")
    Handler.honour_range = False
    path = dl.download(entry, cache=tmp_path, progress=False)
    assert Handler.requests == [f"bytes={len(b'stale bytes from another attempt')}-"]
    assert path.read_bytes() == PAYLOAD and not part.exists()


def test_a_complete_part_file_is_finished_without_refetching(tmp_path, server):
    entry = replace(md5_only("ResNet38", url=server), size=len(PAYLOAD))
    (tmp_path / (entry.filename + ".part")).write_bytes(PAYLOAD)
    path = dl.download(entry, cache=tmp_path, progress=False)  # the server answers 416: nothing left
    assert Handler.requests == [f"bytes={len(PAYLOAD)}-"] and path.read_bytes() == PAYLOAD


def test_a_truncated_part_with_a_known_size_is_kept_for_resuming(tmp_path, server):
    entry = replace(md5_only("ResNet38", url=server), size=len(PAYLOAD) * 2)
    with pytest.raises(DownloadError, match="truncated"):
        dl.download(entry, cache=tmp_path, progress=False)
    assert (tmp_path / (entry.filename + ".part")).read_bytes() == PAYLOAD


def test_offline_and_unreachable_say_what_to_do(tmp_path, monkeypatch):
    entry = PRETRAINED["ResNet38"]
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    with pytest.raises(WeightsUnavailableError) as err:
        dl.download(entry, cache=tmp_path, progress=False)
    target = tmp_path / entry.filename
    assert str(err.value) == (
        f"{entry.filename} is not available (PANNS_OFFLINE=1). Fetch it with "
        f"`python -m panns_core download ResNet38`, or download {entry.url} yourself "
        f"and put it at {target}."
    )
    assert not tmp_path.joinpath(entry.filename + ".part").exists()
    monkeypatch.delenv("PANNS_OFFLINE")
    unreachable = replace(entry, url="http://127.0.0.1:9/nothing.pth")  # the discard port: refused
    with pytest.raises(WeightsUnavailableError, match=r"\(download failed: .*\)\. Fetch it with"):
        dl.download(unreachable, cache=tmp_path / "sub", progress=False)
    assert (tmp_path / "sub").is_dir()  # the cache folder is made on demand


def test_cache_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path / "c"))
    assert dl.cache_dir() == tmp_path / "c"
    assert dl.cached_path(PRETRAINED["Cnn14"]) == tmp_path / "c" / "Cnn14_mAP=0.431.pth"
    assert dl.cached_path(PRETRAINED["Cnn14"], cache=tmp_path) == tmp_path / "Cnn14_mAP=0.431.pth"
    monkeypatch.delenv("PANNS_CACHE_DIR")
    assert dl.cache_dir() == Path.home() / ".cache" / "panns_core"


def test_hub_files_are_verified_before_they_are_placed(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    source = tmp_path / "hub" / "w.pth"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name, local_files_only=False: str(source))
    entry = replace(md5_only("ResNet38"), url="hf://me/repo/w.pth")
    bad = replace(entry, md5="0" * 32)
    with pytest.raises(DownloadError, match="md5"):
        dl.download(bad, cache=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / entry.filename).exists()
    path = dl.download(entry, cache=tmp_path / "cache", progress=False)
    assert path.read_bytes() == PAYLOAD and os.path.samefile(path, source)  # a hard link, not a second copy
    assert (tmp_path / "cache" / (entry.filename + ".verified")).read_text() == dl._fingerprint(path)
    monkeypatch.setattr(os, "link", lambda a, b: (_ for _ in ()).throw(OSError("cross-device")))
    copy = dl.download(replace(entry, filename="copy.pth"), cache=tmp_path / "cache", progress=False)
    assert copy.read_bytes() == PAYLOAD and not os.path.samefile(copy, source)
    # hub errors of any kind mean "not available", with the cause kept
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: (_ for _ in ()).throw(ValueError("404")))
    with pytest.raises(WeightsUnavailableError, match="cannot fetch hf://me/repo/w.pth: 404"):
        dl.hub_file("hf://me/repo/w.pth")


def test_hub_uris_offline_flag_and_message_without_reason(tmp_path, monkeypatch):
    """Survivors of mutation testing: nested hub paths, non-hub strings, the offline switch, a bare message."""
    import huggingface_hub

    calls = []
    monkeypatch.setattr(
        huggingface_hub,
        "hf_hub_download",
        lambda repo, name, local_files_only=None: calls.append((repo, name, local_files_only)) or str(tmp_path),
    )
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    dl.hub_file("hf://me/repo/sub/dir/w.pth")
    dl.hub_file("hf://me/repo/w.pth", local_only=True)
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    dl.hub_file("hf://me/repo/w.pth")
    assert calls == [("me/repo", "sub/dir/w.pth", False), ("me/repo", "w.pth", True), ("me/repo", "w.pth", True)]
    from panns_core.errors import CheckpointError

    for bad in ("me/repo/w.pth", "hf://me//w.pth", "hf://me/repo"):
        with pytest.raises(CheckpointError, match="is not of the form hf://owner/repo/file.pth"):
            dl.hub_file(bad)
    entry = PRETRAINED["ResNet38"]
    assert dl.missing_message(entry, tmp_path) == (
        f"{entry.filename} is not available. Fetch it with `python -m panns_core download ResNet38`, "
        f"or download {entry.url} yourself and put it at {tmp_path / entry.filename}."
    )
