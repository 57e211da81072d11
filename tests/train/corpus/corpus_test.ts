import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type CorpusIssue,
  type CorpusText,
  detectCorpusFormat,
  hash53,
  LineCleaner,
  listCorpusFiles,
  parseCsvRecord,
  parseFormat,
  readCorpora,
  readCorpusFile,
  readLines,
} from "../../../train/corpus/corpus.ts";

const dir = fileURLToPath(new URL("../../../fixtures/tokenizer/corpus/", import.meta.url));

async function read(file: string, issues: CorpusIssue[] = []): Promise<CorpusText[]> {
  const out: CorpusText[] = [];
  for await (const t of readCorpusFile(dir + file, { onIssue: (i) => issues.push(i) })) out.push(t);
  return out;
}

Deno.test("detectCorpusFormat() knows the shipped corpora by name", () => {
  assert.equal(detectCorpusFormat("/x/nsmc_reviews.txt"), "text");
  assert.equal(detectCorpusFormat("curse_detection.txt"), "pipe-label");
  assert.equal(detectCorpusFormat("parakqc.txt"), "label-label-tsv");
  assert.equal(detectCorpusFormat("3i4k_utterances.tsv"), "label-tsv");
  assert.equal(detectCorpusFormat("question_pair.csv"), "csv:question1,question2");
  assert.equal(detectCorpusFormat("chatbot_data.csv"), "csv:Q,A");
  assert.equal(detectCorpusFormat("other.txt"), "text");
  assert.throws(() => detectCorpusFormat("other.csv"), /--format csv:COLUMN/);
  assert.equal(parseFormat("csv:a,b"), "csv:a,b");
  assert.throws(() => parseFormat("json"), /Unknown corpus format "json"/);
});

Deno.test("readCorpusFile() reads plain text line by line, blank lines included", async () => {
  const rows = await read("nsmc_reviews.txt");
  assert.deepEqual(rows.map((r) => r.text), [
    "영화 정말 재밌어요 ㅋㅋ",
    "배우 연기가 너무 좋았다",
    "",
    "영화 정말 재밌어요 ㅋㅋ",
    "어제 강남역에서 민수랑 봤는데 최고😀",
  ]);
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 3, 4, 5]);
});

Deno.test("readCorpusFile() takes the text before the last | and reports lines without a label", async () => {
  const issues: CorpusIssue[] = [];
  const rows = await read("curse_detection.txt", issues);
  assert.deepEqual(rows.map((r) => [r.text, r.line]), [["오늘 날씨 좋네", 1], ["이런 |바보| 같은", 2], [
    " 서울 가고 싶다",
    4,
  ]]);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].line, 3);
  assert.match(issues[0].message, /Cannot parse line 3 of ".*curse_detection.txt": expected text\|label/);
});

Deno.test("readCorpusFile() reads the text column of TSV files with CRLF endings", async () => {
  assert.deepEqual((await read("parakqc.txt")).map((r) => r.text), ["메일 다 지울까?", "알람 좀 맞춰 줘"]);
  assert.deepEqual((await read("3i4k_utterances.tsv")).map((r) => r.text), ["고급", "내일 뭐 해?"]);
});

Deno.test("readCorpusFile() parses CSV with a BOM, quotes, doubled quotes and multi-line fields", async () => {
  const qp = await read("question_pair.csv");
  assert.deepEqual(qp.map((r) => [r.text, r.line]), [
    ["이별 후 힘들어", 2],
    ["헤어지고 나서, 너무 힘들다", 2],
    ['따옴표 "인용" 질문', 3],
    ["두 번째 질문", 3],
  ]);
  const issues: CorpusIssue[] = [];
  const chat = await read("chatbot_data.csv", issues);
  assert.deepEqual(chat.map((r) => [r.text, r.line]), [
    ["12시 땡!", 2],
    ["하루가 또 가네요.", 2],
    ["가족 있어?", 3],
    ["저를 만든 사람, 그리고\n친구들이요", 3],
  ]);
  assert.equal(issues.length, 1);
  assert.match(
    issues[0].message,
    /Cannot parse line 5 of ".*chatbot_data.csv": expected 3 CSV fields, found 2/,
  );
  assert.deepEqual(parseCsvRecord('a,"b,c",,"d""e"'), ["a", "b,c", "", 'd"e']);
});

Deno.test("readCorpusFile() rejects a CSV whose header lacks the asked columns, naming the file", async () => {
  await assert.rejects(
    async () => {
      for await (
        const _ of readCorpusFile(dir + "chatbot_data.csv", { format: "csv:question1" })
      ) { /* drain */ }
    },
    /Cannot parse line 1 of ".*chatbot_data.csv": expected a header with columns question1, found Q,A,label/,
  );
});

Deno.test("readLines() skips invalid UTF-8 and binary lines with file and line, keeping the rest", async () => {
  const tmp = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    const enc = new TextEncoder();
    const bytes = [
      enc.encode("첫 줄\n"),
      new Uint8Array([0xed, 0x95, 0x9c, 0xff, 0xfe, 0x0a]), // "한" then invalid bytes
      enc.encode("셋째 줄\r\n"),
      new Uint8Array([0x00, 0x01, 0x02, 0x89, 0x50, 0x4e, 0x47, 0x0a]), // binary with NUL
      enc.encode("마지막 줄"), // no final newline
    ];
    await Deno.writeFile(tmp, new Uint8Array(bytes.flatMap((b) => [...b])));
    const issues: CorpusIssue[] = [];
    const lines = [];
    for await (const l of readLines(tmp, { onIssue: (i) => issues.push(i) })) lines.push(l);
    assert.deepEqual(lines, [{ text: "첫 줄", line: 1 }, { text: "셋째 줄", line: 3 }, {
      text: "마지막 줄",
      line: 5,
    }]);
    assert.deepEqual(issues, [
      { file: tmp, line: 2, message: `Cannot read line 2 of "${tmp}": invalid UTF-8` },
      { file: tmp, line: 4, message: `Cannot read line 4 of "${tmp}": binary data (NUL byte)` },
    ]);
  } finally {
    await Deno.remove(tmp);
  }
});

Deno.test("readLines() skips an over-long line (a binary blob) without holding it in memory", async () => {
  const tmp = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    const blob = new Uint8Array(3000).fill(0x41);
    const enc = new TextEncoder();
    await Deno.writeFile(tmp, new Uint8Array([...enc.encode("앞\n"), ...blob, ...enc.encode("\n뒤\n")]));
    const issues: CorpusIssue[] = [];
    const lines = [];
    for await (const l of readLines(tmp, { onIssue: (i) => issues.push(i), maxLineBytes: 1000 })) {
      lines.push(l);
    }
    assert.deepEqual(lines.map((l) => l.text), ["앞", "뒤"]);
    assert.equal(issues.length, 1);
    assert.match(issues[0].message, /Cannot read line 2 of ".*": longer than 1000 bytes/);
  } finally {
    await Deno.remove(tmp);
  }
});

Deno.test("listCorpusFiles() expands folders in sorted order and ignores licence files", async () => {
  const files = await listCorpusFiles([dir]);
  assert.deepEqual(files.map((f) => f.slice(dir.length)), [
    "3i4k_utterances.tsv",
    "chatbot_data.csv",
    "curse_detection.txt",
    "nsmc_reviews.txt",
    "parakqc.txt",
    "question_pair.csv",
  ]);
  let n = 0;
  for await (const _ of readCorpora([dir], { onIssue: () => {} })) n++;
  assert.equal(n, 2 + 4 + 3 + 5 + 2 + 4);
  await assert.rejects(
    () => listCorpusFiles(["/no/such/corpus"]),
    /Corpus path "\/no\/such\/corpus" does not exist/,
  );
});

Deno.test("LineCleaner normalises to NFC and drops duplicates and over-long lines", () => {
  const c = new LineCleaner({ maxChars: 10 });
  const nfd = "한국어".normalize("NFD");
  assert.equal(c.clean(`  ${nfd} `), "한국어");
  assert.equal(c.clean("한국어"), null); // duplicate once normalised
  assert.equal(c.clean("   "), "");
  assert.equal(c.clean("가".repeat(11)), null);
  assert.equal(c.clean("줄\n바꿈"), "줄 바꿈");
  assert.deepEqual(c.stats, { lines: 5, kept: 2, empty: 1, duplicate: 1, tooLong: 1 });
  assert.notEqual(hash53("ab"), hash53("ba"));
  assert.ok(Number.isSafeInteger(hash53("가나다")));
});
