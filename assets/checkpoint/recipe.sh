#!/usr/bin/env bash
# The recipe of the default checkpoint (assets/checkpoint). CPU, 2 threads: data 1 min, training
# 73 + 20 minutes (two passes), evaluation 7 + 7 minutes (two test splits).
# Usage: bash assets/checkpoint/recipe.sh [WORK_DIR]
set -euo pipefail
W=${1:-data/default}
python -m llamo data synth --n 6000 --seed 0 --split train -o "$W/train"
python -m llamo data synth --n 300 --seed 0 --split val -o "$W/val"
python -m llamo data synth --n 600 --seed 0 --split test -o "$W/test"
python -m llamo data synth --n 600 --seed 1 --split test -o "$W/test_seed1"    # a second test split
python -m llamo data chat --n 80 --split train -o "$W/chat_train.jsonl"
python -m llamo data chat --n 16 --split test -o "$W/chat_test.jsonl"
python -m llamo train --data "$W/train/data.jsonl" --val "$W/val/data.jsonl" \
  --text-data "$W/chat_train.jsonl" --text-ratio 0.25 -o "$W/model" \
  --stage both --backbone default --motion-tokens cross_talker --num-tokens 16 --summary-tokens 3 \
  --pretrain-steps 3000 --align-steps 700 --instruct-steps 1200 --batch-size 12 \
  --mixed-precision bf16 --seed 0 --val-every 100 --save-every 50 \
  --max-minutes pretrain=10 --max-minutes align=25 --max-minutes instruct=42
# second instruct pass: more tempo, off-topic and before phrasings; tempo, off-topic, before, after and order
# asked more often; half the before/after and order questions asked both ways (held-out phrasings unchanged)
python -m llamo data synth --n 3000 --seed 5 --split train --questions extended -o "$W/train_extended"
python -m llamo train --init "$W/model" --stage instruct --data "$W/train_extended/data.jsonl" \
  --val "$W/val/data.jsonl" --text-data "$W/chat_train.jsonl" --text-ratio 0.25 -o "$W/model2" \
  --instruct-steps 450 --batch-size 12 --mixed-precision bf16 --seed 1 --val-every 150 --save-every 150 \
  --max-minutes instruct=20
python -m llamo package "$W/model2" -o assets/checkpoint --command "bash assets/checkpoint/recipe.sh $W"
cp "$W/model/training.json" assets/checkpoint/training.json
cp "$W/model2/training.json" assets/checkpoint/training_second_pass.json
python -m llamo eval --model assets/checkpoint --data "$W/test/data.jsonl" --limit 600 --max-new-tokens 40 \
  --chat-data "$W/chat_test.jsonl" \
  --mocap ../shared/data/mocap/bandai_ds1 --squat-video ../shared/data/videos/pose_squats.mp4 \
  -o "$W/eval/eval.json"    # copied to assets/checkpoint/eval.{json,md}
python -m llamo eval --model assets/checkpoint --data "$W/test_seed1/data.jsonl" --limit 600 --max-new-tokens 40 \
  -o "$W/eval_test_seed1/eval.json"    # copied to assets/checkpoint/eval_test_seed1.{json,md}
