"""The app shows what the model measured and turns times in an answer into jump buttons."""

from app.render import summary_markdown
from app.ui.updates import cited_times
from llamo.data.synth import synthesize
from llamo.evidence import measure


def test_cited_times_in_order_within_the_clip():
    assert cited_times("The second squat is at 6.7 s; it ends at 7.2 seconds.", 13.0) == [6.7, 7.2]
    assert cited_times("From 4.2 s to 5.0 s, then again at 4.2 s.", 13.0) == [4.2, 5.0]
    assert cited_times("3 squats.", 13.0) == []
    assert cited_times("At 99 s.", 13.0) == []  # past the clip's end: nothing to seek to


def test_clip_summary_shows_the_measured_facts_escaped():
    report = measure(synthesize("squat", reps=3, seed=1)).report
    info = {"title": "a*b.mp4", "duration": 7.2, "fps": 20.0, "num_frames": 144, "person_pct": 100.0,
            "reps": 3, "rep_signal": "pelvis_height", "measured": report}  # fmt: skip
    text = summary_markdown(info)
    assert "**What the model measured:**" in text and "3 reps" in text and "most movement" in text
    assert "a\\*b" in text  # the file name stays escaped
