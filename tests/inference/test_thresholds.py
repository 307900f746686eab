"""Per-class thresholds files: what is read, what falls back to the default, what is refused."""

import pytest

from panns_core.errors import ConfigError
from panns_core.inference.thresholds import read_thresholds, threshold_vector, write_thresholds
from panns_core.labels.sets import ANIMAL

BARK, CAT = "/m/05tny_", "/m/01yrx"


def test_a_written_file_reads_back_and_unnamed_classes_take_the_default(tmp_path):
    path = write_thresholds(
        tmp_path / "t.csv",
        [{"mid": BARK, "display_name": "Bark", "threshold": 0.7, "precision": 0.9}, {"mid": CAT, "threshold": 0.05}],
        extra=["precision"],
    )
    assert read_thresholds(path) == {BARK: 0.7, CAT: 0.05}
    vector = threshold_vector(ANIMAL, 0.3, read_thresholds(path))
    assert vector[ANIMAL.index_of(BARK)] == 0.7 and vector[ANIMAL.index_of(CAT)] == 0.05
    others = [v for i, v in enumerate(vector) if ANIMAL.mids[i] not in (BARK, CAT)]
    assert len(others) == len(ANIMAL) - 2 and set(others) == {0.3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mid,score\n/m/05tny_,0.5\n", "needs the columns mid and threshold"),
        ("mid,threshold\n/m/05tny_,high\n", "line 2: threshold 'high' is not a number"),
        ("mid,threshold\n/m/05tny_,0.5\n/m/01yrx,1.5\n", "line 3: threshold 1.5 is not between 0 and 1"),
        ("mid,threshold\n/m/05tny_,nan\n", "line 2: threshold nan is not between 0 and 1"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_thresholds(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read thresholds file"):
        read_thresholds(tmp_path / "none.csv")
