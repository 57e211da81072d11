/**
 * Inference throughput: sentences/s and tokens/s for batch inference (batch × sequence, default 32 × 128,
 * the PyTorch peer's shape) on a full-size ELECTRA-small token-classification graph with random weights
 * and on the tiny fixture, per provider (onnxruntime-node `cpu`, onnxruntime-web `wasm`), plus the whole
 * pipeline (tokenise → windows → batches → decode) on real sentences with the fixture model.
 * Called by `deno task bench`; runnable alone: `deno run -A bench/inference_bench.ts`.
 * @module
 */
import { ELECTRA_SMALL, electraConfig, withLabels } from "../onnx/electra/config.ts";
import { buildTokenClassificationGraph, FAST_INFERENCE } from "../onnx/electra/token_classification.ts";
import { openSession, type Provider } from "../onnx/runtime.ts";
import { loadRecognizer } from "../infer/pipeline.ts";
import { decodeModel, encodeModel } from "../onnx/proto.ts";
import { int8Compute } from "../onnx/quantize.ts";

/** Options of `benchInference`. */
export interface InferenceBenchOptions {
  batch?: number;
  seq?: number;
  providers?: Provider[];
  /** Measure the full-size ELECTRA-small graph (default true). */
  full?: boolean;
  /** Seconds of timed runs per case (at least `minRuns`). */
  seconds?: number;
  minRuns?: number;
  /** wasm threads (default 1 under Deno, as the runtime adapter uses). */
  threads?: number;
  /** Only the full-size graph, with int8 dense layers (`int8Compute`, what `deno task quantize --int8-variant` ships). */
  int8?: boolean;
}

const LABELS = ["O", ...["PS", "LC", "OG", "DT", "TI", "QT"].flatMap((t) => [`B-${t}`, `I-${t}`])];

/** Inference tokens/s on synthetic ids at B × T: one warm-up run, then runs for `seconds` (at least `minRuns`). */
export async function timeInference(
  model: Uint8Array,
  provider: Provider,
  vocab: number,
  B: number,
  T: number,
  seconds: number,
  minRuns: number,
  threads?: number,
): Promise<{ tokensPerS: number; sentencesPerS: number; msPerBatch: number }> {
  const session = await openSession(model, { provider, threads });
  const ids = new BigInt64Array(B * T);
  let x = 12345;
  for (let i = 0; i < ids.length; i++) {
    ids[i] = BigInt(5 + ((x = (x * 1103515245 + 12345) >>> 0) % (vocab - 5)));
  }
  const feeds = {
    input_ids: { dtype: "int64" as const, dims: [B, T], data: ids },
    attention_mask: { dtype: "int64" as const, dims: [B, T], data: new BigInt64Array(B * T).fill(1n) },
    token_type_ids: { dtype: "int64" as const, dims: [B, T], data: new BigInt64Array(B * T) },
  };
  await session.run(feeds); // warm-up: first run allocates and plans
  let runs = 0;
  const t0 = performance.now();
  while (runs < minRuns || performance.now() - t0 < seconds * 1000) {
    await session.run(feeds);
    runs++;
  }
  const s = (performance.now() - t0) / 1000;
  await session.release();
  return { tokensPerS: (runs * B * T) / s, sentencesPerS: (runs * B) / s, msPerBatch: (s * 1000) / runs };
}

/** Runs the inference benchmarks; keys are `<model>_<provider>_<metric>`, plus `inference_tokens_per_s` (full size, cpu). */
export async function benchInference(opts: InferenceBenchOptions = {}): Promise<Record<string, number>> {
  const B = opts.batch ?? 32, T = opts.seq ?? 128;
  const providers = opts.providers ?? ["cpu", "wasm"];
  const seconds = opts.seconds ?? 3, minRuns = opts.minRuns ?? 3;
  const out: Record<string, number> = { batch: B, seq: T };
  const fixtureOnnx = await Deno.readFile(new URL("../fixtures/ner-tiny/inference.onnx", import.meta.url));
  const fixtureVocab =
    (await Deno.readTextFile(new URL("../fixtures/ner-tiny/vocab.txt", import.meta.url))).trimEnd().split(
      "\n",
    ).length;
  const models: [string, Uint8Array, number][] = opts.int8 ? [] : [["fixture", fixtureOnnx, fixtureVocab]];
  if (opts.full ?? true) {
    const config = withLabels(
      electraConfig({ ...ELECTRA_SMALL, maxPositionEmbeddings: Math.max(512, T) }),
      LABELS,
    );
    const t0 = performance.now();
    // The graph layout an inference folder ships (`inferenceFolderFiles`).
    const bytes = buildTokenClassificationGraph({ config, seed: 1, ...FAST_INFERENCE }).toBytes();
    out.small_build_ms = performance.now() - t0;
    if (opts.int8) {
      models.push(["small_int8", encodeModel(int8Compute(decodeModel(bytes))), config.vocabSize]);
    } else models.push(["small", bytes, config.vocabSize]);
  }
  for (const [name, bytes, vocab] of models) {
    for (const provider of providers) {
      const r = await timeInference(
        bytes,
        provider,
        vocab,
        B,
        T,
        seconds,
        minRuns,
        provider === "cpu" ? undefined : opts.threads,
      );
      out[`${name}_${provider}_tokens_per_s`] = r.tokensPerS;
      out[`${name}_${provider}_sentences_per_s`] = r.sentencesPerS;
      out[`${name}_${provider}_ms_per_batch`] = r.msPerBatch;
    }
  }
  if (out.small_cpu_tokens_per_s) out.inference_tokens_per_s = out.small_cpu_tokens_per_s;
  if (opts.int8) {
    out.inference_tokens_per_s = out.small_int8_cpu_tokens_per_s;
    return out;
  }
  // End to end on the fixture: tokenisation, windows, length-sorted batches, decoding included.
  const sentences = [
    "어제 강남역에서 민수랑 만났어",
    "오늘 세시에 삼성 회사에서 영희를 봤어요 😀 ㅋㅋ",
    "내일 부산에서 철수하고 카카오 사람 만나요",
    "대한민국 서울 학교에서 10시까지 공부했다",
    "네이버 회사는 어디에 있어요?",
    "그 사람이 3개를 샀어 ㅎㅎ",
  ];
  const texts = Array.from({ length: 1024 }, (_, i) => sentences[i % sentences.length]);
  for (const provider of providers) {
    const ner = await loadRecognizer(new URL("../fixtures/ner-tiny/", import.meta.url), {
      provider,
      batchSize: B,
    });
    await ner.recognize(texts.slice(0, B));
    const t0 = performance.now();
    await ner.recognize(texts);
    const s = (performance.now() - t0) / 1000;
    out[`pipeline_fixture_${provider}_sentences_per_s`] = texts.length / s;
    out[`pipeline_fixture_${provider}_tokens_per_s`] = ner.lastStats!.tokens / s;
    await ner.release();
  }
  return out;
}

if (import.meta.main) {
  const r = await benchInference({ seconds: Number(Deno.env.get("BENCH_SECONDS") ?? 3) });
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(40)} ${v.toFixed(1)}`);
}
