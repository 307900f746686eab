"""Property-based robustness: whatever the input, a result with finite scores or a PannsError, nothing else.

Hypothesis draws waveforms (lengths, rates, channel counts, layouts, dtypes, amplitudes, NaN/inf positions)
and damaged files (truncated at any offset, header bytes flipped, bytes flipped anywhere) in every format
we decode. Each example must also stay within a memory bound. Examples are derandomised (the same ones
every run, no example database written) and capped so the module runs in well under a minute.
"""

import resource
import tracemalloc

import numpy as np
import pytest
from encoded_audio import FORMATS, encode, tone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panns_core import AudioError, PannsError, Tagger
from panns_core.audio.decode import MIN_SAMPLE_RATE

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MEMORY_BOUND = 64 * 2**20  # bytes of Python/numpy memory one example may peak at (the clips are at most 1.5 s)


@pytest.fixture(scope="module")
def tagger(official_checkpoint):
    return Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")))


@pytest.fixture(scope="module", autouse=True)
def process_memory_stays_bounded(tagger, recordings, tmp_path_factory):
    """Across the whole module the process's peak resident memory grows by less than 200 MB.

    Measured after a warm-up (the largest waveform drawn, one file of each format) so that loading torch's
    kernels and FFmpeg's codecs is not counted, only what examples allocate beyond it.
    """
    tagger.predict(np.zeros((int(1.5 * 96000), 3), np.float64), 96000)
    for name, data in recordings.items():
        path = tmp_path_factory.mktemp("warmup") / (name if "." in name else f"clip.{name}")
        path.write_bytes(data)
        tagger.predict_file(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    yield
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown < 200, f"peak RSS grew by {grown:.0f} MB"


def outcome(call):
    """Run `call` under tracemalloc: ("ok", result) or ("error", PannsError); anything else propagates."""
    tracemalloc.start()
    try:
        return "ok", call()
    except PannsError as e:
        return "error", e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MB"


def assert_finite(result):
    assert np.isfinite(result.scores).all() and np.isfinite(result.embedding).all()
    assert np.isfinite(result.timeline).all() and ((0 <= result.scores) & (result.scores <= 1)).all()


# ------------------------------------------------------------------------------------------ waveforms
GOOD_RATES = [8000, 16000, 22050, 32000, 44100, 48000, 96000]
BAD_RATES = [0, 1, 999, 44100.5, 4e9, -16000, float("nan"), float("inf")]


@st.composite
def waveforms(draw):
    rate = draw(st.sampled_from(GOOD_RATES * 3 + BAD_RATES))  # mostly valid: the model must see most examples
    channels = draw(st.integers(1, 3))
    seconds = draw(st.sampled_from([0.0, 0.01, 0.3, 1.0, 1.5]))
    length = int(seconds * (rate if rate in GOOD_RATES else 16000))
    length = length if length == 0 else max(length, channels + 1)  # longer than wide: the layout is unambiguous
    amplitude = draw(st.sampled_from([0.0, 1e-6, 0.5, 1.0, 1e3, 1e18, 1e30, 3e38]))
    dtype = draw(st.sampled_from(["float32", "float64", "int16"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    wave = rng.uniform(-1, 1, (length, channels)) * amplitude
    poison = None
    if dtype != "int16" and length and draw(st.integers(0, 3)) == 0:
        poison = (
            draw(st.integers(0, length - 1)),
            draw(st.integers(0, channels - 1)),
            draw(st.sampled_from([np.nan, np.inf, -np.inf])),
        )
        wave[poison[0], poison[1]] = poison[2]
    if dtype == "int16":
        wave = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
    else:
        with np.errstate(over="ignore"):
            wave = wave.astype(dtype)
    if channels == 1 and draw(st.booleans()):
        wave = wave[:, 0]
    elif draw(st.booleans()):
        wave = wave.T  # (channels, samples)
    return wave, rate, amplitude, poison


@settings(PROPERTY_SETTINGS, max_examples=60)  # cheap examples: more of them, to meet every amplitude
@given(case=waveforms())
def test_any_waveform_gives_finite_scores_or_a_package_error(tagger, case):
    wave, rate, amplitude, poison = case
    kind, value = outcome(lambda: tagger.predict(wave, rate))
    if rate not in GOOD_RATES:
        assert kind == "error" and "sample rate" in str(value)
    elif wave.size == 0:
        assert kind == "error" and "empty" in str(value)
    elif poison is not None:
        frame, _, bad = poison
        assert kind == "error", "a NaN/inf sample was scored"
        # the first bad sample is the poison or an overflow to inf before it (float32 cannot hold 3e38 * 1.0...)
        if amplitude < 1e30:
            assert f"the first at {frame / rate:.2f} s" in str(value)
            assert ("NaN" if np.isnan(bad) else "infinite") in str(value)
    elif kind == "ok":
        assert_finite(value)
        assert value.duration == pytest.approx(max(wave.shape) / rate, abs=1 / rate + 1 / 32000)
    else:
        assert amplitude > 1, f"ordinary audio refused: {value}"
        assert "waveform 0" in str(value)


# ------------------------------------------------------------------------------------------ damaged files
@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """One short stereo recording per format (and a float WAV, whose damage can make NaN samples)."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("recordings")
    made = {
        suffix: encode(folder / f"clip.{suffix}", tone(1, 48000, channels=2), 48000).read_bytes() for suffix in FORMATS
    }
    sf.write(folder / "float.wav", tone(1, 22050, channels=2), 22050, subtype="FLOAT")
    made["float.wav"] = (folder / "float.wav").read_bytes()
    return made


DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("flip header"), st.lists(st.tuples(st.integers(0, 255), st.integers(1, 255)), min_size=1, max_size=4)
    ),
    st.tuples(
        st.just("flip anywhere"),
        st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=8),
    ),
)


def damage(data: bytes, how) -> bytes:
    kind, detail = how
    data = bytearray(data)
    if kind == "truncate":
        return bytes(data[: int(detail * len(data))])
    for where, mask in detail:
        at = where if kind == "flip header" else int(where * len(data))
        if at < len(data):
            data[at] ^= mask
    return bytes(data)


@PROPERTY_SETTINGS
@given(name=st.sampled_from([*sorted(FORMATS), "float.wav"]), how=DAMAGE)
def test_any_damaged_file_gives_finite_scores_or_a_package_error(tagger, recordings, tmp_path_factory, name, how):
    suffix = name.rsplit(".", 1)[-1]
    path = tmp_path_factory.mktemp("damaged") / f"damaged.{suffix}"
    path.write_bytes(damage(recordings[name], how))
    kind, value = outcome(lambda: tagger.predict_file(path))
    if kind == "ok":
        assert_finite(value)
        # a damaged header may change the rate or channel count, but not turn 1 s into hours of garbage
        assert value.duration <= max(10, path.stat().st_size / MIN_SAMPLE_RATE)
    else:
        assert isinstance(value, AudioError) and "damaged." + suffix in str(value)
