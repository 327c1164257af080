import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The docs are what a newcomer follows: the README's embed guide is run as written, outside the
 * workspace, from the packed tarballs; the code of docs/embedding.md, docs/plugins.md and docs/console.md
 * type-checks against the packages. Either fails when the docs and the code part ways.
 */
const root = path.resolve(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);
const cleanup: string[] = [];
let server: ChildProcess | undefined;

afterAll(async () => {
  server?.kill('SIGKILL');
  for (const dir of cleanup) await fs.rm(dir, { recursive: true, force: true });
});

/** The block of a markdown text marked `<!-- docs-test: <mark> -->` on the line before its fence. */
function marked(markdown: string, mark: string): string {
  const found = new RegExp(`<!-- docs-test: ${mark.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  if (!found) throw new Error(`no block marked "docs-test: ${mark}"`);
  return found[1]!;
}

describe('the README embed guide', () => {
  it('installs from the packed tarballs into a new project, runs as pasted, and records an order the CRM then reports', async () => {
    const readme = await fs.readFile(path.join(root, 'README.md'), 'utf8');
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-guide-'));
    cleanup.push(work);
    await fs.chmod(work, 0o755);

    // `pnpm pack:all`, as the README says before the packages are on the registry.
    const packs = path.join(work, 'packs');
    const packed = await run('bash', [path.join(root, 'scripts/pack.sh'), packs], { cwd: root, maxBuffer: 1 << 24 });
    const tarball = (name: string) => path.join(packs, `kokyaku-${name}-0.1.0.tgz`);
    expect(packed.stdout).toContain(tarball('server'));

    // The install block as written, with the tarballs where it names the packages.
    const install = marked(readme, 'install').replace(/@kokyaku\/(core|server|client)\b/g, (_m, name: string) => tarball(name));
    const installed = await run('bash', ['-euo', 'pipefail', '-c', install], {
      cwd: work,
      maxBuffer: 1 << 24,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    });
    const app = path.join(work, 'my-shop');
    expect(JSON.parse(await fs.readFile(path.join(app, 'package.json'), 'utf8')).type).toBe('module');
    // Every package it brings runs on the Node.js the README promises.
    expect(`${installed.stdout}${installed.stderr}`).not.toMatch(/EBADENGINE|ERESOLVE|404/);

    // The server as pasted, on its own embedded PostgreSQL in the project.
    await fs.writeFile(path.join(app, 'server.js'), marked(readme, 'file=server.js'));
    server = spawn(process.execPath, ['server.js'], { cwd: app, env: { ...process.env, CRM_TOKEN: 'secret', PORT: '0', DATABASE_URL: undefined, KOKYAKU_DATA_DIR: undefined } });
    let output = '';
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));
    await expect.poll(() => /Listening on http:\/\/localhost:(\d+)/.test(output) || server!.exitCode !== null, { timeout: 120_000, interval: 200 }).toBe(true);
    const port = /Listening on http:\/\/localhost:(\d+)/.exec(output)?.[1];
    expect(port, output).toBeDefined();

    // "Try it" as written: the checkout, then the CRM's answer it promises.
    const tryIt = marked(readme, 'try');
    const expected = /# -> (.*)/.exec(tryIt)![1]!;
    const tried = await run('bash', ['-c', tryIt.replaceAll('localhost:3000', `localhost:${port}`)], { cwd: app });
    const [checkout, crm] = tried.stdout.trim().split('\n').length === 1 ? tried.stdout.trim().split(/(?<=\})(?=\{)/) : tried.stdout.trim().split('\n');
    expect(JSON.parse(checkout!)).toMatchObject({ id: 'ord_1', customerId: 'C-1' });
    expect(JSON.parse(crm!)).toEqual(JSON.parse(expected));
    // A browser gets the explorer.
    expect(await (await fetch(`http://localhost:${port}/crm/graphql`, { headers: { accept: 'text/html' } })).text()).toContain('Kokyaku GraphQL explorer');

    server.kill('SIGINT');
    expect(await exited, output).toBe(0);
    server = undefined;
    await expect(fs.access(path.join(app, '.kokyaku', 'postgres', 'postmaster.pid'))).rejects.toThrow();
  }, 600_000);
});

/** Names the guides' snippets use without defining them: what the reader's own app has. */
const PRELUDE: Record<string, string> = {
  kokyaku: `declare const kokyaku: import('@kokyaku/core').Kokyaku;`,
  app: `declare const app: import('express').Express;`,
  yourStaffFromSession: `declare function yourStaffFromSession(req: unknown): import('@kokyaku/core').Actor | null;`,
  staffFrom: `declare function staffFrom(from: unknown): import('@kokyaku/core').Actor | null;`,
  staffOf: `declare function staffOf(from: unknown): import('@kokyaku/core').Actor | null;`,
  getKokyaku: `declare function getKokyaku(): Promise<import('@kokyaku/core').Kokyaku>;`,
  ShopContext: `type ShopContext = { staff?: { id: string } };`,
  shopSchema: `declare const shopSchema: import('graphql').GraphQLSchema;`,
  adminUrl: `declare const adminUrl: string;`,
  vipPlugin: `declare const vipPlugin: import('@kokyaku/core').KokyakuPlugin;`,
  award: `declare function award(ctx: import('@kokyaku/core').KokyakuContext, customerId: string, points: number, key: string): Promise<void>;`,
};

/** Whether a snippet defines or imports `name` itself. */
function defines(code: string, name: string): boolean {
  return (
    new RegExp(`\\b(const|let|var|function|class|type|interface)\\s+${name}\\b`).test(code) ||
    new RegExp(`import\\s+(type\\s+)?(${name}\\b|\\{[^}]*\\b${name}\\b[^}]*\\})`).test(code)
  );
}

/**
 * A snippet that shows slots of a plugin (`segmentFunctions: [...]`) is checked inside a plugin
 * object, its imports kept at the top.
 */
function asModule(code: string): string {
  const lines = code.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const rest = lines.filter((l) => !l.startsWith('import ')).join('\n');
  if (!/^\s*\w+: /.test(rest.trimStart())) return code;
  return `${imports.join('\n')}\nimport { definePlugin as __definePlugin } from '@kokyaku/core';\nexport const __plugin = __definePlugin({ name: 'example', version: '1.0.0', compatibility: '^0.1.0',\n${rest}\n});`;
}

describe('the guides', () => {
  it('every TypeScript block of docs/embedding.md, docs/plugins.md and docs/console.md type-checks against the packages', async () => {
    const dir = await fs.mkdtemp(path.join(root, 'packages/server/test/.docs-blocks-'));
    cleanup.push(dir);
    const files: string[] = [];
    for (const doc of ['docs/embedding.md', 'docs/plugins.md', 'docs/console.md']) {
      const text = await fs.readFile(path.join(root, doc), 'utf8');
      // Titled blocks are files the guide has you write (server.ts imports ./vip-plugin.js).
      const blocks = [...text.matchAll(/```(?:ts|tsx)(?: title="([^"]+)")?\n([\s\S]*?)\n```/g)].map((m) => ({ title: m[1], code: m[2]! }));
      expect(blocks.length, doc).toBeGreaterThanOrEqual(3);
      for (const [i, { title, code }] of blocks.entries()) {
        const prelude = Object.entries(PRELUDE)
          .filter(([name]) => new RegExp(`(?<![@\\w/.-])${name}\\b`).test(code) && !defines(code, name))
          .map(([, line]) => line);
        const file = path.join(dir, title ?? `${path.basename(doc, '.md')}-${i}.ts`);
        await fs.writeFile(file, `${prelude.join('\n')}\n${asModule(code)}\nexport {};\n`);
        files.push(file);
      }
    }
    const config = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(files, { ...options, noEmit: true, types: ['node'] });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 120_000);
});
