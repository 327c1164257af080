import { randomUUID } from 'node:crypto';
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
 * refitted). Every process of a fleet may schedule it (`kokyaku serve`, `kokyaku worker`): time
 * is cut into slots of `intervalMs` from the epoch, and each slot's refresh runs in exactly one
 * process, the one that claims the slot in `kokyaku.scheduled_runs` first, under a PostgreSQL
 * advisory lock that keeps two refreshes from overlapping. The first slot is the one after the
 * schedule starts. Every `catchUpMs` (default a minute; 0: never) it also brings the
 * recommendation lists up to date with the orders recorded since (`recommendations.catchUp` for
 * each tenant with pending changes).
 */
export function scheduleRefresh(
  kokyaku: Kokyaku,
  options: {
    intervalMs: number;
    catchUpMs?: number;
    onError?: (error: unknown) => void;
    onDone?: (result: Awaited<ReturnType<Kokyaku['refresh']>>, slot: number | null) => void;
  },
): RefreshSchedule {
  const onError = options.onError ?? ((e: unknown) => console.error('[kokyaku] scheduled job failed', e));
  const me = randomUUID();
  let running = false;
  /** One refresh under the advisory lock; with a slot, only if this process claims it. */
  const refresh = async (slot: number | null) => {
    if (running) return false;
    running = true;
    const lock = new pg.Client({ connectionString: kokyaku.databaseUrl });
    try {
      await lock.connect();
      const { rows } = await lock.query<{ locked: boolean }>(`select pg_try_advisory_lock(hashtext('kokyaku.refresh')) as locked`);
      if (!rows[0]?.locked) return false;
      try {
        if (slot !== null) {
          const claimed = await lock.query(`insert into kokyaku.scheduled_runs (job, slot, process) values ('refresh', $1, $2) on conflict do nothing`, [slot, me]);
          if (claimed.rowCount !== 1) return false;
        }
        const result = await kokyaku.refresh();
        if (slot !== null) await lock.query(`update kokyaku.scheduled_runs set finished_at = now() where job = 'refresh' and slot = $1`, [slot]);
        options.onDone?.(result, slot);
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
  const runNow = () => refresh(null);
  const firstSlot = Math.floor(Date.now() / options.intervalMs) + 1;
  const tick = () => {
    const slot = Math.floor(Date.now() / options.intervalMs);
    if (slot >= firstSlot) void refresh(slot);
  };
  // Looks for a slot to claim a few times per slot, at most every minute.
  const timer = setInterval(tick, Math.max(100, Math.min(60_000, options.intervalMs / 4)));
  timer.unref();
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
