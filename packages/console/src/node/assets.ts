import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** A file of the built console: its content type and bytes. */
export interface ConsoleAsset {
  type: string;
  body: Buffer;
  /** Hashed file names (under assets/) never change: cache them for a year. */
  immutable: boolean;
}

/** The built console, file name (relative to the console's root, e.g. `assets/index-1a2b.js`) -> file. */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Reads a built console folder (the output of `vite build`) into memory: it is small (under 1 MB). */
export async function readAssets(root: string): Promise<ConsoleAssets> {
  const assets = new Map<string, ConsoleAsset>();
  let entries: string[];
  try {
    entries = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  } catch {
    throw new Error(`The staff console is not built (${root} is missing): run pnpm --filter @kokyaku/console build.`);
  }
  for (const file of entries) {
    const name = file.split(path.sep).join('/');
    assets.set(name, {
      type: TYPES[path.extname(name)] ?? 'application/octet-stream',
      body: await readFile(path.join(root, file)),
      immutable: name.startsWith('assets/'),
    });
  }
  if (!assets.has('index.html')) throw new Error(`The staff console build in ${root} has no index.html: rebuild it (pnpm --filter @kokyaku/console build).`);
  return assets;
}
