"""Views of a motion: 3D skeleton (plotly), animated GLB, overlay video, kinematics plots.

Each module builds one view from a `llamo.motion.Motion`; none of them imports gradio, so the
command line, the app and the tests share them.
"""

from llamo.views.skeleton3d import SIDE_COLOURS, figure_json_size, skeleton_figure, skeleton_view

__all__ = ["SIDE_COLOURS", "figure_json_size", "skeleton_figure", "skeleton_view"]
