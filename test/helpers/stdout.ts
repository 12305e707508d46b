/**
 * Capture what the code under test writes to stdout (the default JSON logger and the EMF
 * metrics both write there), so a test can assert on log lines without printing them.
 */
import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';

/**
 * Register hooks that swallow stdout for every test of the calling file. The returned array holds
 * one entry per `write` call of the current test; it is emptied before each test.
 */
export function captureStdout(): string[] {
  const chunks: string[] = [];
  let spy: MockInstance<typeof process.stdout.write> | undefined;
  beforeEach(() => {
    chunks.length = 0;
    spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    spy?.mockRestore();
    spy = undefined;
  });
  return chunks;
}
