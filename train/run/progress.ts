/**
 * One-line terminal progress for long training: step, loss, tokens/s and ETA, redrawn in place on a
 * terminal; on a pipe or file (CI logs) it prints a plain line only every `every` calls, and nothing when
 * quiet.
 * @module
 */

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

/** What one progress update shows. */
export interface ProgressInfo {
  step: number;
  total: number;
  loss: number;
  tokensPerSecond: number;
  /** Extra `name=value` fields (e.g. lr). */
  extra?: Record<string, number | string>;
}

/** Terminal progress line. */
export class Progress {
  private readonly tty: boolean;
  private calls = 0;
  private lastLen = 0;
  private readonly encoder = new TextEncoder();

  /** `quiet`: print nothing; `every`: on non-terminals, print one line per this many updates. */
  constructor(
    private readonly options: {
      quiet?: boolean;
      every?: number;
      stream?: { writeSync(b: Uint8Array): number; isTerminal(): boolean };
    } = {},
  ) {
    const stream = options.stream ?? Deno.stderr;
    this.tty = stream.isTerminal();
  }

  /** The text of one progress line. */
  static line(p: ProgressInfo): string {
    const extra = Object.entries(p.extra ?? {}).map(([k, v]) =>
      ` ${k} ${typeof v === "number" ? v.toPrecision(3) : v}`
    ).join("");
    return `step ${p.step}/${p.total}  loss ${p.loss.toFixed(4)}  ${
      Math.round(p.tokensPerSecond)
    } tok/s${extra}`;
  }

  /** Shows an update; `etaSeconds` is computed by the caller from its own clock. */
  update(p: ProgressInfo, etaSeconds: number): void {
    if (this.options.quiet) return;
    this.calls++;
    const text = `${Progress.line(p)}  ETA ${formatDuration(etaSeconds)}`;
    const stream = this.options.stream ?? Deno.stderr;
    if (this.tty) {
      const pad = " ".repeat(Math.max(0, this.lastLen - text.length));
      stream.writeSync(this.encoder.encode(`\r${text}${pad}`));
      this.lastLen = text.length;
    } else if (this.calls % (this.options.every ?? 1) === 0) {
      stream.writeSync(this.encoder.encode(text + "\n"));
    }
  }

  /** Prints a message on its own line (ending the in-place line first). */
  log(message: string): void {
    if (this.options.quiet) return;
    const stream = this.options.stream ?? Deno.stderr;
    if (this.tty && this.lastLen) stream.writeSync(this.encoder.encode("\n"));
    this.lastLen = 0;
    stream.writeSync(this.encoder.encode(message + "\n"));
  }

  /** Ends the in-place line. */
  done(): void {
    if (this.tty && this.lastLen && !this.options.quiet) {
      (this.options.stream ?? Deno.stderr).writeSync(this.encoder.encode("\n"));
    }
    this.lastLen = 0;
  }
}
