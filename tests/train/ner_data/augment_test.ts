import assert from "node:assert/strict";
import {
  augment,
  type AugmentCounts,
  augmentOne,
  finalConsonant,
  givenName,
  mentionPool,
  parseLexicon,
} from "../../../train/ner_data/augment.ts";
import { ex, marked } from "./markup.ts";
import { scripted } from "../util/scripted_rng.ts";

Deno.test("finalConsonant() reads the final-consonant slot of a syllable", () => {
  assert.equal(finalConsonant("수"), 0); // no final consonant
  assert.equal(finalConsonant("민"), 4); // ㄴ
  assert.equal(finalConsonant("울"), 8); // ㄹ
  assert.equal(finalConsonant("A"), -1);
});

Deno.test("augmentOne() swaps a mention and re-agrees the particle after it", () => {
  const pool = new Map([["PS", ["민수", "김철민"]]]);
  const o = { swapTypes: ["PS"], swapRate: 1, colloquial: false };
  // 민수가 → 김철민이 (이/가), 민수를 → 김철민을, 민수는 → 김철민은, 민수로 → 김철민으로.
  for (
    const [from, to] of [["가", "이"], ["를", "을"], ["는", "은"], ["로", "으로"], ["와", "과"], [
      "랑",
      "이랑",
    ]]
  ) {
    const out = augmentOne(ex("a", `<민수:PS>${from} 왔다`), pool, o, scripted([0, 1]))!;
    assert.equal(marked(out), `<김철민:PS>${to} 왔다`, `particle ${from}`);
  }
  // 로 stays 로 after ㄹ: 서울로 ← 부산으로.
  const lc = augmentOne(
    ex("b", "<부산:LC>으로 간다"),
    new Map([["LC", ["부산", "서울"]]]),
    { ...o, swapTypes: ["LC"] },
    scripted([0, 1]),
  )!;
  assert.equal(marked(lc), "<서울:LC>로 간다");
  // A following syllable that is part of a word is not a particle: 민수가게 keeps 가게.
  assert.equal(marked(augmentOne(ex("c", "<민수:PS>가게"), pool, o, scripted([0, 1]))!), "<김철민:PS>가게");
});

Deno.test("augmentOne() makes written particles after entities spoken, and keeps offsets right", () => {
  const pool = new Map<string, string[]>();
  const o = { swapTypes: [], swapRate: 0, colloquial: true };
  const out = augmentOne(
    ex("a", "<민수:PS>와 <김철민:PS>과 <영희:PS>에게 <3일:DT>에 갔다"),
    pool,
    o,
    scripted([]),
  )!;
  assert.equal(marked(out), "<민수:PS>랑 <김철민:PS>이랑 <영희:PS>한테 <3일:DT>에 갔다");
  for (const e of out.entities) assert.ok(out.text.slice(e.start, e.end).length > 0);
  // Nothing to change: no copy.
  assert.equal(augmentOne(ex("b", "<민수:PS>가 왔다"), pool, o, scripted([])), undefined);
});

Deno.test("givenName() cuts a common surname off three-syllable names only", () => {
  assert.equal(givenName("김민수"), "민수");
  assert.equal(givenName("박서준"), "서준");
  assert.equal(givenName("민수"), undefined); // already a given name
  assert.equal(givenName("남궁민수"), undefined); // two-syllable surname: left whole
  assert.equal(givenName("뉴욕대"), undefined); // 뉴 is not a surname
  assert.equal(givenName("김A수"), undefined);
});

Deno.test("augmentOne() with givenNames cuts PS full names, after a swap, with the particle re-agreed", () => {
  const pool = new Map([["PS", ["김민수", "이철"]]]);
  const o = { swapTypes: ["PS"], swapRate: 1, colloquial: true, givenNames: 0.5 };
  // Draws: swap (next, int), then the given-name draw (next).
  assert.equal(
    marked(augmentOne(ex("a", "<김민수:PS>와 왔다"), pool, o, scripted([0.9, 0, 0.4]))!),
    "<민수:PS>랑 왔다",
  );
  assert.equal(
    augmentOne(ex("b", "<김민수:PS>가 왔다"), pool, o, scripted([0.9, 0, 0.6])),
    undefined,
    "draw ≥ rate",
  );
  // 이철 is swapped in for 김민수 (particle 가 → 이), then cut? No: 이철 has two syllables, left whole.
  assert.equal(
    marked(augmentOne(ex("c", "<김민수:PS>가 왔다"), pool, o, scripted([0, 1, 0]))!),
    "<이철:PS>이 왔다",
  );
  // Other types are never cut (every entity takes the swap draw, so the draws of a sentence stay aligned).
  const lc = augmentOne(ex("d", "<김포공:LC>에 간다"), pool, { ...o, swapTypes: [] }, scripted([]));
  assert.equal(lc, undefined);
  const counts = { swapped: 0, particlesSpoken: 0, particlesReagreed: 0, givenNames: 0 };
  augmentOne(ex("e", "<박서준:PS>이 왔다"), pool, { ...o, swapTypes: [] }, scripted([0.9, 0.1]), counts);
  assert.equal(counts.givenNames, 1);
});

Deno.test("augment() draws from the data's own mentions, is seeded, and leaves the originals out", () => {
  const data = [
    ex("1", "<민수:PS>가 <서울:LC>에 갔다"),
    ex("2", "<김철민:PS>이 <부산:LC>으로 왔다"),
    ex("3", "<영희:PS>와 <삼성전자:OG>에 다닌다"),
  ];
  assert.deepEqual(mentionPool(data, ["PS"]).get("PS"), ["민수", "김철민", "영희"]);
  const o = { swapTypes: ["PS", "LC"], swapRate: 1, colloquial: true, copies: 2, seed: 7 };
  const a = augment(data, o), b = augment(data, o);
  assert.deepEqual(a, b, "same seed, same copies");
  assert.ok(a.examples.length > 0 && a.examples.length <= 6);
  for (const e of a.examples) {
    assert.match(e.id, /^[123]~aug[12]$/);
    for (const x of e.entities) {
      const mention = e.text.slice(x.start, x.end);
      if (x.type !== "OG") {
        assert.ok(
          mentionPool(data, [x.type]).get(x.type)!.includes(mention),
          `${mention} comes from the data`,
        );
      }
    }
    assert.ok(!e.text.includes("와 ") && !e.text.includes("과 "), `spoken particles only: ${e.text}`);
  }
  assert.ok(a.swapped > 0);
  assert.throws(() => augment(data, { ...o, swapRate: 2 }), /swapRate must be in \[0, 1\]/);
  assert.throws(() => augment(data, { ...o, copies: 0 }), /copies must be a positive integer/);
  assert.throws(() => augment(data, { ...o, givenNames: -1 }), /givenNames must be in \[0, 1\]/);
  assert.deepEqual(augment(data, { ...o, givenNames: 0 }), a, "a zero rate draws nothing: the same copies");
});

Deno.test("augmentOne() drops case particles after entities, and makes each particle spoken at colloquialRate", () => {
  const pool = new Map<string, string[]>();
  const none = { swapTypes: [] as string[], swapRate: 0, colloquial: false };
  // Main draws: one per entity (no swap candidates). Noise draws: one per droppable particle found.
  const counts: AugmentCounts = { swapped: 0, particlesSpoken: 0, particlesReagreed: 0, givenNames: 0 };
  const drop = augmentOne(
    ex("a", "<민수:PS>가 <서울:LC>에 와서 <영희:PS>를 봤다"),
    pool,
    { ...none, dropParticles: 0.5 },
    scripted([0, 0, 0]),
    counts,
    scripted([0.2, 0.7]),
  )!;
  // 가 dropped (0.2), 에 is no case particle (no draw), 를 kept (0.7).
  assert.equal(marked(drop), "<민수:PS> <서울:LC>에 와서 <영희:PS>를 봤다");
  assert.equal(counts.particlesDropped, 1);
  const spoken = augmentOne(
    ex("b", "<민수:PS>와 <영희:PS>에게 말했다"),
    pool,
    { ...none, colloquial: true, colloquialRate: 0.5 },
    scripted([0, 0]),
    undefined,
    scripted([0.7, 0.2]),
  )!;
  assert.equal(marked(spoken), "<민수:PS>와 <영희:PS>한테 말했다");
});

Deno.test("augment() adds seeded noise from its own stream: without noise the copies are unchanged", () => {
  const data = [
    ex("1", "<민수:PS>가 <서울:LC>에 갔다"),
    ex("2", "<영희:PS>와 놀았어"),
    ex("3", "그냥 웃기다"),
  ];
  const o = { swapTypes: ["PS"], swapRate: 1, colloquial: true, copies: 1, seed: 3 };
  const plain = augment(data, o);
  const noise = { laughter: 0, interjections: 0, emoji: 0, dropSpaces: 1, doubleSpaces: 0 };
  const noisy = augment(data, { ...o, noise });
  // Every space dropped (none lies inside an entity): the same copies, spaces removed, offsets moved.
  assert.deepEqual(
    noisy.examples.filter((e) => e.id !== "3~aug1"),
    plain.examples.map((e) => {
      const text = e.text.replaceAll(" ", "");
      let at = 0;
      const entities = e.entities.map((x) => {
        const start = text.indexOf(e.text.slice(x.start, x.end), at);
        at = start + x.end - x.start;
        return { ...x, start, end: at };
      });
      return { ...e, text, entities };
    }),
  );
  // The sentence without entities now changes too, so it is copied.
  assert.equal(noisy.examples.find((e) => e.id === "3~aug1")?.text, "그냥웃기다");
  assert.equal(noisy.noise.spacesDropped, 2 + 1 + 1); // one per space of the three sentences
  assert.deepEqual(augment(data, { ...o, noise: { ...noise, dropSpaces: 0 } }), plain);
  assert.throws(() => augment(data, { ...o, noise: { ...noise, emoji: 2 } }), /emoji must be in \[0, 1\]/);
  assert.throws(() => augment(data, { ...o, dropParticles: -1 }), /dropParticles must be in \[0, 1\]/);
});

Deno.test("augment() with a lexicon: swaps of its types draw its names at lexiconRate, the other draws unchanged", () => {
  const data = [
    ex("1", "<민수:PS>가 <서울:LC>에 갔다"),
    ex("2", "<영희:PS>는 <부산:LC>으로 왔다"),
    ex("3", "<철수:PS>랑 <대구:LC>에서 만났다"),
  ];
  const o = { swapTypes: ["PS", "LC"], swapRate: 1, colloquial: false, copies: 2, seed: 5 };
  const lexicon = new Map([["LC", ["홍대", "성수동"]]]);
  const plain = augment(data, o);
  assert.deepEqual(augment(data, { ...o, lexicon, lexiconRate: 0 }), plain, "rate 0: the very same copies");
  const all = augment(data, { ...o, lexicon, lexiconRate: 1 });
  assert.ok(all.lexiconSwaps > 0 && all.lexiconSwaps <= all.swapped);
  for (const [i, e] of all.examples.entries()) {
    const [ps, lc] = e.entities.map((x) => e.text.slice(x.start, x.end));
    assert.ok(["홍대", "성수동"].includes(lc), `LC from the lexicon: ${e.text}`);
    // PS has no lexicon: its swap is the one made without a lexicon.
    const before = plain.examples[i];
    assert.equal(ps, before.text.slice(before.entities[0].start, before.entities[0].end));
  }
  // The particle after a lexicon name agrees with it: 홍대 + 에서/으로→로, 성수동 + 으로.
  for (const e of all.examples) assert.doesNotMatch(e.text, /홍대으로|성수동로 /, e.text);
  assert.throws(() => augment(data, { ...o, lexicon, lexiconRate: 1.5 }), /lexiconRate must be in \[0, 1\]/);
});

Deno.test("parseLexicon() reads TYPE<TAB>NAME lines once each; a bad line is named with its file and line", () => {
  const lex = parseLexicon("# places\nLC\t홍대\nLC\t홍대\n\nOG\t쿠팡이츠\r\nLC\t성수동\n", "lex.tsv");
  assert.deepEqual([...lex], [["LC", ["홍대", "성수동"]], ["OG", ["쿠팡이츠"]]]);
  assert.throws(() => parseLexicon("LC\t홍대\n홍대\n", "lex.tsv"), /lex\.tsv:2: expected TYPE<TAB>NAME/);
  assert.throws(() => parseLexicon("# nothing\n", "lex.tsv"), /lex\.tsv: no TYPE<TAB>NAME line/);
});
