/**
 * Training-data augmentation for spoken Korean NER: copies of labelled sentences with entity mentions swapped
 * for other mentions of the same type (mention replacement, Dai & Adel 2020), with the particle after each
 * changed mention re-agreed with its last syllable (민수가 → 김철민이), and optionally with written particles
 * after entities turned into their spoken forms (민수와 → 민수랑, 민수에게 → 민수한테), and optionally with
 * full names cut to the given name (김민수가 → 민수가), as speech names people. News-heavy training
 * data (KMOU, KLUE wikitree) rarely has the spoken forms, and a small set of training names makes a tagger
 * learn the names rather than their contexts. Optionally, case particles after entities are dropped as
 * speech drops them (민수가 왔어 → 민수 왔어), and colloquial noise (train/ner_data/noise.ts: laughter, interjections,
 * emoji around entities, spaces dropped and doubled) is added to each copy, and swaps may draw names the data
 * lacks from a lexicon (colloquial places and brands: `parseLexicon`).
 * @module
 */
import type { NerExample, TypedSpan } from "./datasets/types.ts";
import { addNoise, checkNoise, hasNoise, type NoiseCounts, type NoiseOptions } from "./noise.ts";
import { Rng } from "../util/rng.ts";

/** What `augment` does. */
export interface AugmentOptions {
  /** Types whose mentions are swapped for other mentions of the same type from the data (e.g. PS, LC, OG). */
  swapTypes: readonly string[];
  /** Chance that one mention of a swap type is swapped. */
  swapRate: number;
  /** Turn written particles right after an entity into spoken ones (와/과 → 랑/이랑, 에게 → 한테). */
  colloquial: boolean;
  /**
   * Chance that a PS mention of a surname and a two-syllable given name (after any swap) is cut to the given
   * name (김민수가 → 민수가): speech names people so, news rarely does. 0 (the default) draws nothing.
   */
  givenNames?: number;
  /** With `colloquial`, the chance that each written particle is made spoken (default 1: every one). */
  colloquialRate?: number;
  /** Chance that a case particle right after an entity (이/가, 은/는, 을/를) is dropped, as speech does. */
  dropParticles?: number;
  /** Colloquial noise added to each copy (train/ner_data/noise.ts); none when absent or all rates are 0. */
  noise?: NoiseOptions;
  /** Names per type that swaps may draw instead of the data's mentions (names the data lacks: `parseLexicon`). */
  lexicon?: ReadonlyMap<string, readonly string[]>;
  /** Chance that a swap of a type the lexicon has draws its name from the lexicon (default 0: never). */
  lexiconRate?: number;
  /** Augmented copies made of each sentence (a copy that changes nothing is left out). */
  copies: number;
  seed: number;
}

/** What `augment` returns: the new sentences (originals not included) and counts of what changed. */
export interface AugmentResult {
  examples: NerExample[];
  swapped: number;
  particlesSpoken: number;
  particlesReagreed: number;
  /** PS mentions cut to their given name. */
  givenNames: number;
  /** Case particles dropped after entities. */
  particlesDropped: number;
  /** Swaps whose name came from the lexicon (counted in `swapped` too). */
  lexiconSwaps: number;
  /** Insertions and space changes of the noise. */
  noise: NoiseCounts;
}

/** Running counts of `augmentOne` (the fields added after the first four are optional for older callers). */
export interface AugmentCounts {
  swapped: number;
  particlesSpoken: number;
  particlesReagreed: number;
  givenNames: number;
  particlesDropped?: number;
  lexiconSwaps?: number;
  noise?: NoiseCounts;
}

/** Common Korean one-syllable surnames (the ones covering most people; rarer ones are left whole). */
const SURNAMES = new Set(
  "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국은편용예봉경",
);
const GIVEN_NAME = /^[\uac00-\ud7a3]{3}$/u;

/** The given name of a three-syllable Korean full name with a common surname, else undefined. */
export function givenName(name: string): string | undefined {
  return GIVEN_NAME.test(name) && SURNAMES.has(name[0]) ? name.slice(1) : undefined;
}

const HANGUL_FIRST = 0xac00, HANGUL_LAST = 0xd7a3;
const RIEUL = 8; // index of ㄹ among the 28 final-consonant slots

/** The final consonant slot of a Hangul syllable (0: none), or -1 for any other character. */
export function finalConsonant(ch: string): number {
  const c = ch.codePointAt(0) ?? -1;
  return c >= HANGUL_FIRST && c <= HANGUL_LAST ? (c - HANGUL_FIRST) % 28 : -1;
}

/**
 * Particles whose form depends on the syllable before them: [after a consonant, after a vowel]. 으로/로 also
 * takes 로 after ㄹ. Longer forms first, so that 이랑 is not read as 이 + 랑.
 */
const PAIRS: [string, string][] = [
  ["이랑", "랑"],
  ["으로", "로"],
  ["과", "와"],
  ["은", "는"],
  ["이", "가"],
  ["을", "를"],
  ["아", "야"],
];

/** Case particles that speech drops after a name or place (민수가 왔어 → 민수 왔어). */
const DROPPABLE = new Set(["이", "가", "은", "는", "을", "를"]);

/** Written particle → spoken particle pair ([after a consonant, after a vowel]). */
const SPOKEN: [string, [string, string]][] = [
  ["에게서", ["한테서", "한테서"]],
  ["에게", ["한테", "한테"]],
  ["과", ["이랑", "랑"]],
  ["와", ["이랑", "랑"]],
];

/** Whether `text[i]` ends a particle: end of text or a character that is not a Hangul syllable. */
function boundary(text: string, i: number): boolean {
  return i >= text.length || finalConsonant(text[i]) < 0;
}

/** The form of a particle pair after `word`'s last syllable (or undefined when that is not Hangul). */
function formAfter(word: string, pair: [string, string]): string | undefined {
  const f = finalConsonant(word.at(-1) ?? "");
  if (f < 0) return undefined;
  if (pair[0] === "으로") return f === 0 || f === RIEUL ? pair[1] : pair[0];
  return f === 0 ? pair[1] : pair[0];
}

/**
 * The particle right after an entity, as one of the pairs, when it stands alone (followed by a space,
 * punctuation or the end): [length in the text, pair].
 */
function particleAt(text: string, i: number): [number, [string, string]] | undefined {
  for (const pair of PAIRS) {
    for (const form of pair) {
      if (text.startsWith(form, i) && boundary(text, i + form.length)) return [form.length, pair];
    }
  }
  return undefined;
}

/** Distinct mention strings per type, in first-seen order (the pool swaps draw from). */
export function mentionPool(
  examples: readonly NerExample[],
  types: readonly string[],
): Map<string, string[]> {
  const pool = new Map<string, Set<string>>(types.map((t) => [t, new Set()]));
  for (const ex of examples) {
    for (const e of ex.entities) pool.get(e.type)?.add(ex.text.slice(e.start, e.end));
  }
  return new Map([...pool].map(([t, s]) => [t, [...s]]));
}

/**
 * One augmented copy of `ex` (or undefined when nothing changed): each entity of a swap type is replaced,
 * with probability `swapRate`, by a mention of its type drawn from `pool`, and the particle after a changed
 * mention is re-agreed; with `colloquial`, written particles after every entity become spoken ones (each at
 * `colloquialRate`); case particles after entities are dropped at `dropParticles`; then `noise` is added.
 * The draws for the options added after the first (particle rate, drops, noise) come from `noiseRng`, so
 * that leaving them out gives the very copies that earlier versions gave.
 */
export function augmentOne(
  ex: NerExample,
  pool: Map<string, string[]>,
  o: Pick<
    AugmentOptions,
    | "swapTypes"
    | "swapRate"
    | "colloquial"
    | "givenNames"
    | "colloquialRate"
    | "dropParticles"
    | "noise"
    | "lexicon"
    | "lexiconRate"
  >,
  rng: Rng,
  counts: AugmentCounts = { swapped: 0, particlesSpoken: 0, particlesReagreed: 0, givenNames: 0 },
  noiseRng: Rng = rng,
  lexiconRng: Rng = noiseRng,
): NerExample | undefined {
  const spokenRate = o.colloquialRate ?? 1;
  let text = "", cursor = 0;
  const entities: TypedSpan[] = [];
  for (const [i, e] of ex.entities.entries()) {
    if (e.start < cursor) return undefined; // overlapping entities: leave such a sentence alone
    text += ex.text.slice(cursor, e.start);
    let mention = ex.text.slice(e.start, e.end);
    const candidates = o.swapTypes.includes(e.type) ? pool.get(e.type) ?? [] : [];
    // A draw for every entity, swapped or not, so one sentence's choices don't shift the next's.
    const draw = rng.next(), pick = candidates.length ? rng.int(candidates.length) : 0;
    let changed = false;
    const names = o.lexiconRate && o.swapTypes.includes(e.type) ? o.lexicon?.get(e.type) ?? [] : [];
    // Lexicon draws come from their own stream, made only where a lexicon name can be drawn: the rest stay.
    const fromLexicon = draw < o.swapRate && names.length > 0 && lexiconRng.next() < o.lexiconRate!;
    const swap = fromLexicon
      ? names[lexiconRng.int(names.length)]
      : draw < o.swapRate && candidates.length > 1
      ? candidates[pick]
      : undefined;
    if (swap !== undefined && swap !== mention) {
      mention = swap;
      changed = true;
      counts.swapped++;
      if (fromLexicon) counts.lexiconSwaps = (counts.lexiconSwaps ?? 0) + 1;
    }
    if (o.givenNames && e.type === "PS") {
      const given = givenName(mention);
      if (rng.next() < o.givenNames && given) {
        mention = given;
        changed = true;
        counts.givenNames++;
      }
    }
    entities.push({ start: text.length, end: text.length + mention.length, type: e.type });
    text += mention;
    cursor = e.end;
    // Entities are sorted and (checked above) apart, so the next one bounds the particle.
    const limit = ex.entities[i + 1]?.start ?? ex.text.length;
    let particle = "";
    if (o.colloquial) {
      for (const [written, spoken] of SPOKEN) {
        if (ex.text.startsWith(written, cursor) && cursor + written.length <= limit) {
          const form = formAfter(mention, spoken);
          const drawn = spokenRate >= 1 || noiseRng.next() < spokenRate;
          if (form !== undefined && boundary(ex.text, cursor + written.length) && drawn) {
            particle = form;
            cursor += written.length;
            counts.particlesSpoken++;
          }
          break;
        }
      }
    }
    let dropped = false;
    if (!particle && o.dropParticles) {
      const found = particleAt(ex.text, cursor);
      const form = found && ex.text.slice(cursor, cursor + found[0]);
      if (
        found && form && DROPPABLE.has(form) && cursor + found[0] <= limit &&
        noiseRng.next() < o.dropParticles
      ) {
        cursor += found[0];
        dropped = true;
        counts.particlesDropped = (counts.particlesDropped ?? 0) + 1;
      }
    }
    if (!particle && !dropped && changed) {
      const found = particleAt(ex.text, cursor);
      if (found && cursor + found[0] <= limit) {
        const form = formAfter(mention, found[1]);
        if (form !== undefined) {
          const old = ex.text.slice(cursor, cursor + found[0]);
          if (form !== old) counts.particlesReagreed++;
          particle = form;
          cursor += found[0];
        }
      }
    }
    text += particle;
  }
  text += ex.text.slice(cursor);
  let out: NerExample = { id: ex.id, text, entities };
  if (o.noise && hasNoise(o.noise)) {
    counts.noise ??= { inserted: 0, spacesDropped: 0, spacesDoubled: 0 };
    out = addNoise(out, o.noise, noiseRng, counts.noise);
  }
  // The text differs exactly when a mention, a particle or the noise changed something.
  return out.text === ex.text ? undefined : out;
}

/** Augmented copies of `examples` (ids suffixed `~aug1`, `~aug2`, …); the originals are not included. */
export function augment(examples: readonly NerExample[], o: AugmentOptions): AugmentResult {
  const rates = [
    ["swapRate", o.swapRate],
    ["givenNames", o.givenNames ?? 0],
    ["colloquialRate", o.colloquialRate ?? 1],
    ["dropParticles", o.dropParticles ?? 0],
    ["lexiconRate", o.lexiconRate ?? 0],
  ] as const;
  for (const [name, rate] of rates) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${rate}`);
  }
  if (o.noise) checkNoise(o.noise);
  if (!(Number.isInteger(o.copies) && o.copies >= 1)) {
    throw new RangeError(`copies must be a positive integer, got ${o.copies}`);
  }
  const pool = mentionPool(examples, o.swapTypes);
  const counts = {
    swapped: 0,
    particlesSpoken: 0,
    particlesReagreed: 0,
    givenNames: 0,
    particlesDropped: 0,
    lexiconSwaps: 0,
    noise: { inserted: 0, spacesDropped: 0, spacesDoubled: 0 },
  };
  const out: NerExample[] = [];
  for (let k = 1; k <= o.copies; k++) {
    // The newer options draw from a stream of their own, so the swaps' draws stay as they were.
    const rng = new Rng(o.seed, "augment", k), noiseRng = new Rng(o.seed, "noise", k);
    const lexiconRng = new Rng(o.seed, "lexicon", k);
    for (const ex of examples) {
      const a = augmentOne(ex, pool, o, rng, counts, noiseRng, lexiconRng);
      if (a) out.push({ ...a, id: `${ex.id}~aug${k}` });
    }
  }
  return { examples: out, ...counts };
}

/**
 * A swap lexicon from text: one `TYPE<TAB>NAME` per line (`#` lines and blank lines skipped), names kept once
 * per type in file order; `path` names the file in errors, which give the line and what was expected.
 */
export function parseLexicon(text: string, path: string): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z][A-Za-z0-9_]*)\t+(\S.*)$/.exec(line);
    if (!m) {
      throw new Error(
        `${path}:${i + 1}: expected TYPE<TAB>NAME (e.g. "LC<TAB>홍대"), got "${line.slice(0, 60)}"`,
      );
    }
    const set = out.get(m[1]) ?? new Set<string>();
    set.add(m[2].trim());
    out.set(m[1], set);
  }
  if (!out.size) throw new Error(`${path}: no TYPE<TAB>NAME line in the lexicon`);
  return new Map([...out].map(([t, names]) => [t, [...names]]));
}
