"""Events from window timelines and frame scores: planted sounds come back at their times."""

import numpy as np
import pytest

from panns_core.inference.events import EventSettings, elementary_cells, find_events, result_events
from panns_core.inference.tagger import TaggingResult
from panns_core.labels.sets import from_classes

LABELS = from_classes("test", ["/m/a", "/m/b"], ["Alpha", "Beta"])


def window_result(truth, duration, window, hop, high=0.9, low=0.1):
    """A TaggingResult whose windows score `high` for a class whenever they overlap one of its planted spans.

    The last window is aligned to the end of the recording, as the Tagger does."""
    starts = list(np.arange(0, duration - window + 1e-9, hop))
    if starts[-1] + window < duration:
        starts.append(duration - window)
    starts = np.array(starts)
    timeline = np.full((len(starts), len(LABELS)), low)
    for c, spans in truth.items():
        for s, e in spans:
            timeline[(starts < e) & (starts + window > s), c] = high
    return TaggingResult(
        labels=LABELS,
        scores=timeline.max(0),
        embedding=np.zeros(4),
        timeline=timeline,
        window_starts=starts,
        window_seconds=window,
        duration=duration,
        source="rec.wav",
    )


@pytest.mark.parametrize("window,hop", [(10.0, 1.0), (10.0, 2.5), (4.0, 4.0)])
def test_planted_events_come_back_within_one_hop(window, hop):
    truth = {0: [(23.3, 27.9), (61.0, 70.2)], 1: [(40.5, 41.5)]}
    events = result_events(window_result(truth, 120.0, window, hop), EventSettings(threshold=0.5))
    found = list(events)
    by_class = {c: [e for e in events if e.mid == LABELS.mids[c]] for c in truth}
    for c, spans in truth.items():
        assert len(by_class[c]) == len(spans), (c, by_class[c])
        for (s, e), event in zip(spans, by_class[c]):
            assert abs(event.start - s) <= hop and abs(event.end - e) <= hop, (event, s, e)
            assert event.display_name == LABELS.names[c] and event.file == "rec.wav"
            assert event.peak_score == pytest.approx(0.9) and event.mean_score == pytest.approx(0.9)
    assert found  # events are sorted by start
    assert [e.start for e in events] == sorted(e.start for e in events)


def test_frame_scores_give_events_within_one_frame():
    frame = 0.01
    duration = 5.0
    frames = np.full((int(duration / frame) + 1, 2), 0.05)
    frames[123:250, 1] = 0.8  # 1.23 s to 2.50 s
    result = TaggingResult(
        labels=LABELS,
        scores=frames.max(0),
        embedding=np.zeros(4),
        timeline=frames.max(0)[None],
        window_starts=np.zeros(1),
        window_seconds=duration,
        duration=duration,
        framewise=frames,
        frame_seconds=frame,
    )
    (event,) = result_events(result, EventSettings(threshold=0.5), file="f.wav")
    assert event.mid == "/m/b" and event.file == "f.wav"
    assert abs(event.start - 1.23) <= frame and abs(event.end - 2.50) <= frame
    # the window timeline (one window) would give the whole clip: 'windows' must really use it
    (whole,) = result_events(result, EventSettings(threshold=0.5), source="windows")
    assert (whole.start, whole.end) == (0.0, 5.0)


def test_merge_gap_joins_and_min_duration_drops():
    starts = np.arange(0, 20, 1.0)
    scores = np.zeros((20, 2))
    scores[2:5, 0] = 0.9  # 2-5 s
    scores[6:9, 0] = 0.7  # 6-9 s: a 1 s gap
    scores[15, 0] = 0.95  # a 1 s blip
    scores[10:12, 1] = 0.6
    ends = starts + 1
    plain = find_events(starts, ends, scores, LABELS, EventSettings(threshold=0.5))
    assert [(e.mid, e.start, e.end) for e in plain] == [
        ("/m/a", 2, 5),
        ("/m/a", 6, 9),
        ("/m/b", 10, 12),
        ("/m/a", 15, 16),
    ]
    merged = find_events(starts, ends, scores, LABELS, EventSettings(threshold=0.5, merge_gap=1.0, min_duration=1.5))
    assert [(e.mid, e.start, e.end) for e in merged] == [("/m/a", 2, 9), ("/m/b", 10, 12)]
    assert merged[0].peak_score == pytest.approx(0.9)
    assert merged[0].mean_score == pytest.approx(0.8)  # over the 6 s above threshold, not the gap
    # a per-class threshold vector: class b needs 0.65, so it has no event
    per_class = find_events(starts, ends, scores, LABELS, EventSettings(threshold=[0.5, 0.65]))
    assert {e.mid for e in per_class} == {"/m/a"}


def test_consistent_events_give_the_parent_where_the_child_is():
    from panns_core.labels.sets import get_label_set

    animal = get_label_set("animal")
    bark = animal.index_of("/m/05tny_")
    starts = np.arange(0, 10, 1.0)
    scores = np.zeros((10, len(animal)))
    scores[3:6, bark] = 0.9
    plain = find_events(starts, starts + 1, scores, animal, EventSettings(threshold=0.5))
    assert [e.mid for e in plain] == ["/m/05tny_"]
    consistent = find_events(starts, starts + 1, scores, animal, EventSettings(threshold=0.5, consistent=True))
    mids = {e.mid for e in consistent}
    assert {"/m/05tny_", "/m/0bt9lr", "/m/0jbk"} <= mids  # Bark, Dog, Animal
    assert all((e.start, e.end) == (3, 6) for e in consistent) and len(consistent) == len(mids)


def test_cells_of_overlapping_windows_take_the_minimum():
    lefts, rights, cells = elementary_cells([0, 1, 2], [2, 3, 4], np.array([[0.2], [0.9], [0.5]]))
    assert list(lefts) == [0, 1, 2, 3] and list(rights) == [1, 2, 3, 4]
    assert cells[:, 0].tolist() == [0.2, 0.2, 0.5, 0.5]


def test_spans_in_any_order_and_uncovered_time_splits_events():
    # 2-s windows every 10 s (a hop longer than the window, as the demo's timeline on a long clip), given
    # out of order: nobody listened between them, so three windows above threshold are three events.
    starts = np.array([20.0, 0.0, 10.0, 30.0])
    scores = np.array([[0.8, 0.0], [0.9, 0.0], [0.7, 0.0], [0.1, 0.0]])
    found = find_events(starts, starts + 2.0, scores, LABELS, EventSettings(threshold=0.5))
    assert [(e.start, e.end, e.peak_score) for e in found] == [(0, 2, 0.9), (10, 12, 0.7), (20, 22, 0.8)]
    # merge_gap still joins across the unheard time, and the mean is over the heard time only
    joined = find_events(starts, starts + 2.0, scores, LABELS, EventSettings(threshold=0.5, merge_gap=8.0))
    assert [(e.start, e.end) for e in joined] == [(0, 22)]
    assert joined[0].mean_score == pytest.approx(0.8)
