import type { TestProject } from 'vitest/node';
import { ensureConsoleBuilt } from './packages/console/src/node/source.js';
import { startTestPostgres } from './packages/core/src/testing/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kokyakuAdminUrl: string;
  }
}

/** One PostgreSQL server for the whole run; every test file creates its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The staff console is built once here (when its sources changed), not by each test file that mounts it.
  const [server] = await Promise.all([startTestPostgres(), ensureConsoleBuilt()]);
  project.provide('kokyakuAdminUrl', server.adminUrl);
  return () => server.stop();
}
