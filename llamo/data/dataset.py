"""The old grab-bag of instruction data, split by job; these names now live elsewhere:

- synthetic clips and conversations: llamo.data.synthetic;
- text-only chat rows: llamo.data.text_chat (prompts in llamo.data.text_prompts);
- the JSONL reader: llamo.data.instructions;
- per-frame targets: llamo.data.targets; the label vocabulary: llamo.labels.
"""

# shim (issue 15): remove in the import sweep
from llamo.data.instructions import InstructionData  # noqa: F401
from llamo.data.synthetic import SPLIT_INDEX, clip_seed, synthetic_example, write_synthetic  # noqa: F401
from llamo.data.targets import frame_targets  # noqa: F401
from llamo.data.text_chat import backbone_answers, write_text_chat  # noqa: F401
from llamo.data.text_prompts import TEXT_PROMPTS, TEXT_TEST_PROMPTS, TEXT_TRAIN_PROMPTS  # noqa: F401
from llamo.labels import AUX_ACTIONS, AUX_DIRECTIONS, AUX_SIDES  # noqa: F401
