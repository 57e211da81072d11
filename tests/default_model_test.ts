/**
 * The shipped default model (models/default/) on sentences written by hand for this test (checked absent from
 * the training and test data), fixed before the first default model was trained: every expected entity is a
 * type plus a key string that the predicted entity's text must contain, and at least 80% must be found. It
 * prints the rate and every miss, and never accepts a type outside KLUE's six. Each model's count is in
 * docs/history.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRecognizer } from "../infer/pipeline.ts";
import { graphWeights } from "../onnx/graph_weights.ts";
import { decodeModel } from "../onnx/proto.ts";
import { readWeightsFolder } from "../train/release/weights_folder.ts";

const MODEL = new URL("../models/default/", import.meta.url);

/** [sentence, [type, key text][]]: spoken and online style first, then news style. */
export const HAND_WRITTEN: [string, [string, string][]][] = [
  ["어제 강남역에서 민수랑 만났어", [["DT", "어제"], ["LC", "강남역"], ["PS", "민수"]]],
  ["다음 주 월요일에 부산으로 출장 가요", [["DT", "월요일"], ["LC", "부산"]]],
  ["오후 3시에 서울역 앞에서 보자", [["TI", "3시"], ["LC", "서울역"]]],
  ["송강호 연기 진짜 미쳤다 ㅋㅋ 두 번 봤음", [["PS", "송강호"], ["QT", "두 번"]]],
  ["엄마랑 내일 제주도 가서 흑돼지 먹을 거야", [["DT", "내일"], ["LC", "제주도"]]],
  ["삼성전자가 오늘 새 스마트폰을 공개했다", [["OG", "삼성전자"], ["DT", "오늘"]]],
  ["김철수 의원은 지난 3월 국회에서 법안을 발의했다", [["PS", "김철수"], ["DT", "3월"], ["OG", "국회"]]],
  ["서울시는 올해 공원 5곳을 새로 만들 계획이다", [["OG", "서울시"], ["DT", "올해"], ["QT", "5곳"]]],
];

const KLUE_TYPES = new Set(["PS", "LC", "OG", "DT", "TI", "QT"]);

Deno.test("the shipped default model finds the entities of hand-written sentences", async () => {
  const ner = await loadRecognizer(MODEL);
  try {
    let found = 0, total = 0;
    const misses: string[] = [];
    for (const [text, expected] of HAND_WRITTEN) {
      const entities = await ner.recognize(text);
      for (const e of entities) {
        assert.ok(KLUE_TYPES.has(e.type), `"${text}": type ${e.type} is not one of KLUE's six`);
        assert.equal(text.slice(e.start, e.end), e.text, "offsets index the input string");
      }
      let hits = 0;
      for (const [type, key] of expected) {
        const hit = entities.some((e) => e.type === type && e.text.includes(key));
        if (hit) hits++;
        else {misses.push(`${type} "${key}" in "${text}" (got ${
            entities.map((e) => `${e.type}:${e.text}`).join(", ") || "nothing"
          })`);}
      }
      found += hits;
      total += expected.length;
    }
    console.log(
      `default model: ${found}/${total} hand-written entities found${
        misses.length ? `; missed: ${misses.join("; ")}` : ""
      }`,
    );
    assert.ok(found / total >= 0.8, `only ${found}/${total} entities found; missed: ${misses.join("; ")}`);
  } finally {
    await ner.release();
  }
});

Deno.test("the shipped default model's card names its licences and scores", async () => {
  const card = await Deno.readTextFile(new URL("README.md", MODEL));
  assert.match(card, /non-commercial use only/);
  assert.match(card, /CC BY-SA 4\.0/);
  assert.match(card, /\| \*\*KLUE test\*\* \|/);
  const meta = JSON.parse(await Deno.readTextFile(new URL("nersota.json", MODEL)));
  assert.equal(meta.format, "nersota-inference");
});

Deno.test("the shipped float32 weights are the ones the shipped graph was quantised from", async () => {
  const dir = fileURLToPath(MODEL);
  const { model, notice } = await readWeightsFolder(dir);
  assert.equal(notice, undefined, "read from model.safetensors, not out of the graph");
  const graph = graphWeights(decodeModel(await Deno.readFile(join(dir, "inference.onnx"))), "inference.onnx");
  const int8 = new Set(graph.int8);
  const missing = Object.keys(model.weights).filter((n) => !graph.tensors[n]);
  assert.deepEqual(missing, [], "every float32 weight is in the graph");
  for (const [name, w] of Object.entries(model.weights)) {
    const a = w.data as Float32Array, b = graph.tensors[name].data as Float32Array;
    assert.deepEqual(graph.tensors[name].dims, w.dims, name);
    if (!int8.has(name)) {
      assert.deepEqual(b, a, `${name} is stored float32 in the graph: the same values`);
      continue;
    }
    // Symmetric int8, per channel: within half a step of the channel's scale, so of the tensor's largest value.
    let big = 0, err = 0;
    for (let i = 0; i < a.length; i++) {
      big = Math.max(big, Math.abs(a[i]));
      err = Math.max(err, Math.abs(a[i] - b[i]));
    }
    assert.ok(err <= (big / 127 / 2) * 1.0001, `${name}: off by ${err}, half a step is ≤ ${big / 254}`);
  }
});
