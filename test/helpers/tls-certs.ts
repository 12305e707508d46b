/**
 * Throwaway TLS material for tests: a self-signed CA and a server certificate it signs, valid
 * for 127.0.0.1 and localhost, generated with the `openssl` CLI into a temp dir at test time
 * (nothing secret is committed to the repository).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files and PEM text of one generated CA + server certificate. */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate (PEM), what a client passes as `tls.ca`. */
  readonly ca: string;
  /** Delete the temp dir. */
  readonly cleanup: () => Promise<void>;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run('openssl', [...args], { cwd });
}

/**
 * Generate a CA and a server certificate for `127.0.0.1`/`localhost` (EC P-256: fast to make).
 * `commonName` only labels the CA, so two calls give two unrelated CAs (for wrong-CA tests).
 */
export async function createTestCertificates(commonName = 'ddb-cache-sync test CA'): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl(['req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${commonName}`], dir);
    await openssl(['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    await writeFile(
      join(dir, 'server.ext'),
      [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'basicConstraints=CA:FALSE',
        'keyUsage=digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'server.ext',
      ],
      dir,
    );
    const caFile = join(dir, 'ca.crt');
    return {
      dir,
      caFile,
      certFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
      ca: await readFile(caFile, 'utf8'),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
