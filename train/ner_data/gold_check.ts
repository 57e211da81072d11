/**
 * Checks on gold data before scoring a model against it. Word-level gold (CoNLL-style corpora such as Naver
 * NER, or KLUE-style text annotated a whole word at a time) puts particles inside entities (`민수랑` PS), while
 * this project's models tag the span without them (`민수`): exact-match entity F1 then counts such
 * entities as errors however good the model is. `wordLevelGold` says when the gold looks like that.
 * @module
 */
import type { NerExample } from "./datasets/types.ts";

/** Particles (조사) that follow a Korean noun phrase; an entity ending in one was labelled a word at a time. */
const PARTICLE =
  /(?:이랑|랑|에서|에게|한테|께서|으로|로|부터|까지|이나|나|에는|에도|은|는|이|가|을|를|에|의|와|과|도|만)$/;

/** What `wordLevelGold` found: counts and a few examples. */
export interface WordLevelFinding {
  entities: number;
  /** Entities that start and end at whitespace (or the text's ends). */
  wholeWords: number;
  /** Whole-word entities of two or more syllables ending in a particle. */
  withParticle: number;
  examples: string[];
}

/**
 * Whether `examples` look word-level: at least 10 entities, ≥ 95 % of them whole words, and ≥ 5 % of
 * them ending in a particle (character-level gold such as KLUE's keeps particles out: well under 1 %).
 */
export function wordLevelGold(examples: readonly NerExample[]): WordLevelFinding | undefined {
  const f: WordLevelFinding = { entities: 0, wholeWords: 0, withParticle: 0, examples: [] };
  for (const ex of examples) {
    for (const e of ex.entities) {
      f.entities++;
      const before = e.start === 0 || /\s/.test(ex.text[e.start - 1]);
      const after = e.end === ex.text.length || /\s/.test(ex.text[e.end]);
      if (!before || !after) continue;
      f.wholeWords++;
      const surface = ex.text.slice(e.start, e.end);
      if ([...surface].length >= 2 && PARTICLE.test(surface)) {
        f.withParticle++;
        if (f.examples.length < 3) f.examples.push(`${surface} ${e.type}`);
      }
    }
  }
  const word = f.entities >= 10 && f.wholeWords >= 0.95 * f.entities && f.withParticle >= 0.05 * f.entities;
  return word ? f : undefined;
}

/** The warning `deno task eval` prints for word-level gold. */
export function wordLevelWarning(f: WordLevelFinding): string {
  return `warning: the gold labels look word-level: ${f.wholeWords} of ${f.entities} entities span whole words ` +
    `and ${f.withParticle} end in a particle (${f.examples.join(", ")}); the model tags spans without ` +
    "particles (민수랑 → 민수), so exact-match F1 counts those entities as misses and spurious spans. " +
    "Score on character-level gold (KLUE TSV), or compare after stripping particles from the gold.";
}
