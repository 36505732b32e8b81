// Waiting for an effect in tests: poll a condition, bounded, instead of sleeping for a guessed time.

/** Waits until `cond` holds, polling every 5 ms; throws (failing the test) after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
