import assert from "node:assert/strict";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { BasicTokenizer } from "../../infer/basic_tokenizer.ts";

const vocabText = await Deno.readTextFile(new URL("../../fixtures/tokenizer/vocab.txt", import.meta.url));
const tok = WordPieceTokenizer.fromVocab(vocabText);

/** Tokens with their offsets, without [CLS]/[SEP], as `token@start-end` strings (easy to read in a diff). */
function pieces(text: string): string[] {
  const e = tok.encode(text, { addSpecialTokens: false });
  return e.tokens.map((t, i) => `${t}@${e.offsets[i][0]}-${e.offsets[i][1]}`);
}

Deno.test("encode() splits the seed sentence into whole words and ## pieces", () => {
  const text = "한국어 구어체 특화 개체명 인식기입니다.";
  const e = tok.encode(text);
  assert.deepEqual(e.tokens, [
    "[CLS]",
    "한국어",
    "구어",
    "##체",
    "특화",
    "개체",
    "##명",
    "인식",
    "##기",
    "##입니다",
    ".",
    "[SEP]",
  ]);
  assert.deepEqual(e.ids, [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3]);
  assert.deepEqual(e.offsets, [
    [0, 0],
    [0, 3],
    [4, 6],
    [6, 7],
    [8, 10],
    [11, 13],
    [13, 14],
    [15, 17],
    [17, 18],
    [18, 21],
    [21, 22],
    [0, 0],
  ]);
  assert.deepEqual(e.wordIds, [null, 0, 1, 1, 2, 3, 3, 4, 4, 4, 5, null]);
  assert.deepEqual(e.specialTokensMask, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  for (let i = 1; i < e.tokens.length - 1; i++) {
    assert.equal(text.slice(...e.offsets[i]), e.tokens[i].replace(/^##/, ""));
  }
});

Deno.test("encode() handles spoken Korean with particles", () => {
  assert.deepEqual(pieces("어제 강남역에서 민수랑 만났어"), [
    "어제@0-2",
    "강남@3-5",
    "##역@5-6",
    "##에서@6-8",
    "민수@9-11",
    "##랑@11-12",
    "만났@13-15",
    "##어@15-16",
  ]);
});

Deno.test("encode() keeps emoji offsets in UTF-16 units", async (t) => {
  await t.step("emoji glued to a word is a ## piece of it", () => {
    assert.deepEqual(pieces("좋아요😀 어제"), ["좋아@0-2", "##요@2-3", "##😀@3-5", "어제@6-8"]);
  });
  await t.step("offsets after two emoji still point at the right text", () => {
    const text = "😀😀 민수랑";
    assert.deepEqual(pieces(text), ["😀@0-2", "##😀@2-4", "민수@5-7", "##랑@7-8"]);
    assert.equal(text.slice(5, 7), "민수");
  });
  await t.step("a zero-width joiner is dropped without splitting the word", () => {
    assert.deepEqual(pieces("😀\u200d😀 민수"), ["😀@0-2", "##😀@3-5", "민수@6-8"]);
  });
  await t.step("a word with an unknown emoji becomes one [UNK] over the whole word", () => {
    assert.deepEqual(pieces("좋아요🎉 어제"), ["[UNK]@0-5", "어제@6-8"]);
  });
});

Deno.test("encode() splits numbers greedily and isolates punctuation", () => {
  assert.deepEqual(pieces("1000 2024년"), ["1@0-1", "##00@1-3", "##0@3-4", "2024@5-9", "##년@9-10"]);
  assert.deepEqual(pieces("1,000!"), ["1@0-1", ",@1-2", "[UNK]@2-5", "!@5-6"]);
});

Deno.test("encode() splits URLs at every punctuation character", () => {
  const e = tok.encode("https://www.example.com", { addSpecialTokens: false });
  assert.deepEqual(e.tokens, ["https", ":", "/", "/", "www", ".", "example", ".", "com"]);
  assert.deepEqual(e.offsets, [[0, 5], [5, 6], [6, 7], [7, 8], [8, 11], [11, 12], [12, 19], [19, 20], [
    20,
    23,
  ]]);
  assert.deepEqual(e.wordIds, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("encode() handles mixed scripts, CJK ideographs and accents", async (t) => {
  await t.step("Latin glued to Hangul stays one word", () => {
    assert.deepEqual(pieces("NER모델 Hello"), ["NER@0-3", "##모델@3-5", "Hello@6-11"]);
  });
  await t.step("each CJK ideograph is a word of its own, Hangul around it is not", () => {
    assert.deepEqual(pieces("서울漢字에"), ["서울@0-2", "漢@2-3", "字@3-4", "[UNK]@4-5"]);
    assert.deepEqual(tok.encode("서울漢字에", { addSpecialTokens: false }).wordIds, [0, 1, 2, 3]);
  });
  await t.step("accents are kept (no NFD) when not lower-casing", () => {
    assert.deepEqual(pieces("café"), ["caf@0-3", "##é@3-4"]);
    // Decomposed é: the combining mark stays, and "##\u0301" is not in the vocabulary.
    assert.deepEqual(pieces("cafe\u0301"), ["[UNK]@0-5"]);
  });
  await t.step("Hangul is never decomposed into jamo", () => {
    assert.deepEqual(tok.tokenize("한국어"), ["한국어"]);
  });
});

Deno.test("encode() drops control characters and splits on Unicode spaces", async (t) => {
  await t.step("NUL and BEL vanish without ending the word; tab splits", () => {
    assert.deepEqual(pieces("민수\u0000랑 \t어제\u0007"), ["민수@0-2", "##랑@3-4", "어제@6-8"]);
  });
  await t.step("a zero-width space is a format character: removed, not a separator", () => {
    assert.deepEqual(pieces("어제\u200b민수"), ["[UNK]@0-5"]);
  });
  await t.step("ideographic space and no-break space separate words", () => {
    assert.deepEqual(pieces("어제\u3000민수\u00a0랑"), ["어제@0-2", "민수@3-5", "[UNK]@6-7"]);
  });
  await t.step("a lone surrogate and U+FFFD are removed", () => {
    assert.deepEqual(pieces("어제\ud800 민수\ufffd"), ["어제@0-2", "민수@4-6"]);
  });
  await t.step("CR LF between words", () => {
    assert.deepEqual(pieces("어제\r\n민수"), ["어제@0-2", "민수@4-6"]);
  });
});

Deno.test("encode() of empty or blank input is [CLS] [SEP]", () => {
  for (const text of ["", "   ", "\n\t ", "\u0000"]) {
    const e = tok.encode(text);
    assert.deepEqual(e.tokens, ["[CLS]", "[SEP]"]);
    assert.deepEqual(e.offsets, [[0, 0], [0, 0]]);
    assert.deepEqual(e.wordIds, [null, null]);
    assert.deepEqual(e.specialTokensMask, [1, 1]);
  }
  assert.deepEqual(tok.encode("", { addSpecialTokens: false }).ids, []);
});

Deno.test("encode() turns a word over 100 characters into one [UNK]", () => {
  assert.deepEqual(pieces("ㅋ".repeat(101)), ["[UNK]@0-101"]);
  const ok = tok.encode("ㅋ".repeat(100), { addSpecialTokens: false });
  assert.equal(ok.tokens.length, 99);
  assert.deepEqual(ok.tokens.slice(0, 2), ["ㅋㅋ", "##ㅋ"]);
  // The limit counts code points, not UTF-16 units: 60 emoji are 120 units but 60 characters.
  assert.equal(tok.encode("😀".repeat(60), { addSpecialTokens: false }).tokens.length, 60);
});

Deno.test("encode() keeps special tokens typed in the text whole", () => {
  const e = tok.encode("어제 [SEP] 민수[MASK]", { addSpecialTokens: false });
  assert.deepEqual(e.tokens, ["어제", "[SEP]", "민수", "[MASK]"]);
  assert.deepEqual(e.offsets, [[0, 2], [3, 8], [9, 11], [11, 17]]);
  assert.deepEqual(e.wordIds, [0, 1, 2, 3]);
  // "[" is not in the fixture vocabulary, so a broken special token is two unknown words.
  assert.deepEqual(pieces("[SEP"), ["[UNK]@0-1", "[UNK]@1-4"]);
});

Deno.test("encode() truncates to maxLength including special tokens", () => {
  const e = tok.encode("한국어 구어체 특화 개체명", { maxLength: 5 });
  assert.deepEqual(e.tokens, ["[CLS]", "한국어", "구어", "##체", "[SEP]"]);
});

Deno.test("encodePair() builds [CLS] A [SEP] B [SEP] with type ids", () => {
  const e = tok.encodePair("어제 민수", "강남역에서");
  assert.deepEqual(e.tokens, ["[CLS]", "어제", "민수", "[SEP]", "강남", "##역", "##에서", "[SEP]"]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(e.sequenceIds, [null, 0, 0, null, 1, 1, 1, null]);
  assert.deepEqual(e.wordIds, [null, 0, 1, null, 0, 0, 0, null]);
  assert.deepEqual(e.offsets[5], [2, 3]);
  const cut = tok.encodePair("어제 민수 어제", "강남역에서", { maxLength: 7 });
  assert.deepEqual(cut.tokens, ["[CLS]", "어제", "민수", "[SEP]", "강남", "##역", "[SEP]"]);
});

Deno.test("decode() glues ## pieces and tidies punctuation", () => {
  const e = tok.encode("한국어 구어체 특화 개체명 인식기입니다.");
  assert.equal(tok.decode(e.ids), "[CLS] 한국어 구어체 특화 개체명 인식기입니다. [SEP]");
  assert.equal(tok.decode(e.ids, { skipSpecialTokens: true }), "한국어 구어체 특화 개체명 인식기입니다.");
});

Deno.test("vocabulary accessors agree with vocab.txt", () => {
  assert.equal(tok.vocabSize, 57);
  assert.deepEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId], [0, 1, 2, 3, 4]);
  assert.equal(tok.tokenToId("##입니다"), 13);
  assert.equal(tok.idToToken(13), "##입니다");
  assert.equal(tok.tokenToId("없는토큰"), undefined);
  assert.equal(tok.toVocabTxt(), vocabText);
  assert.throws(() => WordPieceTokenizer.fromVocab("a\nb\n"), /no \[UNK\] token/);
});

Deno.test("toTokenizerJson() round-trips and matches the Hugging Face layout", () => {
  // deno-lint-ignore no-explicit-any
  const json = tok.toTokenizerJson() as Record<string, any>;
  assert.equal(json.model.type, "WordPiece");
  assert.equal(json.model.vocab["##체"], 7);
  assert.deepEqual(json.normalizer, {
    type: "BertNormalizer",
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase: false,
  });
  assert.deepEqual(json.added_tokens.map((t: { content: string }) => t.content), SPECIALS);
  const again = WordPieceTokenizer.fromTokenizerJson(JSON.stringify(json));
  for (
    const text of [
      "한국어 구어체 특화 개체명 인식기입니다.",
      "좋아요😀 [SEP] 漢字",
      "https://www.example.com",
    ]
  ) {
    assert.deepEqual(again.encode(text), tok.encode(text));
  }
});

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

Deno.test("fromTokenizerJson() reads a BertProcessing tokenizer.json written by Hugging Face", () => {
  const vocab: Record<string, number> = {};
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "##s", "world"].forEach((t, i) => vocab[t] = i);
  const t = WordPieceTokenizer.fromTokenizerJson({
    version: "1.0",
    added_tokens: SPECIALS.map((content, id) => ({ id, content, special: true, normalized: false })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: { type: "BertProcessing", sep: ["[SEP]", 3], cls: ["[CLS]", 2] },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  });
  const e = t.encode("Héllos WORLD");
  assert.deepEqual(e.tokens, ["[CLS]", "hello", "##s", "world", "[SEP]"]);
  assert.deepEqual(e.offsets, [[0, 0], [0, 5], [5, 6], [7, 12], [0, 0]]);
  assert.throws(() => WordPieceTokenizer.fromTokenizerJson({ model: { type: "BPE" } }), /WordPiece/);
});

Deno.test("BasicTokenizer.words() reports original offsets", () => {
  const b = new BasicTokenizer();
  assert.deepEqual(b.words("안녕, 世界!"), [
    { word: "안녕", start: 0, end: 2 },
    { word: ",", start: 2, end: 3 },
    { word: "世", start: 4, end: 5 },
    { word: "界", start: 5, end: 6 },
    { word: "!", start: 6, end: 7 },
  ]);
});

Deno.test("encode() offsets stay inside the text and never split a surrogate pair", () => {
  // A deterministic stream of awkward characters: Hangul, emoji, controls, spaces, punctuation, CJK.
  const alphabet = [
    "어",
    "제",
    "민",
    "수",
    "😀",
    "🎉",
    "\u0000",
    "\u200d",
    " ",
    "\n",
    ".",
    "漢",
    "1",
    "0",
    "é",
    "a",
  ];
  let seed = 12345;
  for (let n = 0; n < 300; n++) {
    let text = "";
    const len = n % 40;
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      text += alphabet[seed % alphabet.length];
    }
    const e = tok.encode(text, { addSpecialTokens: false });
    let last = 0;
    for (const [s, end] of e.offsets) {
      assert.ok(s >= last && end > s && end <= text.length, `bad offsets in ${JSON.stringify(text)}`);
      assert.ok(!/^[\udc00-\udfff]/.test(text.slice(s)), "starts inside a surrogate pair");
      assert.ok(!/^[\udc00-\udfff]/.test(text.slice(end)) || end === text.length, "ends inside a pair");
      last = end;
    }
    for (let i = 0; i < e.tokens.length; i++) {
      if (e.tokens[i] === "[UNK]") continue;
      const span = text.slice(...e.offsets[i]).replaceAll("\u0000", "").replaceAll("\u200d", "");
      assert.equal(span, e.tokens[i].replace(/^##/, ""));
    }
  }
});
