"""Instruction data: the JSONL conversation format and the synthetic generator."""
