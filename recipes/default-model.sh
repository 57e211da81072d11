#!/usr/bin/env bash
# The default model's recipe: split → vocab → [pretraining data → pretraining] → harmonisation → [augmentation] →
# fine-tuning → adaptation → evaluation → models/default.
# Every stage skips work that is already done and training stages resume from their last checkpoint, so the
# script can be run again after a stop (sessions here are killed after 3 hours).
# Usage: bash recipes/default-model.sh [stage…]   (stages: split vocab data pretrain harmonize augment finetune adapt
#        eval ship; default: all that INIT needs)
# Env: RUNS (default /work/nersota-runs/default, outside the work tree so it survives a fresh checkout),
#      PRETRAIN_STEPS (stop this invocation after N updates; the schedule stays that of the config),
#      THREADS (default 2),
#      FINETUNE_CONFIG (default configs/default/finetune.json),
#      The defaults make the shipped (sixth) model; AUGMENT=0 HARMONIZE_RELATIVE=0 GIVEN_NAMES=0 DEV=klue make the
#      fifth's recipe.
#      AUGMENT: 1 (default) adds augmented copies of the train sides (deno task augment: mentions swapped within
#      their type, spoken particles) as two more fine-tuning sources; 0 does not.
#      HARMONIZE_RELATIVE: 1 (default) makes the harmonisation also count dates that start with a word as tagging
#      it (지난해 in 지난해 11월), join such a word to a KMOU date right after it, and add the relative day words
#      (어제, 그제, 그저께, 모레) that KLUE train is thin on; 0 does not.
#      GIVEN_NAMES: the augmentation's chance of cutting a PS full name to the given name (default 0.3).
#      DEV: both (default: KLUE dev + KMOU dev, 696 sentences) or klue (KLUE dev, 228) for keeping the best epoch.
#      INIT: random (default: the shipped model's start) or pretrained (fine-tune the encoder of the pretrain stage).
#      ENCODER: with INIT=pretrained, the encoder to fine-tune instead of the pretrain stage's: a pretraining
#      checkpoint (RUN/checkpoints/step-N.safetensors, read with RUNS/vocab.txt) or a model folder; the data and
#      pretrain stages are then skipped.
#      SYMBOLS: drop (default) or keep: the shipped model's symbolEntities (entities with no letter or digit).
#      MIN_SCORE: the shipped model's minScore, a floor on entity scores (default 0: none; docs/colloquial.md,
#      lever e3, has the floors measured): written into the shipped nersota.json and applied by the eval stage;
#      fine-tuning and adaptation choose their epochs without it.
#      FIT: split (default: train on the train sides, keep the epoch that scores best on DEV) or all (issue 19's
#      lever d: KLUE dev and the harmonised KMOU dev join the training data, augmented with it; fine-tuning stops
#      after epoch FIT_EPOCHS (default 8, the epoch run D kept) of the same schedule, adaptation keeps its last
#      epoch; no dev set is read, and the vocabulary stays that of the train sides).
#      SILVER: a silver KLUE TSV (deno task pseudo-label; docs/self-training.md) listed once more as a fine-tuning
#      source (issue 19's lever b); empty (default): none.
#      LEXICON: a TYPE<TAB>NAME file whose names the augmentation's swaps also draw (deno task augment --lexicon,
#      at rate 0.5; issue 19's lever a2: data/lexicon/colloquial-names.tsv), written to RUNS/augmented*-lexicon;
#      empty (default): none.
#      SEED: the fine-tuning and adaptation seed (init, data order, dropout); empty (default): the configs' own
#      (42). Another seed runs the same recipe again, to measure the spread between runs.
#      NOISE: 1 adds colloquial noise (laughter, interjections, emoji, spaces dropped and doubled, case particles
#      dropped; docs/colloquial.md) to the augmented copies, written to RUNS/augmented-noise; 0 (default) does not.
#      At our CPU compute, fine-tuning from random weights beat fine-tuning from our pretrained encoders
#      (docs/history.md), so by default the data and pretrain stages are skipped: INIT=pretrained runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-/work/nersota-runs/default}
DATA=../shared/data
THREADS=${THREADS:-2}
deno() { npx --yes deno@2.9.6 "$@"; }
INIT=${INIT:-random}
FINETUNE_CONFIG=${FINETUNE_CONFIG:-configs/default/finetune.json}
AUGMENT=${AUGMENT:-1}
HARMONIZE_RELATIVE=${HARMONIZE_RELATIVE:-1}
GIVEN_NAMES=${GIVEN_NAMES:-0.3}
DEV=${DEV:-both}
ENCODER=${ENCODER:-}
NOISE=${NOISE:-0}
SYMBOLS=${SYMBOLS:-drop}
MIN_SCORE=${MIN_SCORE:-0}
FIT=${FIT:-split}
SILVER=${SILVER:-}
LEXICON=${LEXICON:-}
FIT_EPOCHS=${FIT_EPOCHS:-8}
SEED=${SEED:-}
seed=(); [ -n "$SEED" ] && seed=(--seed "$SEED")
case "$INIT" in
  random) default_stages="split vocab harmonize augment finetune adapt eval ship" ;;
  pretrained) default_stages="split vocab data pretrain harmonize augment finetune adapt eval ship"
    [ -n "$ENCODER" ] && default_stages="split vocab harmonize augment finetune adapt eval ship" ;;
  *) echo "INIT must be random or pretrained, got '$INIT'" >&2; exit 2 ;;
esac
stages=${*:-$default_stages}
MODEL="$RUNS/adapt" # the fine-tuned folder that is evaluated and shipped
AUGMENTED="$RUNS/augmented"; [ "$NOISE" = 1 ] && AUGMENTED="$RUNS/augmented-noise"
[ "$FIT" = all ] && AUGMENTED="$AUGMENTED-fit"
[ -n "$LEXICON" ] && AUGMENTED="$AUGMENTED-lexicon"
case "$DEV" in
  klue) dev=(--dev "klue:$RUNS/klue/dev.tsv") ;;
  both) dev=(--dev "klue:$RUNS/klue/dev.tsv" --dev "klue:$RUNS/kmou/dev.tsv:kmou-klue") ;;
  *) echo "DEV must be klue or both, got '$DEV'" >&2; exit 2 ;;
esac
# The labelled data fine-tuning and adaptation learn from: the train sides, or (FIT=all) train + dev.
KLUE_TRAIN="$RUNS/klue/train.tsv" KMOU_TRAIN="$RUNS/harmonized/kmou-train.tsv" fit_stop=()
case "$FIT" in
  split) ;;
  all) KLUE_TRAIN="$RUNS/fit/klue-train.tsv" KMOU_TRAIN="$RUNS/fit/kmou-train.tsv" dev=()
    fit_stop=(--stop-after-epochs "$FIT_EPOCHS") ;;
  *) echo "FIT must be split or all, got '$FIT'" >&2; exit 2 ;;
esac
has() { [[ " $stages " == *" $1 "* ]]; }
mkdir -p "$RUNS"

if has split; then
  # KLUE half: 70/10/20 by id hash (seed 0); KMOU: EXOBRAIN 009 dev, 010 test (pytorch-bert-crf-ner's files).
  [ -f "$RUNS/klue/split.json" ] || deno task split --data "klue:$DATA/klue-ner/klue-ner-v1.1_dev_even.tsv" \
    --out "$RUNS/klue" --dev 0.1 --test 0.2 --seed 0
  [ -f "$RUNS/kmou/split.json" ] || deno task split --data "kmou:$DATA/kmou-ner/corpus" --out "$RUNS/kmou" \
    --dev 0 --test 0 --pin 'EXOBRAIN_NE_CORPUS_009:=dev' --pin 'EXOBRAIN_NE_CORPUS_010:=test'
fi
if has vocab; then
  # Pretraining corpora plus the NER training texts (train sides only: test sentences never shape the vocab).
  [ -f "$RUNS/vocab.txt" ] || deno task vocab --corpus "$DATA/corpus" --corpus "$RUNS/klue/train.txt" \
    --corpus "$RUNS/kmou/train.txt" --size 8000 --out "$RUNS/vocab.txt" --tokenizer-json "$RUNS/tokenizer.json"
fi
if has data; then
  [ -f "$RUNS/shards/index.json" ] || deno task build-data --corpus "$DATA/corpus" --corpus "$RUNS/klue/train.txt" \
    --corpus "$RUNS/kmou/train.txt" --vocab "$RUNS/vocab.txt" --max-seq-length 128 --out "$RUNS/shards" \
    --num-processes 2 --seed 42
fi
if has pretrain; then
  resume=(); [ -e "$RUNS/pretrain/checkpoints" ] || [ -e "$RUNS/pretrain/run.json" ] && resume=(--resume)
  limit=(); [ -n "${PRETRAIN_STEPS:-}" ] && limit=(--stop-after "$PRETRAIN_STEPS")
  # The fourth model's encoder: stopped at update 4,801 of a 10,000-update schedule (docs/history.md says why).
  deno task pretrain --data "$RUNS/shards" --config configs/default/pretrain-10k.json --out "$RUNS/pretrain" \
    --stop-at 4801 --threads "$THREADS" "${resume[@]}" "${limit[@]}"
fi
if has harmonize; then
  # KMOU's guideline leaves untagged what KLUE tags (relative dates such as 이날/올해 as DT, parts of day as TI,
  # counts as QT): hundreds of KMOU sentences would teach the model to leave them out. Words the KLUE train side
  # tags at least half the times they occur get KLUE's type where KMOU left them untagged (train/ner_data/harmonize.ts).
  mkdir -p "$RUNS/harmonized"
  relative=()
  [ "$HARMONIZE_RELATIVE" = 1 ] &&
    relative=(--heads --merge --word 어제:DT --word 그제:DT --word 그저께:DT --word 모레:DT)
  # The test side too, as a second view of the KMOU test scores in KLUE's guideline (the lexicon comes from KLUE
  # train only).
  sides=(train test); [ "$FIT" = all ] && sides+=(dev)
  for side in "${sides[@]}"; do
    [ -f "$RUNS/harmonized/kmou-$side.tsv" ] || deno task harmonize --reference "klue:$RUNS/klue/train.tsv" \
      --data "klue:$RUNS/kmou/$side.tsv:kmou-klue" --out "$RUNS/harmonized/kmou-$side.tsv" \
      --report "$RUNS/harmonized/kmou-$side.json" "${relative[@]}"
  done
fi
if [ "$FIT" = all ] && { has harmonize || has augment || has finetune || has adapt; }; then
  # Train + dev, one file each (the splits end with a blank line, so they concatenate sentence by sentence).
  mkdir -p "$RUNS/fit"
  [ -f "$KLUE_TRAIN" ] || cat "$RUNS/klue/train.tsv" "$RUNS/klue/dev.tsv" > "$KLUE_TRAIN"
  [ -f "$KMOU_TRAIN" ] || cat "$RUNS/harmonized/kmou-train.tsv" "$RUNS/harmonized/kmou-dev.tsv" > "$KMOU_TRAIN"
fi
if has augment && [ "$AUGMENT" = 1 ]; then
  # Spoken Korean puts 랑/이랑 and 한테 where news writes 와/과 and 에게, and a tagger trained on few names learns
  # the names: one augmented copy of each train side, mentions of PS/LC/OG swapped within their type at rate 0.5
  # (the particle after a swapped mention re-agreed), a GIVEN_NAMES share of PS full names cut to the given name as
  # speech names people (김민수 → 민수), written particles after entities made spoken.
  # NOISE=1: the same copies with chat noise at per-gap rates, plus copies that only the noise changed.
  # LEXICON: swaps may also draw names the data lacks (colloquial places and brands).
  flags=()
  [ -n "$LEXICON" ] && flags+=(--lexicon "$LEXICON")
  [ "$NOISE" = 1 ] && flags+=(--laughter 0.05 --interjections 0.03 --emoji 0.03 --drop-spaces 0.1
    --double-spaces 0.02 --drop-particles 0.3)
  mkdir -p "$AUGMENTED"
  for source in "klue=$KLUE_TRAIN" "kmou=$KMOU_TRAIN"; do
    name=${source%%=*}
    [ -f "$AUGMENTED/$name-train.tsv" ] || deno task augment --data "klue:${source#*=}" --colloquial \
      --seed 0 --given-names "$GIVEN_NAMES" "${flags[@]}" --out "$AUGMENTED/$name-train.tsv" \
      --report "$AUGMENTED/$name-train.json"
  done
fi
if has finetune; then
  extra=()
  [ "$AUGMENT" = 1 ] && extra=(--train "klue:$AUGMENTED/klue-train.tsv" --train "klue:$AUGMENTED/kmou-train.tsv")
  [ -n "$SILVER" ] && extra+=(--train "klue:$SILVER")
  resume=(); [ -e "$RUNS/finetune/checkpoints" ] || [ -e "$RUNS/finetune/run.json" ] && resume=(--resume)
  # The KLUE half is listed three times: its guideline (QT counts, TI durations, relative dates as DT) is what
  # the model must speak, and it has 1,807 training sentences against KMOU's 23,033.
  if [ "$INIT" = random ]; then
    start=(--init random --config configs/default/model.json --vocab "$RUNS/vocab.txt")
  elif [ -n "$ENCODER" ]; then
    start=(--model "$ENCODER" --vocab "$RUNS/vocab.txt")
  else
    start=(--model "$RUNS/pretrain/discriminator")
  fi
  deno task finetune "${start[@]}" --train-config "$FINETUNE_CONFIG" "${fit_stop[@]}" \
    --train "klue:$KLUE_TRAIN" --train "klue:$KLUE_TRAIN" --train "klue:$KLUE_TRAIN" \
    --train "klue:$KMOU_TRAIN" "${extra[@]}" "${dev[@]}" "${seed[@]}" \
    --threads "$THREADS" --out "$RUNS/finetune" "${resume[@]}"
fi
if has adapt; then
  # KLUE's guideline differs from KMOU's (relative dates such as 오늘 are DT, counts QT, parts of day TI), and
  # KMOU is most of the fine-tuning data: a short continuation on the KLUE train side alone adapts to it.
  resume=(); [ -e "$RUNS/adapt/checkpoints" ] || [ -e "$RUNS/adapt/run.json" ] && resume=(--resume)
  # Entities with no letter or digit (jamo laughter, emoji) are never names, places, dates or amounts: the shipped
  # model leaves them out (nersota.json's symbolEntities; docs/colloquial.md has the rule and the measurements).
  deno task finetune --model "$RUNS/finetune" --train-config configs/default/adapt.json \
    --train "klue:$KLUE_TRAIN" "${dev[@]}" "${seed[@]}" --threads "$THREADS" --out "$RUNS/adapt" \
    --symbol-entities "$SYMBOLS" "${resume[@]}"
fi
if has eval; then
  floor=(); [ "$MIN_SCORE" = 0 ] || floor=(--min-score "$MIN_SCORE") # the float32 folder scored as it will ship
  deno task eval --model "$MODEL" --data "klue:$RUNS/klue/test.tsv" "${floor[@]}" \
    --report "$RUNS/eval-klue-test.json" --errors "$RUNS/errors-klue-test.jsonl"
  deno task eval --model "$MODEL" --data "klue:$RUNS/kmou/test.tsv" --map kmou-klue "${floor[@]}" \
    --report "$RUNS/eval-kmou-test.json" --errors "$RUNS/errors-kmou-test.jsonl"
  # The shipped copy stores its weights as int8 (4x smaller), plus an int8-computation variant (CPU, faster);
  # the scores of both are measured, not assumed.
  rm -rf "$RUNS/finetune-int8"
  deno task quantize --model "$MODEL" --weights int8 --out "$RUNS/finetune-int8" --int8-variant
  # The shipped copy's entity score floor (a decoding setting, chosen on the dev sets after training).
  deno eval 'const [dir, floor] = Deno.args; const f = `${dir}/nersota.json`; const m = JSON.parse(Deno.readTextFileSync(f));
    if (Number(floor) > 0) m.minScore = Number(floor); else delete m.minScore;
    Deno.writeTextFileSync(`${f}.tmp`, JSON.stringify(m, null, 2) + "\n"); Deno.renameSync(`${f}.tmp`, f);' \
    "$RUNS/finetune-int8" "$MIN_SCORE"
  deno task eval --model "$RUNS/finetune-int8" --data "klue:$RUNS/klue/test.tsv" --report "$RUNS/eval-klue-test-int8.json"
  deno task eval --model "$RUNS/finetune-int8" --data "klue:$RUNS/kmou/test.tsv" --map kmou-klue \
    --report "$RUNS/eval-kmou-test-int8.json"
  deno task eval --model "$RUNS/finetune-int8" --data "klue:$RUNS/harmonized/kmou-test.tsv" \
    --report "$RUNS/eval-kmou-test-harmonized-int8.json"
  deno task eval --model "$RUNS/finetune-int8" --variant int8 --data "klue:$RUNS/klue/test.tsv" \
    --report "$RUNS/eval-klue-test-int8-compute.json"
  deno task eval --model "$RUNS/finetune-int8" --variant int8 --data "klue:$RUNS/kmou/test.tsv" --map kmou-klue \
    --report "$RUNS/eval-kmou-test-int8-compute.json"
  # The hand-labelled colloquial sets (docs/colloquial.md), by style; F1 and the no-entity rate.
  for side in test dev; do
    deno task eval --model "$MODEL" --data "klue:data/colloquial/$side.tsv" --split-by='-([a-z]+)$' "${floor[@]}" \
      --report "$RUNS/eval-colloquial-$side.json" --errors "$RUNS/errors-colloquial-$side.jsonl"
    deno task eval --model "$RUNS/finetune-int8" --data "klue:data/colloquial/$side.tsv" --split-by='-([a-z]+)$' \
      --report "$RUNS/eval-colloquial-$side-int8.json"
  done
  deno task eval --model "$RUNS/finetune-int8" --variant int8 --data "klue:data/colloquial/test.tsv" \
    --split-by='-([a-z]+)$' --report "$RUNS/eval-colloquial-test-int8-compute.json"
fi
if has ship; then
  rm -rf models/default && mkdir -p models/default
  for f in config.json vocab.txt inference.onnx inference.int8.onnx nersota.json; do
    cp "$RUNS/finetune-int8/$f" "models/default/$f"
  done
  # The float32 weights, so that users fine-tune from (and export) the model itself, not its int8 rounding.
  cp "$MODEL/model.safetensors" models/default/model.safetensors
  if [ -f "$MODEL/crf.safetensors" ]; then cp "$MODEL/crf.safetensors" models/default/crf.safetensors; fi
  for f in eval-klue-test eval-kmou-test eval-klue-test-int8 eval-kmou-test-int8 eval-klue-test-int8-compute \
    eval-kmou-test-int8-compute eval-kmou-test-harmonized-int8 eval-colloquial-test eval-colloquial-test-int8 \
    eval-colloquial-test-int8-compute eval-colloquial-dev-int8; do
    # Reports without the machine-specific paths they were run from.
    deno eval 'const [a, b] = Deno.args; const r = JSON.parse(Deno.readTextFileSync(a)); delete r.model;
      r.data = (r.data ?? []).map((d) => ({ ...d, path: d.path.split("/").slice(-2).join("/") }));
      Deno.writeTextFileSync(b, JSON.stringify(r, null, 2) + "\n");' "$RUNS/$f.json" "models/default/$f.json"
  done
  # The pretraining run's record: the recipe's own, or the run folder that holds ENCODER (RUN/checkpoints/step-N
  # or RUN/encoder).
  pretrain=(); [ "$INIT" = pretrained ] && pretrain=(--pretrain "$RUNS/pretrain")
  if [ "$INIT" = pretrained ] && [ -n "$ENCODER" ]; then
    run=$(dirname "$ENCODER"); [[ "$ENCODER" == *.safetensors ]] && run=$(dirname "$run")
    pretrain=(--pretrain "$run")
  fi
  deno task model-card --spec configs/default/card.json --runs "$RUNS" "${pretrain[@]}" \
    --finetune "$RUNS/finetune" --finetune "$RUNS/adapt" --model models/default
fi
