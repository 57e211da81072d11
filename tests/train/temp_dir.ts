// Shared by tests that need a scratch folder.

/** Runs `fn` with a new temporary folder, removed afterwards whatever `fn` does. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
