#!/usr/bin/env bash
# Issue 25's objectives at equal compute, each with its probe curve (docs/pretraining.md has the rule, written
# before any of these was probed). Each run resumes where a stopped session left it; a point already probed is
# read back, so the script can be run again after any stop.
# Usage: bash recipes/pretraining.sh [objective…]   (mlm40 electra mlm15; default: mlm40 electra)
#   mlm40   masked LM, 40 % of tokens, whole eojeol (configs/pretrain/mlm40-wwm.json), to update 1,200
#   electra ELECTRA, generator ¼, λ 50, batch 128 by accumulation (configs/pretrain/electra-bs128.json), to update
#           1,000: the profile's cost per token is 1.25× fine-tuning's against masked LM's 1.05×, so 1,000
#           ELECTRA updates are the compute of 1,200 masked-LM ones
#   mlm15   the masked-LM run of the curves so far, continued to STOP_AT (default 6,100: its whole schedule)
# Env: ROOT (default /work/nersota-runs/v9: splits, vocab, shards and one folder per run, outside the work tree),
#      THREADS (default 2), STOP_AT (mlm15 only),
#      LR: a peak learning rate other than the config's; the objective then runs from update 0 into its own folders
#      (pretrain-OBJECTIVE-lrLR, probe/OBJECTIVE-lrLR), mlm15 to update 1,200 unless STOP_AT says otherwise (the
#      learning-rate rule of docs/pretraining.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${ROOT:-/work/nersota-runs/v9}
THREADS=${THREADS:-2}
LR=${LR:-}
deno() { npx --yes deno@2.9.6 "$@"; }
objectives=${*:-mlm40 electra}
for objective in $objectives; do
  case "$objective" in mlm40 | electra | mlm15) ;; *) echo "unknown objective '$objective' (mlm40 electra mlm15)" >&2; exit 2 ;; esac
done

# The probe's splits and vocabulary and the pretraining shards, rebuilt bit for bit on a new machine (≈ 1 min),
# and the curves' point at 0 tokens; under a lock, so that two objectives can run side by side at 1 thread each
# (`THREADS=1 bash recipes/pretraining.sh mlm40 & THREADS=1 bash recipes/pretraining.sh electra`).
mkdir -p "$ROOT"
(
  flock 9
  [ -d "$ROOT/shards" ] || RUNS="$ROOT" INIT=pretrained bash recipes/default-model.sh split vocab data
  deno task probe --encoder random --runs "$ROOT" --out "$ROOT/probe/random" --threads "$THREADS" --quiet
) 9> "$ROOT/.pretraining.lock"

for objective in $objectives; do
  keep=()
  case "$objective" in
    mlm40) config=configs/pretrain/mlm40-wwm.json stop=1200 every=300 ;;
    electra) config=configs/pretrain/electra-bs128.json stop=1000 every=100 keep=(--keep 2) ;; # 900 and 1,000 kept
    mlm15) config=configs/pretrain/mlm15.json stop=${STOP_AT:-$([ -n "$LR" ] && echo 1200 || echo 6100)} every=300 ;;
  esac
  name=$objective lr=()
  [ -n "$LR" ] && name="$objective-lr$LR" lr=(--lr "$LR")
  run="$ROOT/pretrain-$name"
  resume=(); [ -f "$run/run.json" ] && resume=(--resume)
  # mlm15 at its config's rate starts from the committed checkpoint (models/pretrain-mlm15) when its folder is
  # new (the run is deterministic, so this is the run itself, not a copy of it).
  if [ "$objective" = mlm15 ] && [ -z "$LR" ] && [ ! -e "$run" ]; then
    mkdir -p "$run" && cp -r models/pretrain-mlm15/. "$run/" && resume=(--resume)
  fi
  deno task pretrain --data "$ROOT/shards" --vocab "$ROOT/vocab.txt" --config "$config" --out "$run" \
    --stop-at "$stop" --threads "$THREADS" --quiet "${lr[@]}" "${keep[@]}" "${resume[@]}"
  deno task probe --curve "$run" --runs "$ROOT" --out "$ROOT/probe/$name" \
    --baseline "$ROOT/probe/random/probe.json" --every "$every" --threads "$THREADS" --quiet
done
