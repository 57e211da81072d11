import assert from "node:assert/strict";
import { join } from "node:path";
import {
  encodeShard,
  openShards,
  type RawExample,
  Shard,
  shardFileName,
  type ShardIndex,
  writeShardIndex,
} from "../../../train/pretrain_data/shards.ts";

const examples: RawExample[] = [
  { ids: [2, 10, 11, 3, 20, 3], segmentALength: 4 },
  { ids: [2, 12, 3], segmentALength: 3 },
  { ids: [2, 13, 14, 15, 16, 3], segmentALength: 6 },
];

Deno.test("encodeShard() and Shard round-trip ids and segment ids", async (t) => {
  for (const vocabSize of [35000, 70000]) {
    await t.step(`${vocabSize <= 65536 ? 2 : 4}-byte ids`, () => {
      const bytes = encodeShard(examples, 8, vocabSize);
      const shard = new Shard(bytes);
      assert.equal(shard.count, 3);
      assert.equal(shard.tokens, 15);
      assert.equal(shard.maxSeqLength, 8);
      assert.deepEqual(shard.example(0), {
        inputIds: Int32Array.of(2, 10, 11, 3, 20, 3),
        segmentIds: Int32Array.of(0, 0, 0, 0, 1, 1),
        length: 6,
      });
      assert.deepEqual(Array.from(shard.example(1).segmentIds), [0, 0, 0]);
      assert.deepEqual(Array.from(shard.example(2).inputIds), [2, 13, 14, 15, 16, 3]);
      assert.throws(() => shard.example(3), RangeError);
    });
  }
  // 2-byte ids: 32-byte header + 16 offsets + 8 segment lengths (6 rounded up) + 32 ids (30 rounded up).
  assert.equal(encodeShard(examples, 8, 35000).length, 32 + 16 + 8 + 32);
  assert.equal(new Shard(encodeShard([], 8, 100)).count, 0);
  assert.throws(() => encodeShard(examples, 5, 100), /example of 6 tokens > maxSeqLength 5/);
});

Deno.test("Shard rejects damaged files with a clear message", () => {
  const bytes = encodeShard(examples, 8, 35000);
  const flipped = bytes.slice();
  flipped[bytes.length - 3] ^= 0xff;
  assert.throws(() => new Shard(flipped, "a.bin"), /Shard "a.bin" is corrupt: checksum mismatch/);
  assert.throws(
    () => new Shard(bytes.subarray(0, bytes.length - 4), "a.bin"),
    /corrupt: \d+ bytes, expected \d+/,
  );
  const magic = bytes.slice();
  magic[0] = 0x58;
  assert.throws(() => new Shard(magic, "a.bin"), /bad magic/);
  assert.throws(() => new Shard(new Uint8Array(5), "a.bin"), /shorter than its header/);
});

Deno.test("Shard reads a view at an odd byte offset", () => {
  const bytes = encodeShard(examples, 8, 35000);
  const holder = new Uint8Array(bytes.length + 1);
  holder.set(bytes, 1);
  assert.deepEqual(Array.from(new Shard(holder.subarray(1)).example(0).inputIds), [2, 10, 11, 3, 20, 3]);
});

async function writeSet(dir: string): Promise<void> {
  const parts = [examples.slice(0, 2), examples.slice(2)];
  const shards = [];
  for (let k = 0; k < parts.length; k++) {
    await Deno.writeFile(join(dir, shardFileName(k)), encodeShard(parts[k], 8, 35000));
    shards.push({ file: shardFileName(k), examples: parts[k].length, tokens: 0 });
  }
  const index: ShardIndex = {
    format: "nersota-pretraining-shards",
    version: 1,
    maxSeqLength: 8,
    vocabSize: 35000,
    shards,
    examples: 3,
    tokens: 15,
  };
  await writeShardIndex(dir, index);
}

Deno.test("openShards() gives random access, iteration and padded batches across shards", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeSet(dir);
    const set = await openShards(dir, { cacheShards: 1 });
    assert.equal(set.length, 3);
    assert.deepEqual(Array.from(set.get(2).inputIds), [2, 13, 14, 15, 16, 3]);
    assert.deepEqual(Array.from(set.get(0).inputIds), [2, 10, 11, 3, 20, 3]); // evicts and reloads
    assert.deepEqual([...set].map((e) => e.length), [6, 3, 6]);
    const b = set.batch([1, 0], 5);
    assert.equal(b.seqLength, 5);
    assert.deepEqual(Array.from(b.inputIds), [2, 12, 3, 0, 0, 2, 10, 11, 3, 20]);
    assert.deepEqual(Array.from(b.segmentIds), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    assert.equal(set.batch([0]).inputIds.length, 8);
    assert.throws(() => set.get(3), /example 3 out of range 0..2/);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["index.json", "shard-00000.bin", "shard-00001.bin"], "no temporary files left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openShards() reports a missing index and a shard that disagrees with it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => openShards(dir), /Cannot read shard index ".*index.json"/);
    await writeSet(dir);
    await Deno.writeFile(join(dir, shardFileName(1)), encodeShard(examples, 8, 35000));
    const set = await openShards(dir);
    assert.throws(() => set.get(2), /holds 3 examples, index.json says 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
