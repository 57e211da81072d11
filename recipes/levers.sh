#!/usr/bin/env bash
# Issue 19's levers, each the default recipe with one change (docs/colloquial.md has each one's rule, written
# before it trained), run one after another and scored on the dev sets only: test scores wait until a rule has
# decided. Each run resumes where a stopped session left it; a lever already scored is skipped.
# Usage: bash recipes/levers.sh [lever…]   (a b b2 a2 d c s p; default: b a2 d a c s b2)
#   b   one self-training round: the silver set of D (docs/self-training.md) as one more fine-tuning source
#   b2  b with a smaller silver set, at most half of it without entities (--max-per-source 2000
#       --max-empty-share 0.5)
#   a   colloquial noise in the augmented copies alone (NOISE=1)
#   a2  colloquial place and brand names in the augmentation's swaps (data/lexicon/colloquial-names.tsv)
#   d   the recipe fit on train + dev (FIT=all): no selection dev score, it trains on it
#   c   the recipe from the masked-LM encoder (update 1,200), no noise
#   s   not a lever: D's recipe with fine-tuning seed 43, the spread between two runs of one recipe
#   p   issue 25: the recipe from the masked-LM update its rule chose (docs/pretraining.md), no noise;
#       ENCODER=RUN/checkpoints/step-N.safetensors names it
# Env: ROOT (default /work/nersota-runs: one folder per lever, outside the work tree), THREADS (default 2).
# Writes one JSON line per lever to ROOT/levers.jsonl: colloquial dev micro/macro F1 and no-entity rate
# (float32, the model's own symbolEntities: drop), the selection dev (KLUE dev + KMOU dev) macro F1 of the
# adapted model, and the paired bootstrap against the shipped model on the colloquial dev set (B − A, its 95 %
# interval, the share of draws the lever was better; deno task eval --compare).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${ROOT:-/work/nersota-runs}
THREADS=${THREADS:-2}
deno() { npx --yes deno@2.9.6 "$@"; }
levers=${*:-b a2 d a c s b2}
MLM15_AT_1200=7615032:models/pretrain-mlm15/checkpoints/step-00001200.safetensors
mkdir -p "$ROOT"

silver() { # a silver set of D, made once (the commands and the rules: docs/colloquial.md, levers b and b2)
  local runs=$1 out=$2; shift 2
  [ -f "$out" ] && return
  mkdir -p "$(dirname "$out")"
  resume=(); [ -f "$out.state.json" ] && resume=(--resume)
  deno task pseudo-label --model models/default --corpus ../shared/data/corpus --out "$out" --min-confidence 0.95 \
    --drop-types PS,OG "$@" --exclude "klue:$runs/klue/dev.tsv" --exclude "klue:$runs/klue/test.tsv" \
    --exclude "klue:$runs/kmou/dev.tsv" --exclude "klue:$runs/kmou/test.tsv" --exclude data/colloquial/dev.tsv \
    --exclude data/colloquial/test.tsv --threads "$THREADS" "${resume[@]}"
}

for lever in $levers; do
  grep -q "\"lever\":\"$lever\"" "$ROOT/levers.jsonl" 2>/dev/null && { echo "$lever: scored already"; continue; }
  case "$lever" in
    b) runs="$ROOT/b1" vars=(SILVER="$ROOT/silver/silver-d.tsv") silver_args=(--max-per-source 4000) ;;
    b2) runs="$ROOT/b2" vars=(SILVER="$ROOT/silver/silver-d-b2.tsv")
      silver_args=(--max-per-source 2000 --max-empty-share 0.5) ;;
    a) runs="$ROOT/a1" vars=(NOISE=1) ;;
    a2) runs="$ROOT/a2" vars=(LEXICON=data/lexicon/colloquial-names.tsv) ;;
    d) runs="$ROOT/dfit" vars=(FIT=all) ;;
    s) runs="$ROOT/dseed" vars=(SEED=43) ;;
    c) enc="$ROOT/mlm15-step-00001200.safetensors" runs="$ROOT/v9c" vars=(INIT=pretrained ENCODER="$enc")
      # Update 1,200 left models/pretrain-mlm15 when update 3,000 replaced it; git history keeps it.
      [ -f "$enc" ] || { git show "$MLM15_AT_1200" > "$enc.part" && mv "$enc.part" "$enc"; } ;;
    p) runs="$ROOT/v9d"
      vars=(INIT=pretrained ENCODER="${ENCODER:?lever p needs ENCODER=RUN/checkpoints/step-N.safetensors}") ;;
    *) echo "unknown lever '$lever' (a b b2 a2 d c s p)" >&2; exit 2 ;;
  esac
  if [ "$lever" = b ] || [ "$lever" = b2 ]; then
    RUNS="$runs" bash recipes/default-model.sh split
    silver "$runs" "${vars[0]#SILVER=}" "${silver_args[@]}"
  fi
  env RUNS="$runs" THREADS="$THREADS" "${vars[@]}" bash recipes/default-model.sh split vocab harmonize augment finetune adapt
  deno task eval --model "$runs/adapt" --data klue:data/colloquial/dev.tsv --split-by='-([a-z]+)$' \
    --report "$runs/eval-colloquial-dev.json" --threads "$THREADS"
  # The paired bootstrap against the shipped model on the same set: how much of the difference the set can see.
  rm -f "$runs/compare-colloquial-dev.json"
  deno task eval --model models/default --compare "$runs/adapt" --data klue:data/colloquial/dev.tsv \
    --split-by none --report "$runs/compare-colloquial-dev.json" --threads "$THREADS" > /dev/null
  deno eval 'const [lever, runs, out] = Deno.args;
    const read = (f) => { try { return JSON.parse(Deno.readTextFileSync(f)); } catch { return undefined; } };
    const c = read(`${runs}/eval-colloquial-dev.json`), sel = read(`${runs}/adapt/dev_report.json`);
    const boot = read(`${runs}/compare-colloquial-dev.json`)?.comparison.bootstrap;
    const interval = (m) => ({ diff: m.diff, low: m.low, high: m.high, better: m.bBetter });
    const line = { lever, runs, at: new Date().toISOString(), colloquial_dev: { micro: c.micro.f1,
      macro: c.macro.f1, no_entity_rate: c.noEntity.rate, flagged: c.noEntity.flagged,
      gold_empty: c.noEntity.sentences }, selection_dev_macro: sel?.macro.f1 ?? null,
      vs_shipped_colloquial_dev: boot && { macro: interval(boot.macro), micro: interval(boot.micro),
        no_entity_rate: interval(boot.noEntityRate) } };
    Deno.writeTextFileSync(out, JSON.stringify(line) + "\n", { append: true });
    console.log(JSON.stringify(line));' "$lever" "$runs" "$ROOT/levers.jsonl"
done
