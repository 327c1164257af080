import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConsoleAssets, readAssets } from './assets.js';

export type { ConsoleAsset, ConsoleAssets } from './assets.js';

/**
 * The workspace's entry (condition `@kokyaku/source`: tests, `pnpm start`): the console is built
 * from its sources with Vite when dist/app is missing or older than a source file, then read like
 * the published package reads its dist.
 */
const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONSOLE_ROOT = path.join(PACKAGE, 'dist', 'app');

async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

/** Builds dist/app when a source (of the console or of @kokyaku/client) is newer; safe to call from several processes at once. */
export async function ensureConsoleBuilt(): Promise<void> {
  const built = await stat(path.join(CONSOLE_ROOT, 'index.html')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sources = Math.max(
    await newest(path.join(PACKAGE, 'src', 'app')),
    await newest(path.join(PACKAGE, '..', 'client', 'src')),
    ...(await Promise.all(['index.html', 'vite.config.ts'].map((f) => stat(path.join(PACKAGE, f)).then((s) => s.mtimeMs)))),
  );
  if (built >= sources) return;
  const { build } = await import('vite');
  // Built aside, then moved into place: a reader never sees half a build.
  const aside = path.join(PACKAGE, 'dist', `.app-${process.pid}-${Date.now()}`);
  // React's production build whatever NODE_ENV this process has (vitest's is "test"): Vite and
  // its React plugin read NODE_ENV to choose React's build and the JSX runtime.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(PACKAGE, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir: aside, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  await mkdir(path.dirname(CONSOLE_ROOT), { recursive: true });
  const old = `${CONSOLE_ROOT}-old-${process.pid}`;
  await rename(CONSOLE_ROOT, old).catch(() => undefined);
  await rename(aside, CONSOLE_ROOT).catch(async () => {
    // Another process moved its build in first: keep that one.
    await rm(aside, { recursive: true, force: true });
  });
  await rm(old, { recursive: true, force: true });
}

let loaded: Promise<ConsoleAssets> | undefined;

export function loadConsoleAssets(): Promise<ConsoleAssets> {
  loaded ??= ensureConsoleBuilt().then(() => readAssets(CONSOLE_ROOT));
  return loaded;
}
