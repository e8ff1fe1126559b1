"""Instruction data: the synthetic generator and what is made from it.

- synth/: procedural motion with exact labels (one function per action);
- templates/: question phrasings, answers and the evaluator's answer normaliser;
- synthetic.py: clips + QA conversations on disk (`python -m llamo data synth`);
- text_chat.py, text_prompts.py: text-only rows from the backbone (`python -m llamo data chat`);
- instructions.py: the JSONL reader the trainer and evaluator use;
- targets.py: per-frame targets for encoder pretraining.
The conversation format itself is llamo.conversation; label names are llamo.labels.
"""
