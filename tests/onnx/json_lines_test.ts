import assert from "node:assert/strict";
import { jsonKeyLines, keyLinesAt, parseJsonText, scanJson } from "../../onnx/json_lines.ts";

Deno.test("jsonKeyLines(): the line of each key by path, in nested objects and arrays", () => {
  const text = [
    "{", // 1
    '  "model": {', // 2
    '    "hidden_size": 256,', // 3
    '    "learning_rate": "not this one"', // 4
    "  },", // 5
    '  "train": {"batch_size": 8,', // 6
    '    "learning_rate": 2e-4', // 7
    "  },", // 8
    '  "dev": [', // 9
    '    {"path": "a.tsv"},', // 10
    '    [1, {"deep": null}]', // 11
    "  ],", // 12
    '  "learning_rate": -1', // 13
    "}", // 14
  ].join("\n");
  assert.deepEqual(Object.fromEntries(jsonKeyLines(text)), {
    "model": 2,
    "model.hidden_size": 3,
    "model.learning_rate": 4,
    "train": 6,
    "train.batch_size": 6,
    "train.learning_rate": 7,
    "dev": 9,
    "dev[0]": 10,
    "dev[0].path": 10,
    "dev[1]": 11,
    "dev[1][0]": 11,
    "dev[1][1]": 11,
    "dev[1][1].deep": 11,
    "learning_rate": 13,
  });
});

Deno.test("jsonKeyLines(): strings with escapes, keys that hold quotes, brackets or braces", () => {
  const text = [
    "{",
    '  "a\\"b": "x\\\\",', // key a"b; the value ends with a backslash
    '  "c": "}{][,:\\"",', // structure characters inside a string
    '  "d\\u0041": {"e": "\\n"},', // an escaped key: dA
    '  "f": [] , "g" : {}',
    "}",
  ].join("\n");
  assert.equal(JSON.parse(text)['a"b'], "x\\");
  assert.deepEqual(Object.fromEntries(jsonKeyLines(text)), {
    'a"b': 2,
    "c": 3,
    "dA": 4,
    "dA.e": 4,
    "f": 5,
    "g": 5,
  });
});

Deno.test("jsonKeyLines(): minified JSON is all on line 1; a repeated key is where its last value is", () => {
  const json = { model: { hidden_size: 4, vocab_size: 10 }, train: { learning_rate: 1, steps: [1, 2] } };
  const lines = jsonKeyLines(JSON.stringify(json));
  assert.deepEqual([...lines.keys()], [
    "model",
    "model.hidden_size",
    "model.vocab_size",
    "train",
    "train.learning_rate",
    "train.steps",
    "train.steps[0]",
    "train.steps[1]",
  ]);
  assert.ok([...lines.values()].every((l) => l === 1));
  // JSON.parse keeps the last of repeated keys: so do the lines.
  assert.equal(jsonKeyLines('{"a": 1,\n"a": 2}').get("a"), 2);
  // Lines end at \n, so \r\n files count the same.
  assert.equal(jsonKeyLines('{\r\n"a": 1,\r\n"b": 2}').get("b"), 3);
});

Deno.test("scanJson(): the first syntax error with its line, column and what was expected", () => {
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "a": 1,\n  "b" 2\n}', 3, 7, /expected ':' after the key, found '2'/],
    ['{\n  "a": 1,\n}', 3, 1, /expected a '"'-quoted key, found '}'/],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}', found '"'/],
    ['{"a": [1, 2,, 3]}', 1, 13, /expected a value .*found ','/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['{"a": 01}', 1, 8, /expected ',' or '}', found '1'/],
    ['{"a": "x\ny"}', 1, 9, /a string cannot span lines/],
    ['{"a": "\\q"}', 1, 9, /expected an escape/],
    ['{"a": "\\u12g4"}', 1, 10, /4 hex digits/],
    ['{"a": 1', 1, 8, /found the end of the text/],
    ['{"a": 1} x', 1, 10, /nothing after the JSON value/],
    ["", 1, 1, /expected a value/],
  ];
  for (const [text, line, column, message] of cases) {
    assert.throws(() => JSON.parse(text));
    const e = scanJson(text).error;
    assert.ok(e, text);
    assert.deepEqual([e.line, e.column], [line, column], text);
    assert.match(e.message, message, text);
  }
  for (const text of ['{"a": [1, -2.5e3, true, false, null, "x"], "b": {}}', " 3 ", '"s"', "[[]]"]) {
    assert.equal(scanJson(text).error, undefined, text);
  }
});

Deno.test("parseJsonText(): the value and its lines; a syntax error as FILE:LINE:COL", () => {
  const doc = parseJsonText('{\n  "train": {\n    "lr": 2\n  }\n}', "run.json");
  assert.deepEqual(doc.json, { train: { lr: 2 } });
  assert.equal(doc.lines.get("train.lr"), 3);
  const train = keyLinesAt(doc, "train");
  assert.equal(train.file, "run.json");
  assert.equal(train.line("lr"), 3);
  assert.equal(train.line("steps"), undefined);
  assert.equal(keyLinesAt(doc).line("train"), 2);
  assert.throws(() => parseJsonText('{\n  "a": 1,\n}', "x/c.json"), {
    message: `x/c.json:3:1: not valid JSON: expected a '"'-quoted key, found '}'`,
  });
  assert.throws(() => parseJsonText("{ not json", "c.json", "--train-config"), {
    message: `c.json:1:3: not valid JSON (--train-config): expected a '"'-quoted key or '}', found 'n'`,
  });
});
