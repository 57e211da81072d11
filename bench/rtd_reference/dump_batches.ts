/**
 * Writes pretraining examples from our shards as raw int32 arrays for `torch_rtd.py`, the PyTorch reference
 * of our replaced-token-detection pretraining (a diagnostic: is a learning curve the model's or a bug's?).
 *
 * `deno run -A bench/rtd_reference/dump_batches.ts --data SHARDS --out DIR [--count 40000] [--seq 128] [--seed 5]`
 * writes DIR/{input_ids,token_type_ids,attention_mask}.bin ((count, seq) int32, row-major) and DIR/meta.json.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { intFlag, runMain, usageError } from "../../cli/util.ts";
import { openShards } from "../../train/pretrain_data/shards.ts";
import { Rng } from "../../train/util/rng.ts";
import { writeFileAtomic } from "../../train/util/fs.ts";

const USAGE =
  "Usage: deno run -A bench/rtd_reference/dump_batches.ts --data SHARDS --out DIR [--count 40000] [--seq 128] [--seed 5]";

/** Parses arguments, draws `count` examples in a seeded order, writes them; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      count: { type: "string", default: "40000" },
      seq: { type: "string", default: "128" },
      seed: { type: "string", default: "5" },
    },
  });
  if (!values.data || !values.out) return usageError(USAGE, "--data and --out are required");
  const data = await openShards(values.data);
  const count = Math.min(intFlag("count", values.count, 1), data.length), seq = intFlag("seq", values.seq, 2);
  const order = new Rng(intFlag("seed", values.seed, 0), "rtd-reference").permutation(data.length).slice(
    0,
    count,
  );
  const b = data.batch(order, seq);
  await Deno.mkdir(values.out, { recursive: true });
  const bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  await writeFileAtomic(join(values.out, "input_ids.bin"), bytes(b.inputIds));
  await writeFileAtomic(join(values.out, "token_type_ids.bin"), bytes(b.segmentIds));
  await writeFileAtomic(join(values.out, "attention_mask.bin"), bytes(b.attentionMask));
  const meta = { source: values.data, examples: count, seq_length: seq, vocab_size: data.index.vocabSize };
  await writeFileAtomic(join(values.out, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  console.log(`${count} examples of ${seq} tokens → ${values.out}`);
  return 0;
}

if (import.meta.main) await runMain("dump_batches", main);
