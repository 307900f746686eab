"""Segments of long clips: which spans of windows reach the threshold, merged, per class."""

import numpy as np
import pandas as pd
import pytest

from demo.segments import find_segments, result_segments
from panns_core.inference.tagger import TaggingResult
from panns_core.labels.sets import ANIMAL


def test_a_synthetic_timeline_gives_exactly_its_above_threshold_spans():
    # 2-s windows every 1 s over a 12-s clip: windows [0,2], [1,3], ..., [10,12].
    starts = np.arange(11.0)
    ends = starts + 2.0
    bark = np.zeros(11)
    bark[[1, 2, 3]] = [0.6, 0.9, 0.7]  # overlapping windows 1..3 -> one segment 1..5 s
    bark[[8]] = 0.5  # a lone window -> 8..10 s
    bark[[4]] = 0.49  # just under: not a segment, and it does not bridge the two
    cat = np.zeros(11)
    cat[[0, 10]] = [0.8, 0.55]  # the two ends of the clip
    table = find_segments(starts, ends, np.stack([bark, cat], axis=1), ["Bark", "Cat"], threshold=0.5)
    assert table.values.tolist() == [
        ["Bark", 1.0, 5.0, 0.9],
        ["Bark", 8.0, 10.0, 0.5],
        ["Cat", 0.0, 2.0, 0.8],
        ["Cat", 10.0, 12.0, 0.55],
    ]


def test_adjacent_windows_that_touch_merge_and_a_gap_splits():
    starts, ends = np.array([0.0, 10.0, 20.0, 31.0]), np.array([10.0, 20.0, 30.0, 41.0])
    table = find_segments(starts, ends, np.ones((4, 1)), ["Dog"], threshold=0.1)
    assert table[["start_s", "end_s"]].values.tolist() == [[0.0, 30.0], [31.0, 41.0]]


def test_windows_out_of_order_and_nothing_above():
    table = find_segments([4.0, 0.0, 2.0], [6.0, 2.0, 4.0], [[0.9], [0.9], [0.9]], ["Cow"], 0.5)
    assert table[["start_s", "end_s"]].values.tolist() == [[0.0, 6.0]]
    empty = find_segments([0.0], [2.0], [[0.1]], ["Cow"], 0.5)
    assert empty.empty and list(empty.columns) == ["class", "start_s", "end_s", "peak_score"]


def result(timeline, starts, window, duration):
    timeline = np.asarray(timeline, np.float32)
    return TaggingResult(
        labels=ANIMAL,
        scores=timeline.max(axis=0),
        embedding=np.zeros(1),
        timeline=timeline,
        window_starts=np.asarray(starts, float),
        window_seconds=window,
        duration=duration,
    )


def test_from_a_tagging_result_the_last_window_ends_with_the_clip():
    bark = ANIMAL.index_of("/m/05tny_")
    timeline = np.zeros((3, len(ANIMAL)))
    timeline[1:, bark] = 0.7
    table = result_segments(result(timeline, [0.0, 10.0, 20.0], 10.0, 25.0), ["/m/05tny_"], 0.5)
    assert table.values.tolist() == [["Bark", 10.0, 25.0, pytest.approx(0.7)]]
    assert isinstance(table, pd.DataFrame)
