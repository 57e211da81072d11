/// <reference lib="dom" />
// End to end: builds the page, serves it with the fixture model, drives Debian's chromium through
// playwright-core, types sentences, and checks that the highlighted entities equal the Deno API's.
// Skips, saying why, where /usr/bin/chromium is missing (`.ci/install-browser` installs it).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildWeb } from "../../train/release/web_page.ts";
import { serveStatic } from "../../infer/static_server.ts";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { FIXTURE, SENTENCES } from "../infer/ner_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
let missing = "";
try {
  await Deno.stat(CHROMIUM);
} catch {
  missing = `${CHROMIUM} is missing (install it with .ci/install-browser)`;
  console.log(`browser_test: skipped: ${missing}`);
}

const TYPED = [...SENTENCES.slice(0, 4), "😀 민수랑 a\uD800b 만났어", "   "];

Deno.test({
  name: "browser page (onnxruntime-web wasm in headless chromium) shows the entities the Deno CLI finds",
  ignore: missing !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { chromium } = await import("npm:playwright-core@1.65.1");
    const out = new URL(`../../web/dist-test-${Deno.pid}/`, import.meta.url);
    const root = await buildWeb(out);
    const ac = new AbortController();
    const server = serveStatic({ root, model: fileURLToPath(FIXTURE), port: 0, signal: ac.signal });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.addr.port}/?provider=wasm`);
      await page.waitForFunction(() => document.getElementById("status")?.dataset.state !== "loading", null, {
        timeout: 30_000,
      });
      const state = await page.evaluate(
        () => [
          document.getElementById("status")!.dataset.state,
          document.getElementById("status")!.textContent,
        ],
      );
      assert.equal(state[0], "ready", `page status: ${state[1]} ${errors.join("; ")}`);
      assert.equal(await page.evaluate(() => document.body.dataset.provider), "wasm");
      for (const [i, text] of TYPED.entries()) {
        await page.fill("#input", ""); // fill() types the whole text as one input event
        await page.fill("#input", text);
        // Typing cannot carry a lone surrogate (it arrives as U+FFFD): compare on what the page holds.
        const value = await page.inputValue("#input");
        if (text.isWellFormed()) assert.equal(value, text);
        await page.waitForFunction((t) => document.getElementById("output")?.dataset.text === t, value, {
          timeout: 10_000,
        })
          .catch(async (e) => {
            const st = await page.evaluate(
              () => [
                document.getElementById("status")!.textContent,
                document.getElementById("output")!.dataset.text,
              ],
            );
            throw new Error(
              `sentence ${i} never shown (status: ${st[0]}; shown: ${JSON.stringify(st[1])}; errors: ${
                errors.join("; ")
              }): ${e}`,
            );
          });
        const shown = await page.evaluate(() =>
          [...document.querySelectorAll("#output mark")].map((m) => {
            const d = (m as HTMLElement).dataset;
            return { type: d.type!, start: Number(d.start), end: Number(d.end), text: m.textContent! };
          })
        );
        const expected = await ner.recognize(value);
        assert.deepEqual(
          shown,
          expected.map(({ type, start, end, text }) => ({ type, start, end, text })),
          `sentence ${i}: ${text}`,
        );
      }
      assert.match(await page.textContent("#timings") ?? "", /tokens · .* model [\d.]+ ms/);
      assert.deepEqual(errors, []);
      await ner.release();
    } finally {
      await browser.close();
      ac.abort();
      await server.finished;
      await Deno.remove(out, { recursive: true });
    }
  },
});
