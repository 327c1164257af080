import type { TestProject } from 'vitest/node';
import { ensureConsoleBuilt } from './packages/console/src/node/source.js';
import { startTestPostgres } from './packages/core/src/testing/index.js';
import { startTestDovecot, type TestDovecot } from './packages/core/src/testing/dovecot.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kokyakuAdminUrl: string;
    /** The run's Dovecot IMAP server, or null where Dovecot is not installed (mailbox tests skip, saying so). */
    kokyakuDovecot: TestDovecot | null;
  }
}

/** One PostgreSQL server for the whole run; every test file creates its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The staff console is built once here (when its sources changed), not by each test file that mounts it.
  // Dovecot too: one IMAP server for the run, an account per test.
  const [server, , dovecot] = await Promise.all([startTestPostgres(), ensureConsoleBuilt(), startTestDovecot()]);
  project.provide('kokyakuAdminUrl', server.adminUrl);
  project.provide('kokyakuDovecot', dovecot ? { host: dovecot.host, port: dovecot.port, tlsPort: dovecot.tlsPort, ca: dovecot.ca, dir: dovecot.dir, config: dovecot.config } : null);
  return async () => {
    await dovecot?.stop();
    await server.stop();
  };
}
