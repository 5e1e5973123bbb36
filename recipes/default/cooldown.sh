#!/bin/sh
# The cool-down of a release: a branch of the main line's latest checkpoint trained MORE steps
# (default 1500) at a lower learning rate, in runs/cooldown. The main line (runs/default) is
# not touched and goes on; the branch is what export.py ships.
#
#   sh recipes/default/cooldown.sh                                   # from runs/default
#   python recipes/default/heldout.py runs/cooldown/checkpoint.pth.tar /tmp/heldout
#   python recipes/default/export.py runs/cooldown/checkpoint.pth.tar
#
# FROM names another checkpoint. GAMMA is the factor on train.sh's base rate 3e-4 (default
# 0.1: 3e-5; 0.3333: 1e-4); the branch's milestone replaces train.sh's own. PATCH and BATCH
# change the crops (PATCH=256 BATCH=2: the same pixels per step in crops whose hyper-latent
# is 4x4 rather than 2x2). Further arguments go to tinify.train.
set -eu
FROM=${FROM:-runs/default/checkpoint.pth.tar}
MORE=${MORE:-1500}
GAMMA=${GAMMA:-0.1}
OUT=${OUT:-runs/cooldown}
mkdir -p "$OUT"
rm -f "$OUT/log.jsonl"
cp "$FROM" "$OUT/checkpoint.pth.tar"
STEP=$(python -c "import sys, torch
print(torch.load(sys.argv[1], map_location='cpu', weights_only=True)['step'])" "$OUT/checkpoint.pth.tar")
echo "cool-down of $FROM: steps $STEP -> $((STEP + MORE)) at lr x$GAMMA, in $OUT"
OUT="$OUT" STEPS=$((STEP + MORE)) exec sh recipes/default/train.sh \
  --lr-milestones "$STEP" --lr-gamma "$GAMMA" --val-every 0 "$@"
