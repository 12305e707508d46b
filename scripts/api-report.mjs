#!/usr/bin/env node
/**
 * The API report gate: API Extractor reads each entry point's built declarations
 * (`dist/<entry>.d.ts`, so run `npm run build` first) and compares the public API with the
 * committed report `etc/<entry>.api.md`.
 *
 *   node scripts/api-report.mjs            fail (exit 1) when any entry's API differs from its report
 *   node scripts/api-report.mjs --update   rewrite the reports; commit them with the change
 *
 * A changed report is the reviewer's signal that the public API changed: a removed or renamed
 * export is a breaking change and goes into CHANGELOG.md.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { ENTRY_POINTS } from './entries.mjs';

const root = resolve(import.meta.dirname, '..');
const update = process.argv.includes('--update');

// One per subpath export with types an importer sees (the CLI has none).
const ENTRIES = ENTRY_POINTS.filter((e) => e.subpath !== undefined).map((e) => e.name);

// API Extractor's own report-status lines; this script prints its own (and a diff) instead.
const REPORT_STATUS_MESSAGES = new Set([
  'console-api-report-not-copied',
  'console-api-report-copied',
  'console-api-report-created',
  'console-api-report-unchanged',
]);

const temp = mkdtempSync(join(tmpdir(), 'ddb-cache-sync-api-'));
const failures = [];
try {
  for (const entry of ENTRIES) {
    const declarations = join(root, 'dist', `${entry}.d.ts`);
    if (!existsSync(declarations)) {
      failures.push(`${entry}: ${declarations} is missing; run \`npm run build\` first`);
      continue;
    }
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: root,
        mainEntryPointFilePath: declarations,
        bundledPackages: [],
        compiler: {
          // The built declarations only: the repository's tsconfig would pull in src and test.
          overrideTsconfig: {
            compilerOptions: {
              target: 'ES2022',
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              lib: ['ES2022'],
              types: ['node'],
              strict: true,
              skipLibCheck: true,
            },
            files: [declarations],
          },
        },
        apiReport: { enabled: true, reportFileName: entry, reportFolder: join(root, 'etc'), reportTempFolder: temp },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: {
            // Into the report, not fatal: each entry is analysed alone, so a type it shares with
            // another entry (CacheAdapter in the redis entry) shows as ae-forgotten-export.
            default: { logLevel: 'warning', addToApiReportFile: true },
            // Release tags (@public/@beta) are not used: everything exported is public.
            'ae-missing-release-tag': { logLevel: 'none' },
            // Undocumented members are listed with their line in the built chunk, whose file name
            // carries a content hash: the report would change on every unrelated edit.
            'ae-undocumented': { logLevel: 'none' },
          },
          // TSDoc style (e.g. `@module`, `{@link}` forms) is not what this gate is about.
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      configObjectFullPath: join(root, 'api-extractor.json'),
      packageJsonFullPath: join(root, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false, messageCallback: quietUnlessProblem });
    if (!result.succeeded) {
      if (result.apiReportChanged) showDiff(join(root, 'etc', `${entry}.api.md`), join(temp, `${entry}.api.md`));
      failures.push(
        result.apiReportChanged
          ? `${entry}: the public API differs from etc/${entry}.api.md. If the change is intended, run \`npm run api:update\`, commit the report, and note breaking changes in CHANGELOG.md`
          : `${entry}: API Extractor reported ${result.errorCount} error(s) and ${result.warningCount} warning(s)`,
      );
    } else if (update && result.apiReportChanged) {
      console.log(`api:update: wrote etc/${entry}.api.md`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const failure of failures) console.error(`api:check: ${failure}`);
  process.exit(1);
}
console.log(`api:check: ${ENTRIES.length} API reports ${update ? 'written' : 'match'} (etc/*.api.md)`);

/**
 * API Extractor prints progress lines at info level, and on a changed report asks to copy a
 * file from the temp folder this script removes; the diff and the failure line replace both.
 */
function quietUnlessProblem(message) {
  if (message.logLevel === 'info' || message.logLevel === 'verbose') message.handled = true;
  if (REPORT_STATUS_MESSAGES.has(message.messageId)) message.handled = true;
}

function showDiff(committed, current) {
  spawnSync('git', ['diff', '--no-index', '--no-color', '--', committed, current], { stdio: 'inherit' });
}
