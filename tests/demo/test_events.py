"""The demo's "Where each top class is heard" table: the package's events for the top classes, rounded.

Every expected row is computed by hand from a known timeline with the core's rule: overlapping windows are
cut into cells scored by the lowest covering window; time no window covers separates events."""

import numpy as np
import pandas as pd

from demo.analysis import write_events_csv
from demo.events import EVENT_TABLE_COLUMNS, events_table
from panns_core.inference.tagger import TaggingResult
from panns_core.labels.sets import ANIMAL

BARK, CAT, COW = "/m/05tny_", "/m/01yrx", "/m/01xq0k1"


def result(columns, starts, window, duration, framewise=None, frame_seconds=None):
    """A TaggingResult over ANIMAL whose timeline is zero except the given {mid: per-window scores}."""
    timeline = np.zeros((len(starts), len(ANIMAL)), np.float32)
    for mid, scores in columns.items():
        timeline[:, ANIMAL.index_of(mid)] = scores
    return TaggingResult(
        labels=ANIMAL,
        scores=timeline.max(axis=0),
        embedding=np.zeros(1),
        timeline=timeline,
        window_starts=np.asarray(starts, float),
        window_seconds=window,
        duration=duration,
        framewise=framewise,
        frame_seconds=frame_seconds,
    )


def test_overlapping_windows_give_the_cells_every_covering_window_hears():
    # 2-s windows every 1 s over a 12-s clip: windows [0,2], [1,3], ..., [10,12]; 1-s cells.
    bark = np.zeros(11)
    bark[[1, 2, 3]] = [0.6, 0.9, 0.7]  # cells [2,3] = min(0.6, 0.9), [3,4] = min(0.9, 0.7): 2..4 s
    bark[4] = 0.49  # just under: cell [4,5] = 0.49 does not extend it
    bark[8] = 0.5  # a lone window among overlapping ones: every cell it covers shares a window at 0
    cat = np.zeros(11)
    cat[[0, 10]] = [0.8, 0.55]  # the clip's first and last cells have one window each
    cow = np.ones(11)  # above threshold everywhere, but not a top class: not listed
    table = events_table(result({BARK: bark, CAT: cat, COW: cow}, np.arange(11.0), 2.0, 12.0), [CAT, BARK], 0.5)
    assert list(table.columns) == EVENT_TABLE_COLUMNS
    assert table.values.tolist() == [  # by class in top order, then time
        ["Cat", 0.0, 1.0, 0.8, 0.8],
        ["Cat", 11.0, 12.0, 0.55, 0.55],
        ["Bark", 2.0, 4.0, 0.7, 0.65],
    ]


def test_windows_out_of_order_and_the_last_clipped_to_the_clip_end_rounded():
    # 10-s windows every 10 s over a 24.718-s clip, listed out of order; the last one ends with the clip.
    starts = [10.0, 0.0, 20.0]
    table = events_table(result({BARK: [0.7, 0.2, 0.8]}, starts, 10.0, 24.718), [BARK], 0.5)
    # 10..24.718 s; mean weighted by time: (0.7 * 10 + 0.8 * 4.718) / 14.718 = 0.73206
    assert table.values.tolist() == [["Bark", 10.0, 24.72, 0.8, 0.732]]


def test_time_no_window_covers_separates_events():
    # a long clip's timeline: 2-s windows every 10 s (the hop grew past the window)
    table = events_table(result({BARK: [0.9, 0.9, 0.9]}, [0.0, 10.0, 20.0], 2.0, 22.0), [BARK], 0.5)
    assert table[["start_s", "end_s"]].values.tolist() == [[0.0, 2.0], [10.0, 12.0], [20.0, 22.0]]


def test_frame_scores_give_the_events_of_cnn14_decision_level_max():
    frames = np.zeros((501, len(ANIMAL)), np.float32)  # 10-ms frames over 5 s; the last starts at the end
    frames[123:250, ANIMAL.index_of(BARK)] = 0.8  # 1.23 s to 2.50 s
    frames[300:, ANIMAL.index_of(CAT)] = 0.6  # 3 s to the clip's end
    one_window = {BARK: [0.9], CAT: [0.9]}  # the window would say "the whole clip": frames must win
    r = result(one_window, [0.0], 5.0, 5.0, framewise=frames, frame_seconds=0.01)
    table = events_table(r, [BARK, CAT], 0.5)
    assert table.values.tolist() == [["Bark", 1.23, 2.5, 0.8, 0.8], ["Cat", 3.0, 5.0, 0.6, 0.6]]


def test_the_csv_is_the_table_and_nothing_heard_writes_no_file(tmp_path):
    table = events_table(result({BARK: [0.7, 0.2, 0.8]}, [0.0, 10.0, 20.0], 10.0, 24.718), [BARK], 0.5)
    path = write_events_csv(table, tmp_path, "farm")
    assert path.name == "farm_events.csv"
    assert table.values.tolist() == [["Bark", 0.0, 10.0, 0.7, 0.7], ["Bark", 20.0, 24.72, 0.8, 0.8]]
    assert pd.read_csv(path).values.tolist() == table.values.tolist()
    empty = events_table(result({BARK: [0.1]}, [0.0], 10.0, 10.0), [BARK], 0.5)
    assert empty.empty and list(empty.columns) == EVENT_TABLE_COLUMNS
    assert write_events_csv(empty, tmp_path, "quiet") is None and not (tmp_path / "quiet_events.csv").exists()
