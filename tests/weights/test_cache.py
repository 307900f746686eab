"""Downloads as a user sees them: resuming with Range, the progress bar, HTTP failures, time limits, the
offline switch. Small byte payloads served by a local HTTP server: no model is built, so each test takes
milliseconds (mutation testing runs them alone, hundreds of times)."""

import hashlib
import http.server
import threading
import time
import urllib.request
from dataclasses import replace

import pytest
from tqdm import tqdm

from panns_core.errors import DownloadError, WeightsUnavailableError
from panns_core.weights import cache as dl
from panns_core.weights.catalogue import PRETRAINED

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes: "10.0k" on a 1024-based progress bar

# tqdm guards every bar (disabled ones too) with one multiprocessing lock, shared by all processes forked after
# it exists. Mutation testing forks one process per mutant: one that exits holding it (a mutant that makes the
# bar raise mid-refresh) hangs every later run that touches a bar. Set before any bar exists (at collection),
# a thread lock is private to each process.
tqdm.set_lock(threading.RLock())


class Handler(http.server.BaseHTTPRequestHandler):
    """One payload with Range support. `cut_after` cuts the next body short (the connection drops),
    `send_length=False` leaves Content-Length out, `status` answers an error, `stall` waits first."""

    payload = PAYLOAD
    cut_after = None
    send_length = True
    status = None
    stall = 0.0
    requests: list = []
    sent: list = []

    def do_GET(self):
        cls = type(self)
        header = self.headers.get("Range")
        cls.requests.append(header)
        if cls.stall:
            time.sleep(cls.stall)
        if cls.status:
            self.send_error(cls.status)
            return
        start = int(header.split("=")[1].split("-")[0]) if header else 0
        self.send_response(206 if header else 200)
        body = cls.payload[start:]
        if cls.send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cls.cut_after is not None:
            body, cls.cut_after = body[: cls.cut_after], None
        cls.sent.append(len(body))
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (the stalled-server test) leaves a broken pipe: not our concern


@pytest.fixture
def url(monkeypatch):
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    Handler.payload, Handler.cut_after, Handler.send_length, Handler.status, Handler.stall = (
        PAYLOAD,
        None,
        True,
        None,
        0,
    )
    Handler.requests, Handler.sent = [], []
    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/w.pth"
    httpd.shutdown()
    httpd.server_close()


def entry(url, payload=PAYLOAD, **over):
    """A registry entry for `payload` at `url`, with its size and both checksums."""
    base = replace(
        PRETRAINED["Cnn14"],
        url=url,
        filename="w.pth",
        size=len(payload),
        md5=hashlib.md5(payload).hexdigest(),
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    return replace(base, **over)


def bar_text(capsys) -> str:
    """What tqdm drew on stderr, one refresh a line."""
    return capsys.readouterr().err.replace("\r", "\n")


def test_an_interrupted_download_resumes_where_it_stopped(tmp_path, url, capsys):
    weights = entry(url)
    Handler.cut_after = 4000
    with pytest.raises(DownloadError, match="has 4,000 bytes, expected 10,240: truncated"):
        dl.download(weights, cache=tmp_path, progress=False)
    part = tmp_path / "w.pth.part"
    assert part.read_bytes() == PAYLOAD[:4000]  # kept, under its .part name, for the next attempt
    assert not (tmp_path / "w.pth").exists() and not (tmp_path / "w.pth.verified").exists()
    assert bar_text(capsys) == ""  # progress=False draws nothing
    path = dl.download(weights, cache=tmp_path, progress=True)
    assert Handler.requests == [None, "bytes=4000-"] and Handler.sent == [4000, len(PAYLOAD) - 4000]
    assert path == tmp_path / "w.pth" and path.read_bytes() == PAYLOAD and not part.exists()
    assert (tmp_path / "w.pth.verified").read_text() == f"{len(PAYLOAD)} {path.stat().st_mtime_ns}"
    # the bar is named after the file, starts at the bytes already there and ends at the whole size
    lines = [line for line in bar_text(capsys).splitlines() if line.strip()]
    assert lines and all(line.startswith("w.pth:") for line in lines)
    assert "3.91k/10.0k" in lines[0] and "10.0k/10.0k" in lines[-1] and "100%" in lines[-1]


def test_without_content_length_the_bar_counts_bytes_without_a_total(tmp_path, url, capsys):
    Handler.send_length = False
    path = dl.download(entry(url), cache=tmp_path, progress=True)
    assert path.read_bytes() == PAYLOAD
    last = [line for line in bar_text(capsys).splitlines() if line.strip()][-1]
    assert last.startswith("w.pth: 10.0kB ") and "%" not in last  # no total: no percentage


def test_http_errors_are_unavailable_weights_with_the_cause(tmp_path, url):
    Handler.status = 404
    with pytest.raises(WeightsUnavailableError) as err:
        dl.download(entry(url), cache=tmp_path, progress=False)
    assert not isinstance(err.value, DownloadError)  # nothing was fetched: no checksum failed
    assert str(err.value) == (
        "w.pth is not available (download failed: HTTP Error 404: Not Found). Fetch it with `python -m panns_core "
        f"download Cnn14`, or download {url} yourself and put it at {tmp_path / 'w.pth'}."
    )
    assert not (tmp_path / "w.pth").exists() and not (tmp_path / "w.pth.part").exists()


def test_a_stalled_server_is_given_up_after_the_timeout(tmp_path, url, monkeypatch):
    Handler.stall = 1.0
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        dl.http_fetch(url, tmp_path / "w.pth.part", False, "w.pth", timeout=0.2)
    assert time.monotonic() - start < 0.9
    # downloads wait a minute for a silent server before giving up
    timeouts = []
    real = urllib.request.urlopen
    monkeypatch.setattr(urllib.request, "urlopen", lambda req, timeout: timeouts.append(timeout) or real(req))
    Handler.stall = 0
    dl.download(entry(url), cache=tmp_path, progress=False)
    assert timeouts == [60]


def test_the_cache_folder_is_made_with_its_parents(tmp_path, url):
    cache = tmp_path / "a" / "b" / "c"
    path = dl.download(entry(url), cache=cache, progress=False)
    assert path == cache / "w.pth" and path.read_bytes() == PAYLOAD
    # a second entry into the same, now existing, folder
    other = dl.download(entry(url, filename="v.pth"), cache=cache, progress=False)
    assert other.read_bytes() == PAYLOAD and Handler.requests == [None, None]


def test_only_panns_offline_1_means_offline(monkeypatch):
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    assert dl.offline() is False
    for value, expected in (("1", True), ("0", False), ("", False), ("yes", False)):
        monkeypatch.setenv("PANNS_OFFLINE", value)
        assert dl.offline() is expected, value


def test_offline_hub_weights_come_from_the_hub_cache(tmp_path, monkeypatch):
    """PANNS_OFFLINE=1 blocks fetching from the web, but a Hub file already in the Hub's cache is used."""
    import huggingface_hub

    source = tmp_path / "hub" / "w.pth"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    calls = []
    monkeypatch.setattr(
        huggingface_hub,
        "hf_hub_download",
        lambda repo, name, local_files_only: calls.append(local_files_only) or str(source),
    )
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    path = dl.download(entry("hf://me/repo/w.pth"), cache=tmp_path / "cache", progress=False)
    assert path.read_bytes() == PAYLOAD and calls == [True]
    # while a web URL is refused without any attempt
    with pytest.raises(WeightsUnavailableError, match=r"\(PANNS_OFFLINE=1\)"):
        dl.download(entry("http://127.0.0.1:9/w.pth", filename="x.pth"), cache=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / "x.pth.part").exists()


def test_only_the_hf_scheme_names_a_hub_file(monkeypatch):
    """Another scheme of the same length is not read as a Hub path with its first five characters cut off."""
    import huggingface_hub

    from panns_core.errors import CheckpointError

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("asked the Hub"))
    for uri in ("HF://me/repo/w.pth", "s3://me/repo/w.pth", "gs://me/repo/w.pth"):
        with pytest.raises(CheckpointError, match="is not of the form hf://owner/repo/file.pth"):
            dl.hub_file(uri)


def test_downloads_show_progress_unless_told_not_to(tmp_path, url, capsys):
    dl.download(entry(url), cache=tmp_path)
    assert "w.pth: 100%" in bar_text(capsys)


def test_checksums_read_the_file_a_chunk_at_a_time(tmp_path, monkeypatch):
    """A released checkpoint is hundreds of MB: it is hashed in 1 MiB reads, never loaded whole."""
    data = bytes(range(256)) * (3 * 4096 + 7)  # 3 MiB and a bit
    path = tmp_path / "big.pth"
    path.write_bytes(data)
    reads = []

    class Recording:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, n=-1):
            reads.append(n)
            return self.f.read(n)

    monkeypatch.setattr(dl, "open", lambda p, mode: Recording(open(p, mode)), raising=False)
    assert dl.file_digest(path, "sha256") == hashlib.sha256(data).hexdigest()
    assert reads and all(n == dl.CHUNK == 1 << 20 for n in reads) and len(reads) == 5  # 4 reads and the empty one
