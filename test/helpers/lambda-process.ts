/**
 * Running a bundled handler the way Lambda does: in its own `node` process, with an
 * environment of its own.
 */
import { execFile } from 'node:child_process';

/** A clean environment: nothing from the developer's AWS setup, nothing that leaves loopback. */
export function lambdaEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'example-secret-key',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    TABLE_NAME: 'App',
    ...extra,
  };
}

/**
 * Run `node <args>` with `env` and collect its output; a non-zero exit or a run past 60 s
 * rejects with both streams in the message, so a failed test shows what the process said.
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, timeout: 60_000, killSignal: 'SIGKILL' }, (error, out, err) => {
      if (error) reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${err}`));
      else resolve({ stdout: out, stderr: err });
    });
  });
}
