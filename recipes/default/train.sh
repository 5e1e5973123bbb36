#!/bin/sh
# The training campaign of the default model (run from the repository root).
#
# Phase B (from 2026-12-03): starts from the phase-A weights shipped as tinify-default-1
# (step 8500) and runs to STEPS optimiser steps in total, resume included (default 1,000,000:
# until stopped, in practice): both photo folders minus the five held-out
# photographs, crops shared by pixel count, downscaled x0.5-1, flipped and turned, Adam 3e-4
# after a 500-step warm-up with no milestone, EMA 0.999 of the weights, mixed quantization,
# g_a and g_s under bf16 autocast (1.6x faster on this CPU at equal loss: throughput.py).
# Phase C (from step 29,000): 256x256 crops, 2 per batch (the same pixels per step as phase B's
# 8 of 128x128), so the hyper-latent of a crop is 4x4 rather than 2x2: -46 % against JPEG on
# the held-out crops after 1,500 steps, against -33 % for the same steps at 128x128.
# Phase D (from step 55,500): Adam at 1e-4 (3e-4 x 1/3: the milestone below): a branch at 1e-4
# reached -55.0 % in 4,000 steps where the main line at 3e-4 stood at -53.8 % 6,500 steps on.
#
#   sh recipes/default/train.sh            # resumes recipes/default/snapshot.pth.tar if present
#   STEPS=40000 sh recipes/default/train.sh   # stops at step 40000 in total, not 40000 more
#
# DATA is the folder holding photos/ and photos-extra/ (default: ../shared/data, relative to
# the repository root). THREADS is torch's thread count (default 1: leave a core free). OUT is
# the run's folder (default runs/default, the main line; cooldown.sh runs a branch in another).
# Further arguments go to tinify.train and override the ones below.
DATA=${DATA:-../shared/data}
STEPS=${STEPS:-1000000}
THREADS=${THREADS:-1}
PATCH=${PATCH:-256}
BATCH=${BATCH:-2}
OUT=${OUT:-runs/default}
SNAPSHOT=recipes/default/snapshot.pth.tar
if [ -f "$SNAPSHOT" ] && [ ! -f "$OUT/checkpoint.pth.tar" ]; then
  mkdir -p "$OUT" && cp "$SNAPSHOT" "$OUT/checkpoint.pth.tar"
fi
if [ -f "$OUT/checkpoint.pth.tar" ]; then
  START="--resume $OUT/checkpoint.pth.tar"
else
  START="--init python/tinify/zoo/weights/tinify-default-1.pth"
fi
export OMP_NUM_THREADS="$THREADS"
# shellcheck disable=SC2086
exec python -m tinify.train "$DATA/photos" "$DATA/photos-extra" \
  -m gained-mean-scale-hyperprior --N 64 --M 96 \
  --exclude $(cat recipes/default/heldout.txt) \
  --by-pixels --scale-min 0.5 --rot90 \
  --val "$DATA/photos" --val-files $(cat recipes/default/heldout.txt) \
  --steps "$STEPS" --batch-size "$BATCH" --patch-size "$PATCH" --repeat 16 \
  --lr 3e-4 --warmup 500 --lr-milestones 55500 --lr-gamma 0.3333333 \
  --aux-lr 1e-3 --clip-max-norm 1.0 \
  --ema-decay 0.999 --mixed-quantization --bf16 --threads "$THREADS" \
  --log-every 100 --save-every 500 --val-every 4000 \
  --seed 1 --device cpu --out "$OUT" --no-progress $START "$@"
