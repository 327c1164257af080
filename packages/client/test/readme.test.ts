import fs from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, expect, it } from 'vitest';

/**
 * The README's examples are what a newcomer copies: each block must type-check against the
 * package as it is (a renamed hook or field fails here, not in someone's editor).
 */
const here = import.meta.dirname;
const dir = path.join(here, '.readme-blocks');
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

it('every code example of the README type-checks', async () => {
  const readme = await fs.readFile(path.join(here, '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(ts|tsx)\n([\s\S]*?)\n```/g)].map((m) => m[2]!);
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  await fs.mkdir(dir, { recursive: true });
  const files = await Promise.all(
    blocks.map(async (code, i) => {
      // The SSR example is two halves of a page (server and browser) with names the page defines.
      const body = code.includes('dehydrate(')
        ? `${code
            .split('\n')
            .filter((l) => l.startsWith('import'))
            .join('\n')}
declare const incomingCookie: string; declare const browserQueryClient: QueryClient; declare const browserClient: ReturnType<typeof createKokyakuClient>; declare function Popular(): null;
export async function page() {
${code
  .split('\n')
  .filter((l) => !l.startsWith('import'))
  .join('\n')}
}`
        : code.replace('process.env.CRM_TOKEN', "'token'");
      const file = path.join(dir, `block${i}.tsx`);
      await fs.writeFile(file, `${body}\nexport {};\n`);
      return file;
    }),
  );
  const config = ts.readConfigFile(path.join(here, '..', '..', '..', 'tsconfig.base.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, path.join(here, '..', '..', '..'));
  const program = ts.createProgram(files, { ...options, noEmit: true, types: ['node'] });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
}, 60_000);
