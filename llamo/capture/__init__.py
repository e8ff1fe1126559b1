"""Video -> canonical Motion with MediaPipe Pose (0.10.21, model_complexity=1, tracking).

Pipeline (why each step exists), one module a step:
1. `llamo.video.probe_video`: duration, rate, size, codec and the display rotation without
   decoding the whole file, so over-long or broken files are refused before any work.
2. `llamo.video.iter_grid_frames`: RGB, upright, only for the frames nearest a 20 fps grid.
3. `tracking`: MediaPipe in tracking mode on those frames, decode overlapped with inference;
   two trackers on clips of 20 s or more.
4. `pose`: the MediaPipe graph itself (33 world landmarks, metres, re-centred on the hips in
   every frame, and 33 image landmarks).
5. `landmarks`: tracks -> Motion (pure numpy).
6. `extract`: `extract_video`, the whole chain.
"""

from llamo.capture.extract import extract_video
from llamo.capture.landmarks import landmarks_to_motion
from llamo.capture.pose import POSE_SETTINGS, Pose, PoseTracker, pose_image, quiet_native_stderr
from llamo.capture.tracking import Tracks, auto_workers, prefetch, track

__all__ = [
    "POSE_SETTINGS",
    "Pose",
    "PoseTracker",
    "Tracks",
    "auto_workers",
    "extract_video",
    "landmarks_to_motion",
    "pose_image",
    "prefetch",
    "quiet_native_stderr",
    "track",
]
