"""The decoding layer on its own: sample-rate and PCM rules, block sizes, both decoders' blocks, and the exact
messages for damaged files. Short files written in-process; no model is loaded."""

import re
import struct

import av
import numpy as np
import pytest
import soundfile as sf
from encoded_audio import encode, tone

from panns_core.audio import decode
from panns_core.errors import AudioError

HINT = "re-encode it, e.g. `ffmpeg -i INPUT -ar 32000 OUTPUT.wav`"


def strength_at(x: np.ndarray, hz: float, rate: int) -> float:
    """Spectral magnitude at `hz` relative to the strongest component."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return spectrum[round(hz * len(x) / rate)] / spectrum.max()


def all_blocks(source) -> list:
    return list(source.blocks())


# ------------------------------------------------------------------------------------------ pure rules
@pytest.mark.parametrize(
    "rate, expected",
    [(1000, 1000), (2_000_000, 2_000_000), (44100.0, 44100), (np.int64(8000), 8000), (np.float32(16000.0), 16000)],
)
def test_whole_rates_in_range_are_accepted_as_int(rate, expected):
    got = decode.check_rate(rate, "x.wav")
    assert got == expected and type(got) is int


@pytest.mark.parametrize("rate", [999, 2_000_001, 0, -8000, 44100.5, float("inf"), float("nan"), True, "44100", None])
def test_other_rates_are_refused_naming_the_source(rate):
    with pytest.raises(AudioError) as err:
        decode.check_rate(rate, "x.wav")
    assert str(err.value) == (
        f"x.wav: the sample rate must be a whole number of Hz between 1000 and 2000000, got {rate!r}"
    )


def test_integer_pcm_maps_onto_minus_one_to_one():
    np.testing.assert_array_equal(
        decode.pcm_to_float(np.array([-32768, 0, 16384, 32767], np.int16), "w"),
        np.array([-1.0, 0.0, 0.5, 32767 / 32768], np.float32),
    )
    # unsigned 8-bit PCM is centred on 128
    np.testing.assert_array_equal(
        decode.pcm_to_float(np.array([0, 64, 128, 255], np.uint8), "w"), np.array([-1, -0.5, 0, 127 / 128], np.float32)
    )
    out = decode.pcm_to_float(np.array([-(2**31), 2**30], np.int32), "w")
    assert out.dtype == np.float32 and out.tolist() == [-1.0, 0.5]


def test_float_pcm_stays_float32_without_a_copy():
    x = np.array([0.25, -2.0], np.float32)
    out = decode.pcm_to_float(x, "w")
    assert out.dtype == np.float32 and np.shares_memory(out, x)  # a block is never held twice
    wide = decode.pcm_to_float(np.array([0.25, -2.0]), "w")
    assert wide.dtype == np.float32 and wide.tolist() == [0.25, -2.0]  # float64 narrowed, values kept (no clipping)


@pytest.mark.parametrize("dtype", [bool, np.complex64])
def test_other_sample_types_are_refused(dtype):
    with pytest.raises(AudioError, match=rf"^frame 3 has dtype {np.dtype(dtype)}; expected float or integer PCM"):
        decode.pcm_to_float(np.zeros(4, dtype), "frame 3")


def test_blocks_are_thirty_seconds_but_bounded_in_samples():
    assert decode.block_frames(32000, 1) == 32000 * 30
    assert decode.block_frames(32000, 2) == 32000 * 30  # 1.92 M samples over both channels: under 2**21
    assert decode.block_frames(48000, 2) == 2**20  # 30 s would be 2.88 M samples: capped
    assert decode.block_frames(48000, 3) == 2**21 // 3 and type(decode.block_frames(48000, 3)) is int
    assert decode.block_frames(2_000_000, 1) == 2**21
    assert decode.block_frames(8000, 0) == 8000 * 30  # no channel count: treated as one
    assert decode.block_frames(8000, 2**22) == 1  # absurdly many channels: still one frame per block


# ------------------------------------------------------------------------------------------ files
def test_missing_folders_and_tiny_files(tmp_path):
    with pytest.raises(AudioError, match=rf"^{re.escape(str(tmp_path / 'no.wav'))} does not exist$"):
        decode.open_audio(tmp_path / "no.wav")
    with pytest.raises(AudioError, match=rf"^{re.escape(str(tmp_path))} is a folder, not an audio file$"):
        decode.open_audio(tmp_path)
    (tmp_path / "none.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"^none\.wav is empty \(0 bytes\): record or export it again$"):
        decode.open_audio(tmp_path / "none.wav")
    (tmp_path / "one.wav").write_bytes(b"R")  # one byte is not empty: it is not audio
    with pytest.raises(AudioError, match=r"^one\.wav is not a decodable audio file \("):
        decode.open_audio(tmp_path / "one.wav")


def test_soundfile_blocks_are_two_dimensional_and_cut_by_time(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "BLOCK_SECONDS", 1)
    wave = (np.arange(20000) % 200 - 100).astype(np.int16) * 300
    path = tmp_path / "ramp.wav"
    sf.write(path, wave, 8000, subtype="PCM_16")
    source = decode.open_audio(path)
    assert (source.name, source.decoder, source.sample_rate, source.channels) == ("ramp.wav", "soundfile", 8000, 1)
    assert source.declared_seconds == 2.5
    blocks = all_blocks(source)
    assert [b.shape for b in blocks] == [(8000, 1), (8000, 1), (4000, 1)]
    assert all(b.dtype == np.float32 for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks)[:, 0], wave / np.float32(32768))


def test_an_mp3_length_is_not_trusted(tmp_path):
    source = decode.open_audio(encode(tmp_path / "t.mp3", tone(1, 44100), 44100))
    assert source.decoder == "soundfile" and source.declared_seconds is None
    flac = decode.open_audio(encode(tmp_path / "t.flac", tone(1, 44100), 44100))
    assert flac.decoder == "soundfile" and flac.declared_seconds == 1.0


def test_a_read_error_names_the_time_reached(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "BLOCK_SECONDS", 1)
    path = encode(tmp_path / "whole.flac", tone(6, 48000), 48000)
    data = bytearray(path.read_bytes())
    at = len(data) * 2 // 3
    data[at : at + 3000] = np.random.RandomState(0).randint(0, 256, 3000).astype(np.uint8).tobytes()
    cut = tmp_path / "damaged.flac"
    cut.write_bytes(bytes(data))
    source = decode.open_audio(cut)
    assert source.decoder == "soundfile"
    decoded = []
    with pytest.raises(AudioError) as err:
        for block in source.blocks():
            decoded.append(len(block))
    seconds = sum(decoded) / 48000
    assert 2 <= seconds < 5  # the damage is two thirds in: whole blocks before it were delivered
    assert str(err.value) == (
        f"damaged.flac is corrupt: decoding stopped after {seconds:.2f} s (Error : flac decoder lost sync.); "
        f"{HINT} or cut the damaged end off"
    )


# ------------------------------------------------------------------------------------------ PyAV
def test_pyav_keeps_the_channels_apart(tmp_path):
    path = encode(tmp_path / "t.m4a", tone(2, 48000, channels=2, freq=1000), 48000, bit_rate=192000)
    source = decode.open_audio(path)
    assert (source.name, source.decoder, source.sample_rate, source.channels) == ("t.m4a", "pyav", 48000, 2)
    assert source.declared_seconds == pytest.approx(2.0, abs=0.05)
    x = np.concatenate(all_blocks(source))
    assert x.shape[1] == 2 and 1.99 * 48000 < len(x) < 2.1 * 48000 and x.dtype == np.float32
    middle = x[4800 : 4800 + 48000]
    assert strength_at(middle[:, 0], 1000, 48000) > 0.9 and strength_at(middle[:, 0], 1100, 48000) < 0.05
    assert strength_at(middle[:, 1], 1100, 48000) > 0.9 and strength_at(middle[:, 1], 1000, 48000) < 0.05


def test_pyav_reads_interleaved_integer_pcm_exactly(tmp_path):
    """PCM in Matroska: libsndfile refuses the container, FFmpeg gives packed s16 frames."""
    left = (np.arange(4000) % 100 * 300 - 15000).astype(np.int16)
    right = (-left).astype(np.int16)
    path = tmp_path / "pcm.mka"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("pcm_s16le", rate=8000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.stack([left, right], 1).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 8000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    source = decode.open_audio(path)
    assert (source.decoder, source.sample_rate, source.channels) == ("pyav", 8000, 2)
    x = np.concatenate(all_blocks(source))
    np.testing.assert_array_equal(x, np.stack([left, right], 1) / np.float32(32768))


def check_blocks(blocks, frames, size):
    """Each block is whole decoded frames, in order; every block but the last holds at least `size`
    samples and is handed over as soon as it does (one frame fewer would not be enough)."""
    assert sum(map(len, blocks)) == sum(frames)
    start = 0
    for i, block in enumerate(blocks):
        count = next(k for k in range(1, len(frames) - start + 1) if sum(frames[start : start + k]) == len(block))
        if i < len(blocks) - 1:
            assert len(block) >= size and len(block) - frames[start + count - 1] < size, (i, size, frames)
        start += count
    assert start == len(frames)


def test_pyav_blocks_close_as_soon_as_they_are_full(tmp_path, monkeypatch):
    frames = []
    original = decode._frame_samples
    monkeypatch.setattr(decode, "_frame_samples", lambda f, c, w: frames.append(len(r := original(f, c, w))) or r)
    path = encode(tmp_path / "t.webm", tone(1, 48000), 48000)
    all_blocks(decode.open_audio(path))
    first, step = frames[0], frames[1]
    assert set(frames[1:-1]) == {step}  # Opus: one shorter first frame, then fixed-size frames
    # block sizes just above, at and just below whole frames, where an off-by-one in the count shows
    for size in (first + 2 * step + 1, 3 * step + 1, 3 * step, 3 * step - 1):
        frames.clear()
        monkeypatch.setattr(decode, "block_frames", lambda rate, channels, size=size: size)
        blocks = all_blocks(decode.open_audio(path))
        assert len(blocks) > 5
        check_blocks(blocks, frames, size)


def test_soundfile_time_reached_is_exact(tmp_path, monkeypatch):
    """The time in the message counts the samples delivered: with blocks of 161999 samples at 48 kHz the
    damage shows after 3.374979 s, printed 3.37 (one sample more would print 3.38)."""
    monkeypatch.setattr(decode, "block_frames", lambda rate, channels: 161999)
    path = encode(tmp_path / "whole.flac", tone(6, 48000), 48000)
    data = bytearray(path.read_bytes())
    at = len(data) * 2 // 3
    data[at : at + 3000] = np.random.RandomState(0).randint(0, 256, 3000).astype(np.uint8).tobytes()
    (tmp_path / "damaged.flac").write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"^damaged\.flac is corrupt: decoding stopped after 3\.37 s "):
        all_blocks(decode.open_audio(tmp_path / "damaged.flac"))


def adts(path, wave, rate):
    """Raw AAC (ADTS): streams written one after the other still make one playable file."""
    return encode(path, wave, rate).read_bytes()


def test_a_stream_that_changes_rate_or_channels_is_refused(tmp_path):
    mono = adts(tmp_path / "a.aac", tone(1, 48000), 48000)
    first = sum(len(b) for b in decode.open_audio(tmp_path / "a.aac").blocks())
    (tmp_path / "stereo.aac").write_bytes(mono + adts(tmp_path / "b.aac", tone(1, 48000, channels=2), 48000))
    (tmp_path / "slower.aac").write_bytes(mono + adts(tmp_path / "c.aac", tone(1, 24000), 24000))
    source = decode.open_audio(tmp_path / "stereo.aac")
    assert (source.decoder, source.channels, source.declared_seconds) == ("pyav", 1, None)  # ADTS: length unknown
    with pytest.raises(AudioError) as err:
        all_blocks(source)
    assert str(err.value) == (
        f"stereo.aac changes from 48000 Hz x 1 channels to 48000 Hz x 2 at {first / 48000:.2f} s: {HINT}"
    )
    with pytest.raises(AudioError) as err:
        all_blocks(decode.open_audio(tmp_path / "slower.aac"))
    assert str(err.value) == (
        f"slower.aac changes from 48000 Hz x 1 channels to 24000 Hz x 1 at {first / 48000:.2f} s: {HINT}"
    )


def test_a_decoding_error_names_the_time_reached(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "BLOCK_SECONDS", 1)
    path = encode(tmp_path / "whole.m4a", tone(3, 48000), 48000)
    data = bytearray(path.read_bytes())
    at = len(data) // 3
    data[at : at + 2000] = np.random.RandomState(0).randint(0, 256, 2000).astype(np.uint8).tobytes()
    (tmp_path / "damaged.m4a").write_bytes(bytes(data))
    frames = []
    original = decode._frame_samples
    monkeypatch.setattr(decode, "_frame_samples", lambda f, c, w: frames.append(len(r := original(f, c, w))) or r)
    with pytest.raises(AudioError) as err:
        all_blocks(decode.open_audio(tmp_path / "damaged.m4a"))
    assert 0 < sum(frames) < 3 * 48000
    assert str(err.value) == (
        f"damaged.m4a is corrupt: decoding stopped after {sum(frames) / 48000:.2f} s "
        f"(Invalid data found when processing input); {HINT} or cut the damaged end off"
    )


def test_metadata_that_is_not_utf8_does_not_stop_decoding(tmp_path):
    wave = tone(1, 48000)
    path = tmp_path / "latin1.webm"
    with av.open(str(path), "w", format="webm") as out:
        out.metadata["title"] = "TITLE-MARKER"
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        for start in range(0, len(wave), 960):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[start : start + 960].T), "fltp", "mono")
            frame.sample_rate = 48000
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = path.read_bytes()
    at = data.index(b"TITLE-MARKER")
    path.write_bytes(data[:at] + b"\xe9t\xe9" + data[at + 3 :])  # "été" in Latin-1
    with pytest.raises(UnicodeDecodeError):
        av.open(str(path)).close()  # FFmpeg's strict default would refuse the whole file
    x = np.concatenate(all_blocks(decode.open_audio(path)))
    assert 0.99 * 48000 < len(x) < 1.05 * 48000 and strength_at(x[4800:43200, 0], 440, 48000) > 0.9


def test_declared_lengths_come_from_the_header(tmp_path):
    path = encode(tmp_path / "t.webm", tone(3, 48000), 48000)
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89")  # Matroska 'Duration' (ms), as in test_core_audio
    size = data[at + 2] & 0x7F
    data[at + 3 : at + 3 + size] = struct.pack(">f" if size == 4 else ">d", 1500.0)
    path.write_bytes(bytes(data))
    assert decode.open_audio(path).declared_seconds == 1.5  # whatever the stream holds
    m4a = decode.open_audio(encode(tmp_path / "t.m4a", tone(3, 48000), 48000))
    assert m4a.declared_seconds == pytest.approx(3.0, abs=0.05)


# ------------------------------------------------------------------------------------------ messages
def riff(order: str, form: bytes, *chunks: bytes) -> bytes:
    body = form + b"".join(chunks)
    return (b"RIFF" if order == "<" else b"RIFX") + struct.pack(order + "I", len(body)) + body


def fmt_chunk(order: str, rate: int) -> bytes:
    return b"fmt " + struct.pack(order + "I", 16) + struct.pack(order + "HHIIHH", 1, 1, rate, rate * 2 % 2**32, 2, 16)


GIANT = b"JUNK" + struct.pack("<I", 2**32 - 32)  # read as a signed size, -32 would jump back into the chunk before


def declares(name: str, rate: int) -> str:
    return (
        f"{name} is a WAV file whose header declares a sample rate of {rate} Hz, which no recording has: "
        f"the header is damaged; {HINT} from the original"
    )


def undecodable(name: str) -> str:
    return (
        f"{name} is not a decodable audio file (Invalid data found when processing input): "
        "give a WAV, FLAC, OGG, MP3, M4A or WebM recording"
    )


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("zero.wav", riff("<", b"WAVE", fmt_chunk("<", 0)), declares("zero.wav", 0)),
        ("low.wav", riff("<", b"WAVE", fmt_chunk("<", 999)), declares("low.wav", 999)),
        ("high.wav", riff("<", b"WAVE", fmt_chunk("<", 2_000_001)), declares("high.wav", 2_000_001)),
        ("bigendian.wav", riff(">", b"WAVE", fmt_chunk(">", 999)), declares("bigendian.wav", 999)),
        ("huge.wav", riff("<", b"WAVE", fmt_chunk("<", 4_000_000_000)), declares("huge.wav", 4_000_000_000)),
        # no 'fmt ' chunk at all
        ("nofmt.wav", riff("<", b"WAVE", b"data" + struct.pack("<I", 4) + b"\0" * 4), undecodable("nofmt.wav")),
        # a chunk claiming nearly 4 GiB: nothing after it is reached, and nothing before it is looked at again
        (
            "giant.wav",
            riff("<", b"WAVE", b"JUNK" + struct.pack("<I", 24) + fmt_chunk("<", 0), GIANT),
            undecodable("giant.wav"),
        ),
        # only the first 4 KiB are looked at
        (
            "far.wav",
            riff("<", b"WAVE", b"JUNK" + struct.pack("<I", 8192) + bytes(8192), fmt_chunk("<", 0)),
            undecodable("far.wav"),
        ),
        # an odd-sized chunk is padded to an even length before the next one
        ("list.wav", riff("<", b"WAVE", b"LIST" + struct.pack("<I", 3) + b"abc\0", fmt_chunk("<", 0)), None),
        # plausible rates in a header neither decoder accepts: the file is just not decodable
        ("lowest.wav", riff("<", b"WAVE", fmt_chunk("<", 1000)), undecodable("lowest.wav")),
        ("highest.wav", riff("<", b"WAVE", fmt_chunk("<", 2_000_000)), undecodable("highest.wav")),
        # not a WAVE form, or a 'fmt ' chunk cut before its rate: nothing to say about a rate
        ("form.wav", riff("<", b"WAVX", fmt_chunk("<", 0)), undecodable("form.wav")),
        ("cut.wav", riff("<", b"WAVE", fmt_chunk("<", 0))[:27], undecodable("cut.wav")),
        ("text.wav", b"just some words, no audio at all\n" * 3, undecodable("text.wav")),
    ],
)
def test_undecodable_files_and_damaged_wav_headers(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(AudioError) as err:
        decode.open_audio(tmp_path / name)
    assert str(err.value) == (message or declares(name, 0))


def test_a_rate_at_the_end_of_a_short_header_is_read(tmp_path):
    """A file that ends right after the 'fmt ' chunk's rate field still tells its rate."""
    data = riff("<", b"WAVE", fmt_chunk("<", 0))[:28]
    (tmp_path / "short.wav").write_bytes(data)
    with pytest.raises(AudioError, match=re.escape(declares("short.wav", 0))):
        decode.open_audio(tmp_path / "short.wav")


def test_a_wav_whose_header_counts_no_samples_is_read_to_its_end(tmp_path):
    """A recorder stopped before finishing the header leaves a data size of 0: libsndfile sees no samples."""
    path = tmp_path / "unfinished.wav"
    sf.write(path, tone(1, 8000)[:, 0], 8000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 0)
    path.write_bytes(bytes(data))
    assert sf.info(str(path)).frames == 0
    source = decode.open_audio(path)
    assert source.decoder == "pyav" and sum(len(b) for b in source.blocks()) == 8000
    # while a header counting one sample is trusted: libsndfile reads that one sample
    data[at + 4 : at + 8] = struct.pack("<I", 2)
    path.write_bytes(bytes(data))
    source = decode.open_audio(path)
    assert source.decoder == "soundfile" and [b.shape for b in source.blocks()] == [(1, 1)]


def test_streamed_flac_goes_to_pyav_without_a_length(tmp_path):
    source = decode.open_audio(encode(tmp_path / "piped.flac", tone(1, 44100), 44100, streamed=True))
    assert (source.decoder, source.declared_seconds) == ("pyav", None)


def test_implausible_rates_name_the_file_in_both_decoders(tmp_path):
    path = tmp_path / "r999.wav"
    sf.write(path, np.zeros(100, np.float32), 1000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[24:32] = struct.pack("<II", 999, 1998)
    path.write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"^r999\.wav: the sample rate must be .* got 999$"):
        decode.open_audio(path)  # libsndfile opens it
    low = tmp_path / "low.mka"  # libsndfile refuses Matroska: PyAV opens it
    with av.open(str(low), "w", format="matroska") as out:
        stream = out.add_stream("pcm_s16le", rate=500, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 500), np.int16), format="s16", layout="mono")
        frame.sample_rate = 500
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(AudioError, match=r"^low\.mka: the sample rate must be .* got 500$"):
        decode.open_audio(low)


def test_the_audio_of_a_video_is_decoded(tmp_path):
    """A phone video: a picture stream beside the sound. Only the sound is decoded."""
    path = tmp_path / "clip.webm"
    wave = tone(1, 48000)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libvpx", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream("libopus", rate=48000, layout="mono")
        for i in range(10):
            picture = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 20, np.uint8), format="rgb24")
            out.mux(video.encode(picture))
        for start in range(0, len(wave), 960):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[start : start + 960].T), "fltp", "mono")
            frame.sample_rate = 48000
            out.mux(audio.encode(frame))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    source = decode.open_audio(path)
    x = np.concatenate(list(source.blocks()))
    assert source.channels == 1 and 0.99 * 48000 < len(x) < 1.05 * 48000
    assert strength_at(x[4800:43200, 0], 440, 48000) > 0.9


def test_pyav_time_reached_is_exact(tmp_path):
    """92 AAC frames at 11025 Hz are 8.544943 s, printed 8.54 (one sample more would print 8.55)."""
    first = adts(tmp_path / "a.aac", tone(91 * 1024 / 11025, 11025), 11025)
    assert sum(len(b) for b in decode.open_audio(tmp_path / "a.aac").blocks()) == 92 * 1024  # + the priming frame
    second = adts(tmp_path / "b.aac", tone(0.5, 11025, channels=2), 11025)
    (tmp_path / "both.aac").write_bytes(first + second)
    with pytest.raises(AudioError, match=r"^both\.aac changes from 11025 Hz x 1 channels to 11025 Hz x 2 at 8\.54 s"):
        all_blocks(decode.open_audio(tmp_path / "both.aac"))
