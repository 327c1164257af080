import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './packages/core/src/testing/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kokyakuAdminUrl: string;
  }
}

/** One PostgreSQL server for the whole run; every test file creates its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide('kokyakuAdminUrl', server.adminUrl);
  return () => server.stop();
}
