import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConsoleAssets, readAssets } from './assets.js';

export type { ConsoleAsset, ConsoleAssets } from './assets.js';

/** Where the built console lies in the installed package. */
export const CONSOLE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'app');

let loaded: Promise<ConsoleAssets> | undefined;

/**
 * The staff console's static files (HTML, JS, CSS), read once per process. @kokyaku/server's mounts
 * serve them with `console: true`; another server can serve them itself.
 */
export function loadConsoleAssets(): Promise<ConsoleAssets> {
  loaded ??= readAssets(CONSOLE_ROOT);
  return loaded;
}
