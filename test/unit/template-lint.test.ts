/**
 * cfn-lint on both example templates: any error or warning fails, except W3002 (the local
 * code path `aws cloudformation package` replaces). cfn-lint is a Python tool that comes with
 * the machine image, not with npm: CI fails loudly without it; a developer machine skips with
 * the command that installs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = ['examples/cloudformation/stack.yaml', 'examples/cloudformation/stack-memcached.yaml'];
const INSTALL = 'pip install cfn-lint';

interface LintMatch {
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Start: { readonly LineNumber: number } };
}

/** cfn-lint's findings, or undefined when it is not installed. Files first: --ignore-checks takes every following word. */
function cfnLint(files: readonly string[]): LintMatch[] | undefined {
  const result = spawnSync('cfn-lint', [...files, '--format', 'json', '--ignore-checks', 'W3002'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.error !== undefined && 'code' in result.error && result.error.code === 'ENOENT') return undefined;
  if (result.error !== undefined) throw result.error;
  // Exit codes are a bit mask of error (2), warning (4) and informational (8) findings; 1 is a crash.
  if (result.status === 1 || result.stdout.trim() === '') {
    if (result.status === 0) return [];
    throw new Error(`cfn-lint exited ${String(result.status)}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as LintMatch[];
}

const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).error === undefined;

/** Whether cfn-lint runs here: on CI it must (the test fails), elsewhere the test is skipped. */
function cfnLintRuns(ctx: TestContext): boolean {
  if (available) return true;
  if (process.env['CI']) throw new Error(`cfn-lint is not installed on this CI machine; the image must provide it (${INSTALL})`);
  ctx.skip(`cfn-lint is not installed; ${INSTALL} to run this check`);
  return false;
}

// One cfn-lint run for both templates: each run spends seconds loading its schemas.
let findings: LintMatch[] | undefined;
const lintTemplates = (): LintMatch[] => (findings ??= cfnLint(TEMPLATES) ?? []);

describe('cfn-lint', () => {
  for (const file of TEMPLATES) {
    it(`finds nothing in ${file} but W3002`, (ctx) => {
      if (!cfnLintRuns(ctx)) return;
      const ofFile = lintTemplates()
        .filter((m) => m.Filename === file || !TEMPLATES.includes(m.Filename))
        .map((m) => `${m.Filename}:${m.Location.Start.LineNumber} ${m.Rule.Id} ${m.Message}`);
      expect(ofFile).toEqual([]);
    }, 120_000);
  }

  it('reports a broken template, so a clean result means something', (ctx) => {
    if (!cfnLintRuns(ctx)) return;
    const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
    try {
      const file = join(dir, 'broken.yaml');
      writeFileSync(
        file,
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      MessageRetentionPeriod: 99999999\n",
      );
      const findings = cfnLint([file]) ?? [];
      expect(findings.map((m) => m.Rule.Id)).toContain('E3034');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
