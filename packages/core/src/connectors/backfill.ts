import type { KokyakuContext } from '../shared/context.js';
import { type ShopBatch, type ShopWriter, writeShopBatch } from './shop-sync.js';

export const BACKFILL_PHASES = ['customers', 'products', 'orders'] as const;
export type BackfillPhase = (typeof BACKFILL_PHASES)[number];
export type BackfillStatus = 'idle' | 'running' | 'paused' | 'done' | 'failed';

/** A backfill's checkpoint: the connector keeps it in the shop's database after every batch. */
export interface BackfillState {
  status: BackfillStatus;
  phase: BackfillPhase;
  /** Last shop id sent in the current phase: a restart resumes after it. */
  cursor: string | null;
  done: Record<BackfillPhase, number>;
  total: Record<BackfillPhase, number>;
  /** Records Kokyaku refused, with the first 20 messages. */
  refused: number;
  problems: string[];
  batchSize: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Seconds spent sending (pauses left out). */
  seconds: number;
  /** Seconds spent on each phase (orders per second = done.orders / phaseSeconds.orders). */
  phaseSeconds: Record<BackfillPhase, number>;
  error: string | null;
}

export function idleBackfill(): BackfillState {
  return {
    status: 'idle',
    phase: 'customers',
    cursor: null,
    done: { customers: 0, products: 0, orders: 0 },
    total: { customers: 0, products: 0, orders: 0 },
    refused: 0,
    problems: [],
    batchSize: 500,
    startedAt: null,
    finishedAt: null,
    seconds: 0,
    phaseSeconds: { customers: 0, products: 0, orders: 0 },
    error: null,
  };
}

/** The state a start (or resume) begins from: a finished or idle backfill (or `restart`) starts over. */
export function backfillToRun(saved: BackfillState, options: { restart?: boolean; batchSize?: number }): BackfillState {
  const fresh = options.restart || saved.status === 'idle' || saved.status === 'done';
  const state = fresh ? { ...idleBackfill(), startedAt: new Date().toISOString() } : saved;
  return { ...state, status: 'running', error: null, batchSize: options.batchSize ?? saved.batchSize };
}

/** What a shop gives the backfill: its records in id order, read as Kokyaku inputs. */
export interface BackfillSource {
  /** How many records each phase has (for progress). */
  count(phase: BackfillPhase): Promise<number>;
  /** The next `take` ids of a phase after `cursor` (null: from the start), in the shop's id order. */
  nextIds(phase: BackfillPhase, cursor: string | null, take: number): Promise<string[]>;
  /** Those records as Kokyaku inputs. */
  load(phase: BackfillPhase, ids: readonly string[]): Promise<Partial<ShopBatch>>;
}

/**
 * Walk the shop's history, customers then products then orders, a batch at a time, saving the
 * checkpoint after each: a crash between storing and saving sends that batch again, which changes
 * nothing (ingestion is idempotent on the shop's ids). `stop()` is asked before every batch:
 * 'pause' saves the state as paused; 'exit' (the process is stopping) leaves it as running, so
 * the next start resumes. A thrown error saves it as failed (starting again resumes).
 */
export async function runBackfill(
  kokyaku: ShopWriter,
  ctx: KokyakuContext,
  source: BackfillSource,
  initial: BackfillState,
  hooks: { save(state: BackfillState): Promise<void>; stop(): 'pause' | 'exit' | null; onProgress?(state: BackfillState): void; erasureReason?: string },
): Promise<BackfillState> {
  let state = initial;
  try {
    state = { ...state, total: { customers: await source.count('customers'), products: await source.count('products'), orders: await source.count('orders') } };
    for (const phase of BACKFILL_PHASES.slice(BACKFILL_PHASES.indexOf(state.phase))) {
      if (phase !== state.phase) state = { ...state, phase, cursor: null };
      for (;;) {
        const stop = hooks.stop();
        if (stop === 'exit') return state;
        if (stop === 'pause') {
          state = { ...state, status: 'paused' };
          await hooks.save(state);
          return state;
        }
        const started = performance.now();
        const ids = await source.nextIds(phase, state.cursor, state.batchSize);
        if (ids.length === 0) break;
        const { refused } = await writeShopBatch(kokyaku, ctx, await source.load(phase, ids), { erasureReason: hooks.erasureReason });
        const seconds = (performance.now() - started) / 1000;
        state = {
          ...state,
          cursor: ids[ids.length - 1]!,
          done: { ...state.done, [phase]: state.done[phase] + ids.length },
          refused: state.refused + refused.length,
          problems: [...state.problems, ...refused.map((r) => r.message)].slice(0, 20),
          seconds: state.seconds + seconds,
          phaseSeconds: { ...state.phaseSeconds, [phase]: state.phaseSeconds[phase] + seconds },
        };
        await hooks.save(state);
        hooks.onProgress?.(state);
      }
    }
    state = { ...state, status: 'done', finishedAt: new Date().toISOString() };
    await hooks.save(state);
    hooks.onProgress?.(state);
    return state;
  } catch (error) {
    state = { ...state, status: 'failed', error: (error as Error).message };
    await hooks.save(state).catch(() => undefined);
    return state;
  }
}
