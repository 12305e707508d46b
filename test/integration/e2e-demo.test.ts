/**
 * `npm run demo` is the newcomer's first command: it must run from a fresh clone (no build),
 * show the story, exit 0 and leave no DynamoDB Local behind. Without Java it must say so and
 * replay the recorded events instead.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

function javaProcessesOf(output: string): string[] {
  // The endpoint the demo printed identifies its own DynamoDB Local among any others.
  const port = /DynamoDB Local is up at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
  return port === undefined ? [] : [`-port ${port}`];
}

async function stillRunning(markers: string[]): Promise<boolean> {
  if (markers.length === 0) return false;
  const { stdout } = await run('ps', ['-eo', 'args']);
  return stdout.split('\n').some((line) => line.includes('DynamoDBLocal.jar') && markers.some((m) => line.includes(m)));
}

describe('npm run demo', () => {
  it('runs the whole story against DynamoDB Local, exits 0 and leaves nothing running', async () => {
    const { stdout } = await run(process.execPath, ['examples/demo/run.mjs'], { cwd: root, timeout: 120_000 });
    expect(stdout).toMatch(/DynamoDB Local is up at http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/1 MODIFY in 1 invocation/);
    // The old email's lookup, cached by a reader, is gone after the email changed.
    expect(stdout).toMatch(/2\. UpdateItem[\s\S]*?user-by-email:ada@example\.com +\(absent\)/);
    expect(stdout).toContain('25 of 25 user:* keys are in the cache');
    expect(stdout).toMatch(/Done: 28 records/);
    expect(stdout).not.toContain('passwordHash');
    expect(await stillRunning(javaProcessesOf(stdout))).toBe(false);
  }, 150_000);

  it('without Java says so plainly and replays the recorded events', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
    delete env['JAVA_HOME'];
    const { stdout } = await run(process.execPath, ['examples/demo/run.mjs'], { cwd: root, env, timeout: 60_000 });
    expect(stdout).toMatch(/DynamoDB Local needs Java 17 or newer/);
    expect(stdout).toMatch(/Falling back to replaying/);
    expect(stdout).toMatch(/user:u1 +\{"pk":"u1","type":"User","name":"Ada","email":"ada@lovelace\.dev","plan":"pro"\}/);
    expect(stdout).toContain('25 of 25 user:* keys are in the cache');
  }, 90_000);

  it('refuses two caches at once with a usage message', async () => {
    const attempt = run(process.execPath, ['examples/demo/run.mjs', '--redis-url', 'redis://127.0.0.1:1', '--memcached-servers', '127.0.0.1:1'], {
      cwd: root,
      timeout: 60_000,
    });
    await expect(attempt).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/choose one cache/) });
  }, 90_000);
});
