import pg from 'pg';
import type { ReplicaChooser, ReplicaTarget } from '../shared/sql.js';

/**
 * Read replicas: PostgreSQL hot standbys that take reads off the primary (docs/scaling.md).
 *
 * - Each replica has its own pool. A health check (every `checkMs`) asks each for what it has
 *   replayed and how far behind it is; one that does not answer, or is no longer a standby, is
 *   taken out until it answers again.
 * - An actor who wrote reads their write: `wrote(key)` remembers the primary's WAL position
 *   after the write, and a read for that actor waits (up to `waitMs`) until the replica has
 *   replayed that far, else reads the primary.
 * - `sql` (shared/sql.ts) sends a context's read statements here when the context asked for
 *   replica reads; a statement a replica cannot run (it writes, or the replica went away) runs on
 *   the primary instead, so no request fails because of a replica.
 */
export interface ReplicaOptions {
  /** How often each replica is checked (default 1000 ms). */
  checkMs?: number;
  /** How long a read waits for a replica to replay the actor's last write (default 500 ms). */
  waitMs?: number;
  /** Pool size of each replica (default: the primary's). */
  poolSize: number;
  /** The primary's WAL position, for the lag figures. */
  primaryPosition: () => Promise<string>;
  log?: (message: string) => void;
}

/** What the health check last saw of a replica. */
export interface ReplicaStatus {
  /** The replica's address without its password. */
  name: string;
  healthy: boolean;
  /** WAL the replica has yet to replay (bytes), at the last check; null when unknown. */
  lagBytes: number | null;
  /** Age of the last transaction it replayed when it has more to replay (s); 0 when caught up. */
  lagSeconds: number | null;
  /** Why it was taken out, when it was. */
  error?: string;
  /** Reads it served, and reads sent to the primary instead because it failed. */
  reads: number;
  fallbacks: number;
}

export class Replica implements ReplicaTarget {
  readonly pool: pg.Pool;
  readonly name: string;
  healthy = false;
  /** What it had replayed at the last look (as a number of bytes of WAL). */
  replayed = 0n;
  lagBytes: number | null = null;
  lagSeconds: number | null = null;
  error: string | undefined = 'not checked yet';
  reads = 0;
  fallbacks = 0;

  constructor(url: string, poolSize: number) {
    this.name = displayName(url);
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 2000, idleTimeoutMillis: 30_000 });
    // A connection whose server went away: an idle one the pool drops; a checked-out one fails
    // its statement, and `sql` reads the primary instead. Neither may crash the process.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Takes the replica out until the next check finds it answering. */
  takeOut(error: unknown): void {
    this.healthy = false;
    this.error = error instanceof Error ? error.message : String(error);
  }
}

const CHECK = `select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replayed,
  case when pg_last_wal_receive_lsn() is null or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0
       else extract(epoch from now() - pg_last_xact_replay_timestamp()) end::float8 as lag_seconds`;

export class ReadReplicas implements ReplicaChooser {
  readonly replicas: Replica[];
  readonly waitMs: number;
  private next = 0;
  private readonly timer: NodeJS.Timeout;
  private checking: Promise<void> | null = null;
  /** Where each actor's last write ended on the primary (bounded: the oldest go first). */
  private readonly positions = new Map<string, bigint>();

  constructor(
    urls: readonly string[],
    private readonly options: ReplicaOptions,
  ) {
    this.replicas = urls.map((url) => new Replica(url, options.poolSize));
    this.waitMs = options.waitMs ?? 500;
    this.timer = setInterval(() => void this.check(), options.checkMs ?? 1000);
    this.timer.unref();
  }

  /** Checks every replica now (the first check before serving, then every `checkMs`). */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    const primary = await this.options.primaryPosition().then(lsn, () => null);
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const { rows } = await withTimeout(replica.pool.query<{ standby: boolean; replayed: string | null; lag_seconds: number }>(CHECK), 2000);
          const row = rows[0]!;
          if (!row.standby || row.replayed === null) throw new Error('it is not a standby (promoted, or not replicating)');
          replica.replayed = lsn(row.replayed);
          replica.lagBytes = primary === null ? null : Math.max(0, Number(primary - replica.replayed));
          replica.lagSeconds = row.lag_seconds;
          if (!replica.healthy) this.options.log?.(`[kokyaku] read replica ${replica.name} is serving reads`);
          replica.healthy = true;
          replica.error = undefined;
        } catch (error) {
          if (replica.healthy) this.options.log?.(`[kokyaku] read replica ${replica.name} taken out: ${String(error)}`);
          replica.takeOut(error);
          replica.lagBytes = null;
          replica.lagSeconds = null;
        }
      }),
    );
  }

  /** The next healthy replica (round robin), or null when none is. */
  pick(): Replica | null {
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length]!;
      if (replica.healthy) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return null;
  }

  /** Remembers where the primary's WAL was after `key` (tenant and actor) wrote. */
  wrote(key: string, position: string): void {
    const at = lsn(position);
    const before = this.positions.get(key);
    if (before !== undefined && before >= at) return;
    this.positions.delete(key);
    this.positions.set(key, at);
    if (this.positions.size > 10_000) this.positions.delete(this.positions.keys().next().value!);
  }

  /** Where `key`'s last write ended, if it wrote lately. */
  positionOf(key: string): bigint | undefined {
    return this.positions.get(key);
  }

  /**
   * Whether `replica` has replayed `position`: asks it again every few milliseconds, up to
   * `waitMs`. False: read the primary.
   */
  async caughtUp(replica: Replica, position: bigint): Promise<boolean> {
    if (replica.replayed >= position) return true;
    const deadline = performance.now() + this.waitMs;
    for (;;) {
      const { rows } = await replica.pool.query<{ replayed: string | null }>('select pg_last_wal_replay_lsn()::text as replayed');
      const replayed = rows[0]?.replayed;
      if (replayed) replica.replayed = lsn(replayed) > replica.replayed ? lsn(replayed) : replica.replayed;
      if (replica.replayed >= position) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((r) => ({
      name: r.name,
      healthy: r.healthy,
      lagBytes: r.lagBytes,
      lagSeconds: r.lagSeconds,
      reads: r.reads,
      fallbacks: r.fallbacks,
      ...(r.error ? { error: r.error } : {}),
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    await Promise.all(this.replicas.map((r) => r.pool.end().catch(() => undefined)));
  }
}

/** A WAL position (`16/B374D848`) as a number of bytes. */
export function lsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** A connection string without its password, for logs and metrics. */
export function displayName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'replica';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
