/**
 * Converts the hand-written markup sources (`test.txt`, `dev.txt`) into the KLUE TSV files
 * (`test.tsv`, `dev.tsv`) that `deno task eval --data klue:FILE` reads, and prints their counts.
 *
 * ```sh
 * deno run -A data/colloquial/build.ts
 * ```
 * @module
 */
import { parseColloquial } from "../../train/ner_data/colloquial.ts";
import { writeKlue } from "../../train/ner_data/datasets/klue.ts";
import { countTypes } from "../../train/ner_data/datasets/types.ts";
import { writeFileAtomic } from "../../train/util/fs.ts";

for (const split of ["test", "dev"]) {
  const src = new URL(`./${split}.txt`, import.meta.url);
  const examples = parseColloquial(await Deno.readTextFile(src), src.pathname, `colloquial-${split}`);
  await writeFileAtomic(new URL(`./${split}.tsv`, import.meta.url).pathname, writeKlue(examples));
  const reactions = examples.filter((e) => e.id.endsWith("-reaction")).length;
  const withEntities = examples.filter((e) => e.entities.length > 0).length;
  console.log(
    `${split}: ${
      examples.length - reactions
    } sentences (${withEntities} with entities), ${reactions} reaction texts,`,
    JSON.stringify(countTypes(examples)),
  );
}
