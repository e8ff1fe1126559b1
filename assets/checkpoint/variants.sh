#!/usr/bin/env bash
# The three-variant comparison of issue 16 (README table): native motion tokens only, measured
# evidence only, and both. Each variant starts from the synthetic checkpoint
# (assets/checkpoint_synthetic) and trains the same instruct steps at the same batch on the same
# real + synthetic mix (with and without the evidence written in), then takes the held-out real-motion evaluation. CPU, 2 threads: about
# 6 minutes of training and 7 of evaluation per variant.
# Usage: bash assets/checkpoint/variants.sh DATA_DIR [WORK_DIR]
#   DATA_DIR holds train_mix.jsonl (with evidence), train_mix_native.jsonl and chat_train.jsonl, as
#   made by docs/training.md's real-motion data steps (`llamo data mix` with and without `data evidence`).
set -euo pipefail
D=${1:?DATA_DIR}
W=${2:-data/variants}
STEPS=${STEPS:-90}
INIT=${INIT:-assets/checkpoint_synthetic}
common=(--init "$INIT" --stage instruct --text-data "$D/chat_train.jsonl" --text-ratio 0.15
  --instruct-steps "$STEPS" --batch-size 8 --mixed-precision bf16 --seed 16 --save-every 100000)
python -m llamo train "${common[@]}" --data "$D/train_mix_native.jsonl" --evidence off -o "$W/native"
python -m llamo train "${common[@]}" --data "$D/train_mix.jsonl" --evidence on --motion-tokens none -o "$W/evidence"
python -m llamo train "${common[@]}" --data "$D/train_mix.jsonl" --evidence on -o "$W/both"
# the starting checkpoint too, as the table's first row
python -m llamo eval --model "$INIT" --mocap ../shared/data/mocap/bandai_ds1 \
  --squat-video ../shared/data/videos/pose_squats.mp4 --held-out -o "$W/start/eval/real.json"
for v in native evidence both; do
  python -m llamo eval --model "$W/$v" --mocap ../shared/data/mocap/bandai_ds1 \
    --squat-video ../shared/data/videos/pose_squats.mp4 --held-out -o "$W/$v/eval/real.json"
done
python -m llamo eval --compare start="$W/start/eval/real.json" native="$W/native/eval/real.json" \
  evidence="$W/evidence/eval/real.json" both="$W/both/eval/real.json" -o "$W/variants.md"
