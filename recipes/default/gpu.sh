#!/bin/sh
# One GPU session of the default model's training campaign: 9 minutes from the latest snapshot,
# a copy of the checkpoint to $OUT every 90 s. Prepared here, run on the device machine:
#
#   python recipes/default/gpu_pack.py     # here, once: runs/gpu-pack (lossless WebP, x0.5)
#   device run, carry ["runs/gpu-pack", "python/tinify/_core.abi3.so"], timeout_s 600:
#       sh recipes/default/gpu.sh
#   then: cp <files_at>/checkpoint.pth.tar runs/default/checkpoint.pth.tar and resume on the CPU.
#
# The model's and optimiser's settings are train.sh's (phase D: 1e-4 from step 55,500);
# tests/test_recipes.py checks that the two agree. The device image has torch but no tinify:
# the package runs from python/ with the carried extension module (abi3, built here).
set -eu
OUT=${OUT:-runs/gpu-out}
MINUTES=${MINUTES:-9}
mkdir -p runs/gpu "$OUT"
[ -f runs/gpu/checkpoint.pth.tar ] || cp recipes/default/snapshot.pth.tar runs/gpu/checkpoint.pth.tar
export PYTHONPATH=python PYTHONUNBUFFERED=1
(while sleep 90; do cp runs/gpu/checkpoint.pth.tar "$OUT/checkpoint.pth.tar.tmp" &&
  mv "$OUT/checkpoint.pth.tar.tmp" "$OUT/checkpoint.pth.tar"; done) &
copier=$!
status=0
timeout $((MINUTES * 60)) python3 -m tinify.train runs/gpu-pack \
  -m gained-mean-scale-hyperprior --N 64 --M 96 \
  --steps 100000000 --batch-size 8 --patch-size 256 --repeat 16 --by-pixels --rot90 \
  --lr 3e-4 --warmup 500 --lr-milestones 55500 --lr-gamma 0.3333333 \
  --aux-lr 1e-3 --clip-max-norm 1.0 \
  --ema-decay 0.999 --mixed-quantization --bf16 \
  --log-every 100 --save-every 250 --val-every 0 \
  --seed 1 --device cuda --out runs/gpu --no-progress \
  --resume runs/gpu/checkpoint.pth.tar || status=$?
kill "$copier" 2>/dev/null || true
cp runs/gpu/checkpoint.pth.tar "$OUT/checkpoint.pth.tar"
cp runs/gpu/log.jsonl "$OUT/log.jsonl"
# 124: stopped by the timeout, as planned.
[ "$status" -eq 0 ] || [ "$status" -eq 124 ]
