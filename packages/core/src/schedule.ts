import pg from 'pg';
import type { Kokyaku } from './kokyaku.js';
import { SYSTEM, bindTenant } from './shared/sql.js';

export interface RefreshSchedule {
  /** Runs one refresh now (skipped if another process is refreshing). */
  runNow(): Promise<boolean>;
  /** Runs one recommendations catch-up now; returns the neighbour lists recomputed. */
  catchUpNow(): Promise<number>;
  stop(): void;
}

/**
 * Runs `kokyaku.refresh()` every `intervalMs` (RFM scores drift with the calendar; models are
 * refitted). Several servers may share a database: a PostgreSQL advisory lock lets one of them
 * refresh at a time and the others skip that round. Every `catchUpMs` (default a minute; 0: never)
 * it also brings the recommendation lists up to date with the orders recorded since
 * (`recommendations.catchUp` for each tenant with pending changes).
 */
export function scheduleRefresh(
  kokyaku: Kokyaku,
  options: {
    intervalMs: number;
    catchUpMs?: number;
    onError?: (error: unknown) => void;
    onDone?: (result: Awaited<ReturnType<Kokyaku['refresh']>>) => void;
  },
): RefreshSchedule {
  const onError = options.onError ?? ((e: unknown) => console.error('[kokyaku] scheduled job failed', e));
  let running = false;
  const runNow = async () => {
    if (running) return false;
    running = true;
    const lock = new pg.Client({ connectionString: kokyaku.databaseUrl });
    try {
      await lock.connect();
      const { rows } = await lock.query<{ locked: boolean }>(`select pg_try_advisory_lock(hashtext('kokyaku.refresh')) as locked`);
      if (!rows[0]?.locked) return false;
      try {
        options.onDone?.(await kokyaku.refresh());
        return true;
      } finally {
        await lock.query(`select pg_advisory_unlock(hashtext('kokyaku.refresh'))`);
      }
    } catch (error) {
      onError(error);
      return false;
    } finally {
      running = false;
      await lock.end().catch(() => undefined);
    }
  };
  let catchingUp = false;
  const catchUpNow = async () => {
    if (catchingUp) return 0;
    catchingUp = true;
    try {
      const tenants = await kokyaku.recommendations.pendingTenants(bindTenant(kokyaku.orm.em.fork(), SYSTEM));
      let lists = 0;
      for (const tenantId of tenants) lists += await kokyaku.recommendations.catchUp(kokyaku.context({ tenantId }));
      return lists;
    } catch (error) {
      onError(error);
      return 0;
    } finally {
      catchingUp = false;
    }
  };
  const timer = setInterval(() => void runNow(), options.intervalMs);
  timer.unref();
  const catchUpMs = options.catchUpMs ?? 60_000;
  const catchUpTimer = catchUpMs > 0 ? setInterval(() => void catchUpNow(), catchUpMs) : null;
  catchUpTimer?.unref();
  return {
    runNow,
    catchUpNow,
    stop: () => {
      clearInterval(timer);
      if (catchUpTimer) clearInterval(catchUpTimer);
    },
  };
}
