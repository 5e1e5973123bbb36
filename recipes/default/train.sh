#!/bin/sh
# The command that trained the shipped default model (run from the repository root).
# STEPS is the step count of the shipped weights (see README.md); resuming with
# --resume runs/default/checkpoint.pth.tar continues the same run.
STEPS=${STEPS:-100000}
exec python -m tinify.train /work/shared/data/photos \
  -m gained-mean-scale-hyperprior --N 64 --M 96 \
  --files recipes/default/train.txt \
  --val /work/shared/data/photos --val-files seeding.png bridge.png fallenleaf.png kite.png wine.png \
  --steps "$STEPS" --batch-size 8 --patch-size 128 --repeat 16 \
  --lr 3e-4 --lr-milestones 16000 --aux-lr 1e-3 --clip-max-norm 1.0 \
  --log-every 100 --save-every 500 --val-every 2000 \
  --seed 0 --device cpu --out runs/default --no-progress "$@"
