"""The subject picker in the app (issue 17.5): the open video's people on a numbered still, a
click or a number picks one, and the clip is opened again following them, the choice stored
with the clip. Slow: MediaPipe on a real three-person recording."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from annotations.store import Store  # noqa: E402
from app.config import AppConfig  # noqa: E402
from app.session import Session  # noqa: E402
from app.ui.picker import pick_on_still  # noqa: E402
from llamo.capture.subject import Box  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402
from llamo.motion_ops import body_centre_size  # noqa: E402

MAN_REGION = Box(0.40, 0.33, 0.62, 0.50)  # the man on the force plate (tests/test_subject.py)


def test_a_click_on_the_still_picks_the_person_under_it():
    still = np.zeros((100, 200, 3), np.uint8)
    people = [
        {"number": 1, "point": [0.2, 0.5], "box": [0.1, 0.2, 0.3, 0.9]},
        {"number": 2, "point": [0.5, 0.5], "box": [0.28, 0.2, 0.7, 0.9]},
    ]

    def click(x, y):
        return pick_on_still(None, people, still, gr.SelectData(None, {"index": [x, y], "value": None}))

    assert click(40, 50) == "1" and click(120, 50) == "2"
    assert click(58, 50) == "1"  # both boxes hold it: the nearer centre
    assert click(199, 5) == "2"  # in no box: the nearest centre


def test_only_a_video_has_people_to_choose(tmp_path):
    from app.core import LlamoApp
    from llamo.testing import tiny_model

    core = LlamoApp(tiny_model(), Store.open(tmp_path / "d", announce=False), AppConfig())
    s = Session()
    try:
        with pytest.raises(LlamoError, match="bring a clip"):
            core.people(s)
        core.open_example(s, "wave")
        with pytest.raises(LlamoError, match="only a clip opened from a video"):
            core.people(s)
        with pytest.raises(LlamoError, match="only a clip opened from a video"):
            core.choose_subject(s, (0.5, 0.5))
    finally:
        s.close()


@pytest.mark.slow
def test_the_chosen_person_is_tracked_and_stored_with_the_clip(tmp_path, shared_data):
    from app.core import LlamoApp
    from llamo.testing import tiny_model

    core = LlamoApp(tiny_model(), Store.open(tmp_path / "d", announce=False), AppConfig())
    s = Session()
    try:
        first = core.open_file(s, shared_data / "videos" / "pose2sim_multiperson.mp4")
        still = core.people(s)
        assert len(still.people) == 3
        man = [p for p in still.people if MAN_REGION.contains(*p.point)]
        assert len(man) == 1
        chosen = core.choose_subject(s, man[0].point)
        motion = chosen.motion
        centre, _ = body_centre_size(motion.landmarks_image)
        pelvis = centre / np.asarray(motion.image_size, np.float32)
        on_him = np.array([MAN_REGION.contains(float(x), float(y)) for x, y in pelvis]) & motion.person_found
        assert on_him.mean() >= 0.95, on_him.mean()
        assert s.clip is chosen and chosen.sha256 != first.sha256  # another clip of the same video
        row = core.store.get_clip(chosen.sha256)
        assert row.meta["subject"]["point"] == list(man[0].point)
        assert (
            row.meta["video_sha256"] == first.sha256
            and row.video_path == core.store.get_clip(first.sha256).video_path
        )
        assert core.store.load_motion(row).meta["subject"]["point"] == list(man[0].point)
        assert chosen.title == first.title and core.people(s).people  # the stored video still works
    finally:
        s.close()
