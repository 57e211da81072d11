import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { Settings, type SettingsValues } from "../../onnx/settings.ts";

const TABLE = {
  learningRate: {
    key: "learning_rate",
    flag: "lr",
    default: 5e-5,
    check: { type: "number", gt: 0 },
    doc: "peak learning rate",
  },
  epochs: {
    key: "num_train_epochs",
    flag: "epochs",
    default: 20,
    check: { type: "integer", min: 1 },
    doc: "epochs",
  },
  scheme: {
    key: "scheme",
    flag: "scheme",
    default: "BIO",
    check: { type: "oneOf", values: ["BIO", "BIOES"] },
    doc: "tagging scheme",
  },
  types: {
    key: "types",
    flag: "types",
    default: [],
    check: { type: "names", pattern: "^[A-Z]+$", metavar: "PS,LC,…" },
    doc: "entity types",
  },
  crf: { key: "crf", flag: "crf", default: false, check: { type: "boolean" }, doc: "a CRF layer" },
  bucketBatches: {
    key: "bucket_batches",
    flag: { name: "no-bucketing", sets: 0 },
    default: 50,
    check: { type: "integer", min: 0 },
    doc: "length-sorted chunks",
  },
  dropout: {
    key: "classifier_dropout",
    default: null,
    check: { type: "number", min: 0, lt: 1, nullable: true },
    doc: "dropout before the classifier",
  },
  logEvery: {
    key: "log_every",
    default: 10,
    check: { type: "integer", min: 1 },
    doc: "metrics line interval",
  },
} as const;
const S = new Settings(TABLE, {
  relations: (c) => c.crf && c.scheme !== "BIO" ? `crf needs scheme "BIO"` : undefined,
});

Deno.test("Settings: the type, the defaults and the JSON round trip come from the table", () => {
  // The derived type: literal unions from oneOf, lists from names, null from nullable.
  const c: SettingsValues<typeof TABLE> = { ...S.defaults, scheme: "BIOES", types: ["PS"], dropout: 0.1 };
  const typed: {
    learningRate: number;
    epochs: number;
    scheme: "BIO" | "BIOES";
    types: string[];
    crf: boolean;
    bucketBatches: number;
    dropout: number | null;
    logEvery: number;
  } = c;
  assert.deepEqual(S.defaults, {
    learningRate: 5e-5,
    epochs: 20,
    scheme: "BIO",
    types: [],
    crf: false,
    bucketBatches: 50,
    dropout: null,
    logEvery: 10,
  });
  assert.ok(Object.isFrozen(S.defaults));
  // JSON keys in declaration order; what toJson writes reads back as the same config.
  assert.deepEqual(Object.keys(S.toJson(typed)), [
    "learning_rate",
    "num_train_epochs",
    "scheme",
    "types",
    "crf",
    "bucket_batches",
    "classifier_dropout",
    "log_every",
  ]);
  assert.deepEqual(S.fromJson(S.toJson(c), "x.json"), c);
  assert.deepEqual(S.toJson({ epochs: 3 }), { num_train_epochs: 3 });
  // Over a base; $comment skipped; lists copied, never shared.
  const base = { ...S.defaults, epochs: 7, types: ["OG"] };
  const d = S.fromJson({ $comment: "why", learning_rate: 1e-3 }, "x.json", base);
  assert.equal(d.epochs, 7);
  assert.equal(d.learningRate, 1e-3);
  assert.deepEqual(d.types, ["OG"]);
  assert.notEqual(d.types, base.types);
});

Deno.test("Settings.fromJson(): unknown keys named with the nearest known key, bad values with what was expected", () => {
  assert.throws(
    () => S.fromJson({ learning_rat: 1 }, "ft.json"),
    { message: 'ft.json: unknown key "learning_rat" (did you mean "learning_rate"?)' },
  );
  // A field's or a flag's name points to its key.
  assert.throws(
    () => S.fromJson({ epochs: 3 }, "ft.json"),
    /unknown key "epochs" \(did you mean "num_train_epochs"\?\)/,
  );
  assert.throws(() => S.fromJson({ learningRate: 3 }, "ft.json"), /did you mean "learning_rate"/);
  assert.throws(() => S.fromJson({ "no-bucketing": 3 }, "ft.json"), /did you mean "bucket_batches"/);
  // Far from every key: the known keys are listed.
  assert.throws(
    () => S.fromJson({ optimizer: "sgd", lerning_rate: 1 }, "ft.json"),
    {
      message: 'ft.json: unknown keys "optimizer", "lerning_rate" (did you mean "learning_rate"?) (known: ' +
        "learning_rate, num_train_epochs, scheme, types, crf, bucket_batches, classifier_dropout, log_every)",
    },
  );
  const bad: [Record<string, unknown>, string][] = [
    [{ learning_rate: 0 }, "learning_rate must be a positive number, got 0"],
    [{ learning_rate: "1" }, 'learning_rate must be a positive number, got "1"'],
    [{ num_train_epochs: 1.5 }, "num_train_epochs must be a positive integer, got 1.5"],
    [{ scheme: "bio" }, 'scheme must be "BIO" or "BIOES", got "bio"'],
    [{ types: ["PS", 3] }, 'types must be a list of names matching /^[A-Z]+$/, got ["PS",3]'],
    [{ crf: 1 }, "crf must be true or false, got 1"],
    [{ classifier_dropout: 1 }, "classifier_dropout must be null or a number in [0, 1), got 1"],
    [{ crf: true, scheme: "BIOES" }, 'crf needs scheme "BIO"'],
  ];
  for (const [json, message] of bad) {
    assert.throws(() => S.fromJson(json, "ft.json"), { message: `ft.json: ${message}` });
  }
  assert.throws(() => S.fromJson([1], "ft.json"), { message: "ft.json: expected a JSON object, got [1]" });
  assert.throws(() => S.validate({ ...S.defaults, epochs: 0 }, "run"), {
    message: "run: num_train_epochs must be a positive integer, got 0",
  });
});

Deno.test("Settings: a section prefix names keys as the file spells them", () => {
  const train = new Settings({ steps: TABLE.epochs }, { prefix: "train." });
  assert.throws(() => train.fromJson({ num_train_epoch: 1 }, '"x.json"'), {
    message: '"x.json": unknown key "train.num_train_epoch" (did you mean "train.num_train_epochs"?)',
  });
  assert.throws(() => train.fromJson({ num_train_epochs: 0 }, '"x.json"'), {
    message: '"x.json": train.num_train_epochs must be a positive integer, got 0',
  });
  assert.throws(() => train.fromJson(3, '"x.json"'), {
    message: '"x.json": expected a JSON object as "train", got 3',
  });
});

Deno.test("Settings.fromJson() with key lines: errors about a key the file gave name FILE:LINE", () => {
  const lines = {
    file: "ft.json",
    line: (k: string) => ({ learning_rate: 3, lerning_rate: 5, scheme: 7 })[k],
  };
  assert.throws(() => S.fromJson({ learning_rate: 0 }, '"ft.json"', S.defaults, lines), {
    message: "ft.json:3: learning_rate must be a positive number, got 0",
  });
  assert.throws(() => S.fromJson({ lerning_rate: 1 }, '"ft.json"', S.defaults, lines), {
    message: 'ft.json:5: unknown key "lerning_rate" (did you mean "learning_rate"?)',
  });
  // A key the locator does not know, a bad default or base value and a relation keep the plain `where`.
  assert.throws(() => S.fromJson({ num_train_epochs: 0 }, '"ft.json"', S.defaults, lines), {
    message: '"ft.json": num_train_epochs must be a positive integer, got 0',
  });
  assert.throws(() => S.fromJson({}, '"ft.json"', { ...S.defaults, epochs: 0 }, lines), {
    message: '"ft.json": num_train_epochs must be a positive integer, got 0',
  });
  assert.throws(() => S.fromJson({ crf: true, scheme: "BIOES" }, '"ft.json"', S.defaults, lines), {
    message: '"ft.json": crf needs scheme "BIO"',
  });
  // With a section prefix the key reads as the file spells it.
  const train = new Settings({ steps: TABLE.epochs }, { prefix: "train." });
  assert.throws(
    () =>
      train.fromJson({ num_train_epochs: 0 }, '"x.json"', train.defaults, { file: "x.json", line: () => 9 }),
    {
      message: "x.json:9: train.num_train_epochs must be a positive integer, got 0",
    },
  );
});

Deno.test("Settings: parseArgs options and flag values, each flag checked and named", () => {
  const parse = (args: string[]) =>
    S.fromFlags(parseArgs({ args, options: S.parseArgsOptions(), strict: true }).values);
  assert.deepEqual(S.parseArgsOptions(), {
    lr: { type: "string" },
    epochs: { type: "string" },
    scheme: { type: "string" },
    types: { type: "string" },
    crf: { type: "boolean" },
    "no-bucketing": { type: "boolean" },
  });
  assert.deepEqual(parse([]), {});
  assert.deepEqual(
    parse([
      "--lr",
      "1e-3",
      "--epochs",
      "3",
      "--scheme",
      "bioes",
      "--types",
      "PS, LC,",
      "--crf",
      "--no-bucketing",
    ]),
    { learningRate: 1e-3, epochs: 3, scheme: "BIOES", types: ["PS", "LC"], crf: true, bucketBatches: 0 },
  );
  assert.throws(() => parse(["--epochs", "x"]), { message: '--epochs must be a positive integer, got "x"' });
  assert.throws(() => parse(["--epochs", "0"]), { message: '--epochs must be a positive integer, got "0"' });
  assert.throws(() => parse(["--lr", ""]), { message: '--lr must be a positive number, got ""' });
  assert.throws(() => parse(["--scheme", "IO"]), { message: '--scheme must be "BIO" or "BIOES", got "IO"' });
});

Deno.test("Settings.usage(): every flag with its doc, JSON key and default from the table", () => {
  assert.equal(
    S.usage("Only in JSON:"),
    [
      "  --lr X                 peak learning rate [learning_rate: 0.00005]",
      "  --epochs N             epochs [num_train_epochs: 20]",
      "  --scheme BIO|BIOES     tagging scheme [scheme: BIO]",
      "  --types PS,LC,…        entity types [types: []]",
      "  --crf                  a CRF layer [crf: false]",
      "  --no-bucketing         bucket_batches 0 (length-sorted chunks) [bucket_batches: 50]",
      "  Only in JSON:",
      "    classifier_dropout: null",
      "                         dropout before the classifier",
      "    log_every: 10        metrics line interval",
    ].join("\n"),
  );
  // Long docs wrap at 110 columns under their own indent.
  const long = new Settings({ a: { ...TABLE.epochs, doc: "word ".repeat(40).trim() } });
  const lines = long.usage().split("\n");
  assert.ok(lines.length > 1 && lines.every((l) => l.length <= 110));
  assert.ok(lines.slice(1).every((l) => l.startsWith(" ".repeat(25) + "word")));
});

Deno.test("Settings: a wrong default or switch value fails when the table is loaded", () => {
  assert.throws(
    () => new Settings({ a: { key: "a", default: 0, check: { type: "integer", min: 1 }, doc: "" } }),
    { message: "settings table defaults: a must be a positive integer, got 0" },
  );
  assert.throws(
    () =>
      new Settings({
        a: {
          key: "a",
          flag: { name: "no-a", sets: -1 },
          default: 0,
          check: { type: "integer", min: 0 },
          doc: "",
        },
      }),
    { message: "settings table: --no-a: a must be an integer ≥ 0, got -1" },
  );
});
