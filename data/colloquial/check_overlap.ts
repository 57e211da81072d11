/**
 * Checks that no text of the colloquial sets occurs in the shared corpora or in the KLUE/KMOU data,
 * whitespace removed: as a whole line or field (TSV/CSV), and inside longer lines for texts of 8 or
 * more characters. Texts under 6 characters (ㅋㅋㅋㅋㅋ, ㅇㅇ) are generic and occur everywhere: they
 * are listed, for self-training to drop such corpus lines, but do not fail the check. Any other hit
 * is printed and exits 1.
 *
 * ```sh
 * deno run -A data/colloquial/check_overlap.ts [SHARED_DATA_DIR (../shared/data)]
 * ```
 * @module
 */
import { join } from "node:path";
import { findOverlaps, overlapKey, parseColloquial } from "../../train/ner_data/colloquial.ts";

const GENERIC_MAX = 5;
const root = Deno.args[0] ?? join(Deno.cwd(), "../shared/data");
const examples = ["test", "dev"].flatMap((split) => {
  const src = new URL(`./${split}.txt`, import.meta.url);
  return parseColloquial(Deno.readTextFileSync(src), src.pathname, `colloquial-${split}`);
});
const texts = examples.map((e) => e.text);

/** Every regular file under `dir`, sorted, skipping licences and READMEs. */
function* files(dir: string): Generator<string> {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* files(p);
    else if (e.isFile && !/LICENSE|README/i.test(e.name)) yield p;
  }
}

const hits = new Map<number, { count: number; first: string }>();
let scanned = 0;
for (const dir of ["corpus", "klue-ner", "kmou-ner"]) {
  for (const file of files(join(root, dir))) {
    scanned++;
    // KLUE and KMOU spell each sentence in `## ` lines (markup stripped here); their other lines
    // are single characters or words. The corpora are compared line by line and field by field.
    const labelled = dir !== "corpus";
    const units: string[] = [];
    const lineOf: number[] = [];
    Deno.readTextFileSync(file).split("\n").forEach((l, i) => {
      if (labelled && !l.startsWith("## ")) return;
      const plain = labelled ? l.slice(3).replace(/<([^<>]*):[A-Z_]+>/g, "$1") : l;
      const fields = plain.split(/[\t|,]/);
      for (const u of fields.length > 1 ? [plain, ...fields] : [plain]) {
        units.push(u);
        lineOf.push(i + 1);
      }
    });
    for (const o of findOverlaps(texts, units)) {
      const h = hits.get(o.index) ?? { count: 0, first: `${o.how} in ${file} line ${lineOf[o.line - 1]}` };
      h.count++;
      hits.set(o.index, h);
    }
  }
}
let failing = 0;
const generic: string[] = [];
for (const [i, h] of [...hits].sort(([a], [b]) => a - b)) {
  if (overlapKey(texts[i]).length <= GENERIC_MAX) {
    generic.push(texts[i]);
    continue;
  }
  failing++;
  console.log(`${examples[i].id}\t${texts[i]}\t${h.count} hits, first ${h.first}`);
}
console.log(`generic texts found in the data (not failing): ${generic.join(" | ") || "none"}`);
console.log(`${texts.length} texts checked against ${scanned} files: ${failing} overlaps`);
if (failing) Deno.exit(1);
