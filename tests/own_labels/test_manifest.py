"""The labelled-clips manifest: every bad row told at once with its line, nothing lost, labels resolved."""

from __future__ import annotations

import pytest

from panns_core.errors import ConfigError
from panns_core.labels.sets import get_label_set
from panns_core.own_labels.manifest import check_positives, read_manifest, resolve_labels
from tests.own_labels.conftest import DOG, write_manifest


def test_bad_rows_are_all_named_by_line_and_the_file_is_untouched(tmp_path, esc10):
    dog = esc10[0][0]
    path = write_manifest(
        tmp_path / "clips.csv",
        [
            (dog, DOG, ""),  # line 2: fine
            ("nowhere.ogg", DOG, ""),  # line 3: missing file
            (dog, "", ""),  # line 4: no labels
            (dog, "Dog", ""),  # line 5: fine (a display name)
        ],
    )
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{dog},Dog,,abc,2\n{dog},Dog,,3,1\n")  # lines 6 and 7: bad start, end before start
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    lines[0] = "path,labels,group,start,end"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    message = str(caught.value)
    assert "4 problem(s)" in message
    for expected in ("line 3: nowhere.ogg: no such file", "line 4", "no labels", "line 6: start 'abc'", "line 7"):
        assert expected in message
    assert "line 2" not in message and "line 5" not in message
    assert path.read_bytes() == before


def test_labels_split_on_semicolons_paths_relative_to_the_manifest(tmp_path, esc10):
    dog = esc10[0][0]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.ogg").write_bytes(dog.read_bytes())
    path = write_manifest(tmp_path / "clips.csv", [("sub/a.ogg", "Chicken, rooster; Dog ;Dog", "")])
    manifest = read_manifest(path)
    clip = manifest.clips[0]
    assert clip.path == (tmp_path / "sub" / "a.ogg").resolve()
    assert clip.labels == ("Chicken, rooster", "Dog")
    assert clip.group == str(clip.path)  # default group: the file
    assert resolve_labels(manifest, get_label_set("animal")) == {"Chicken, rooster": "/m/09b5t", "Dog": DOG}


def test_unknown_labels_name_their_lines(tmp_path, esc10):
    dog = esc10[0][0]
    path = write_manifest(tmp_path / "clips.csv", [(dog, "Dog", ""), (dog, "my_dog", ""), (dog, "dog;Woof", "")])
    with pytest.raises(ConfigError) as caught:
        resolve_labels(read_manifest(path), get_label_set("animal"))
    message = str(caught.value)
    assert "line 3: 'my_dog'" in message and "line 4: 'Woof'" in message
    assert "'dog'" not in message  # display names match in any case


def test_too_few_positives_and_one_recording_are_refused(tmp_path, esc10):
    rows = [(path, "my_dog" if mid == DOG else "my_rooster", rec) for path, mid, rec in esc10[:12]]
    rows += [(esc10[-1][0], "my_rooster", "r")]
    manifest = read_manifest(write_manifest(tmp_path / "clips.csv", rows))
    with pytest.raises(ConfigError) as caught:
        check_positives(manifest, minimum=5)
    assert "'my_rooster': 1 positive clip(s)" in str(caught.value)
    assert "my_dog" not in str(caught.value)
    same = read_manifest(write_manifest(tmp_path / "one.csv", [(p, "x", "r1") for p, _, _ in esc10[:5]] + rows[:1]))
    with pytest.raises(ConfigError, match="one recording"):
        check_positives(same, minimum=5, classes=["x"])
