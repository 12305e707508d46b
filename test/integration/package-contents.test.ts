/**
 * What the README, the docs, the templates and the TSDoc point a user to must be in the tarball
 * they install: a link that works on GitHub and 404s in node_modules (or on npmjs.com) sends
 * the user away from the answer. Reads `npm pack --dry-run` (so `npx tsup` must have run: the
 * type declarations carry the TSDoc).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let shipped: Set<string>;

beforeAll(() => {
  const packs = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as {
    files: { path: string }[];
  }[];
  shipped = new Set((packs[0]?.files ?? []).map((f) => f.path));
  if (!shipped.has('dist/index.d.ts')) throw new Error('dist/ is missing from the pack: run `npx tsup` before this test');
}, 60_000);

/** The text outside fenced code blocks and inline code spans: links there are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Targets of inline links, images, reference definitions and HTML href/src attributes. */
function markdownLinks(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
  const definitions = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] ?? '');
  const html = [...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? '');
  return [...inline, ...definitions, ...html];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = (match[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('the packed package ships what it links to', () => {
  it('ships the docs, SECURITY.md and the demo rules the README and docs link to', () => {
    expect([...shipped]).toEqual(
      expect.arrayContaining(['docs/deploy.md', 'docs/concepts.md', 'docs/adapters/memcached.md', 'SECURITY.md', 'examples/demo/rules.ts', 'README.md']),
    );
  });

  it('resolves every relative link in every shipped markdown file to a shipped file, and its anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of [...shipped].filter((p) => p.endsWith('.md'))) {
      const markdown = readFileSync(join(root, file), 'utf8');
      for (const link of markdownLinks(markdown)) {
        if (isExternal(link)) continue;
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), decodeURIComponent(path)));
        const isDir = [...shipped].some((p) => p.startsWith(`${target.replace(/\/$/, '')}/`));
        if (!shipped.has(target) && !isDir) {
          broken.push(`${file}: ${link} (${target} is not in the package)`);
          continue;
        }
        if (anchor !== undefined && anchor !== '' && target.endsWith('.md') && !headingAnchors(readFileSync(join(root, target), 'utf8')).has(anchor)) {
          broken.push(`${file}: ${link} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('ships every docs/, SECURITY.md and examples/ file named in shipped TSDoc, templates and example code', () => {
    const broken: string[] = [];
    for (const file of [...shipped].filter((p) => /\.(d\.c?ts|ts|ya?ml)$/.test(p))) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const match of text.matchAll(/(?<![\w/.-])(docs\/[\w/.-]+\.md|SECURITY\.md|examples\/[\w/.-]+\.(?:ts|ya?ml|md|mjs))/g)) {
        const named = match[1] ?? '';
        if (!shipped.has(named)) broken.push(`${file}: ${named}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names the repository, homepage and issue tracker in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository?: { url?: string }; homepage?: string; bugs?: { url?: string } };
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs?.url).toMatch(/^https:\/\/.+\/issues$/);
  });
});

describe('the link checker', () => {
  it('finds inline, reference and HTML links outside code, and computes GitHub anchors', () => {
    const md =
      '# Late writes: what `reset` covers\n[a](docs/x.md#y) [b]: ../b.md\n<a href="c.md">c</a>\n`[no](code.md)`\n```\n[no](fence.md)\n```\n## Late writes: what reset covers\n';
    expect(markdownLinks(md)).toEqual(['docs/x.md#y', 'c.md']);
    expect(markdownLinks('[b]: ../b.md\n')).toEqual(['../b.md']);
    expect([...headingAnchors(md)]).toEqual(['late-writes-what-reset-covers', 'late-writes-what-reset-covers-1']);
  });
});
