import pg from 'pg';
import type { Kokyaku } from '../kokyaku.js';

export interface RefreshSchedule {
  /** Runs one refresh now (skipped if another process is refreshing). */
  runNow(): Promise<boolean>;
  stop(): void;
}

/**
 * Runs `kokyaku.refresh()` every `intervalMs` (RFM scores drift with the calendar; models are
 * refitted). Several servers may share a database: a PostgreSQL advisory lock lets one of them
 * refresh at a time and the others skip that round.
 */
export function scheduleRefresh(
  kokyaku: Kokyaku,
  options: { intervalMs: number; onError?: (error: unknown) => void; onDone?: (result: Awaited<ReturnType<Kokyaku['refresh']>>) => void },
): RefreshSchedule {
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
      (options.onError ?? ((e) => console.error('[kokyaku] scheduled refresh failed', e)))(error);
      return false;
    } finally {
      running = false;
      await lock.end().catch(() => undefined);
    }
  };
  const timer = setInterval(() => void runNow(), options.intervalMs);
  timer.unref();
  return { runNow, stop: () => clearInterval(timer) };
}
