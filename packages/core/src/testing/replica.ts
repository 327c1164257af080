import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './dovecot.js';

const run = promisify(execFile);

/**
 * A PostgreSQL primary and a hot standby streaming from it (Debian's `postgresql` package), for
 * tests of read replicas. Both run from a temporary directory on free ports of 127.0.0.1, with
 * trust authentication for the user `kokyaku`.
 */
export interface TestReplicaPair {
  /** Connection string of a database on the primary. */
  primaryUrl(database: string): string;
  /** The same database on the standby. */
  replicaUrl(database: string): string;
  /** Creates a database on the primary (it reaches the standby through the WAL). */
  createDatabase(name: string): Promise<void>;
  /** Stops the standby at once (`pg_ctl stop -m immediate`), as a crash or a network cut would. */
  stopReplica(): Promise<void>;
  /** Starts the standby again; it catches up from the primary. */
  startReplica(): Promise<void>;
  /** PostgreSQL's major version (Debian's). */
  version: number;
  /** The process id of the primary's or the standby's postmaster (for CPU figures). */
  pid(which: 'primary' | 'standby'): number;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL binaries (the newest installed), or null (`apt-get install postgresql`). */
export function debianPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'postgres')) && existsSync(path.join(root, v, 'bin', 'pg_basebackup')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/** The uid and gid of a user in /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts a primary (wal_level replica) and a standby made from it with `pg_basebackup -R`, and
 * waits until the standby streams. PostgreSQL refuses to run as root: under root both run as
 * Debian's `postgres` user. Returns null when Debian's PostgreSQL is not installed.
 */
export async function startTestReplicaPair(): Promise<TestReplicaPair | null> {
  const bin = debianPostgresBin();
  if (!bin) return null;
  const version = Number(path.basename(path.dirname(bin)));
  const dir = await mkdtemp(path.join(tmpdir(), 'kokyaku-replica-'));
  await chmod(dir, 0o755);
  const owner = userInfo().uid === 0 ? userIds('postgres') : null;
  if (userInfo().uid === 0 && !owner) throw new Error('Running as root, PostgreSQL needs the user "postgres" (Debian\'s postgresql package makes it).');
  if (owner) await chown(dir, owner.uid, owner.gid);
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const pg = (tool: string, args: string[]) => run(path.join(bin, tool), args, { ...as, env: { ...process.env, LC_ALL: 'C' }, cwd: dir });
  const primaryDir = path.join(dir, 'primary');
  const standbyDir = path.join(dir, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const start = (data: string, port: number) =>
    pg('pg_ctl', ['-D', data, '-l', `${data}.log`, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);

  try {
    await pg('initdb', ['-D', primaryDir, '-U', 'kokyaku', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    // Replication on (trust for 127.0.0.1 is initdb's default); fsync off, as for every test server.
    await appendFile(
      path.join(primaryDir, 'postgresql.conf'),
      ['', 'wal_level = replica', 'max_wal_senders = 5', 'hot_standby = on', 'fsync = off', 'full_page_writes = off', 'max_connections = 200', 'shared_buffers = 64MB', ''].join(
        '\n',
      ),
    );
    await start(primaryDir, primaryPort);
    await pg('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'kokyaku', '-D', standbyDir, '-R', '-X', 'stream', '--no-sync']);
    await start(standbyDir, standbyPort);
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function stopAll(): Promise<void> {
    for (const data of [standbyDir, primaryDir]) {
      if (existsSync(path.join(data, 'postmaster.pid'))) await pg('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }

  const url = (port: number, database: string) => `postgres://kokyaku@127.0.0.1:${port}/${database}`;
  const psql = (port: number, statement: string) => run(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'kokyaku', '-d', 'postgres', '-Atc', statement]);
  // Wait until the standby streams (its WAL receiver is up).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { stdout } = await psql(standbyPort, `select count(*) from pg_stat_wal_receiver where status = 'streaming'`).catch(() => ({ stdout: '0' }));
    if (stdout.trim() === '1') break;
    if (Date.now() > deadline) {
      await stopAll();
      throw new Error('The standby did not start streaming within 60 s.');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    version,
    pid: (which) => Number(readFileSync(path.join(which === 'primary' ? primaryDir : standbyDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    primaryUrl: (database) => url(primaryPort, database),
    replicaUrl: (database) => url(standbyPort, database),
    createDatabase: async (name) => {
      await psql(primaryPort, `create database "${name.replace(/"/g, '')}"`);
    },
    stopReplica: async () => {
      await pg('pg_ctl', ['-D', standbyDir, '-m', 'immediate', 'stop']);
    },
    startReplica: async () => {
      await start(standbyDir, standbyPort);
    },
    stop: stopAll,
  };
}
