import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Customer, Logger, Order, ProcessContext, ProductVariant, TransactionalConnection } from '@vendure/core';
import { IsNull, MoreThan, Not, type ObjectLiteral, type EntityManager, type EntityTarget } from 'typeorm';
import { KokyakuSyncState } from './entities.js';
import { KokyakuService, loggerCtx } from './kokyaku.service.js';

export const BACKFILL_PHASES = ['customers', 'products', 'orders'] as const;
export type BackfillPhase = (typeof BACKFILL_PHASES)[number];
export type BackfillStatus = 'idle' | 'running' | 'paused' | 'done' | 'failed';

/** The backfill's checkpoint, kept in Vendure's database (table kokyaku_sync_state). */
export interface BackfillState {
  status: BackfillStatus;
  phase: BackfillPhase;
  /** Last Vendure id sent in the current phase: a restart resumes after it. */
  cursor: string | null;
  done: Record<BackfillPhase, number>;
  total: Record<BackfillPhase, number>;
  /** Records Kokyaku refused (with the first messages). */
  refused: number;
  problems: string[];
  batchSize: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Seconds spent sending (without pauses). */
  seconds: number;
  /** Seconds spent sending each phase (orders per second = done.orders / phaseSeconds.orders). */
  phaseSeconds: Record<BackfillPhase, number>;
  error: string | null;
}

const KEY = 'backfill';
/** Advisory lock key: one backfill at a time across every server process on this database. */
const LOCK = 0x6b6f6b79;

function idle(): BackfillState {
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

/**
 * Sends the shop's whole history (customers, product variants, placed orders) to Kokyaku in
 * batches, in id order, saving a checkpoint after each batch: a crash or a pause resumes after the
 * last batch stored. Kokyaku's ingestion is idempotent on Vendure's ids, so a batch sent twice (a
 * crash between storing and the checkpoint) changes nothing, and live sync may run meanwhile.
 */
@Injectable()
export class KokyakuBackfill implements OnApplicationBootstrap, OnApplicationShutdown {
  private run: Promise<BackfillState> | null = null;
  private pauseRequested = false;
  private shuttingDown = false;

  constructor(
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
    @Inject(KokyakuService) private readonly kokyaku: KokyakuService,
    @Inject(ProcessContext) private readonly processContext: ProcessContext,
  ) {}

  /** A backfill that was running when the server stopped resumes on start-up. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.processContext.isServer) return;
    const state = await this.state();
    if (state.status === 'running') {
      Logger.info(`Resuming the Kokyaku backfill at ${state.phase} after id ${state.cursor ?? '(start)'}`, loggerCtx);
      void this.start({ restart: false }).catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Stop after the current batch; the checkpoint keeps saying "running", so the next start resumes.
    this.shuttingDown = true;
    await this.run?.catch(() => undefined);
  }

  async state(): Promise<BackfillState> {
    const row = await this.connection.rawConnection.getRepository(KokyakuSyncState).findOne({ where: { key: KEY } });
    return row ? { ...idle(), ...(row.value as unknown as BackfillState) } : idle();
  }

  /** The running backfill, if this process runs one. */
  get current(): Promise<BackfillState> | null {
    return this.run;
  }

  /**
   * Start (or resume) the backfill in the background and return its state right away; `wait()`
   * gives its end. `restart` starts over from the first customer; otherwise a paused or failed
   * backfill resumes where it stopped and a finished one is not run again.
   */
  async start(options: { restart?: boolean; batchSize?: number; onProgress?: (state: BackfillState) => void } = {}): Promise<BackfillState> {
    if (this.run) return this.state();
    let state = await this.state();
    if (options.restart || state.status === 'idle' || state.status === 'done') {
      if (state.status === 'done' && !options.restart) return state;
      state = { ...idle(), status: 'running', startedAt: new Date().toISOString() };
    }
    state = { ...state, status: 'running', error: null, batchSize: options.batchSize ?? state.batchSize };
    await this.save(state);
    this.pauseRequested = false;
    this.run = this.execute(state, options.onProgress).finally(() => {
      this.run = null;
    });
    return state;
  }

  /** Stop after the batch in flight; `start()` resumes. */
  async pause(): Promise<BackfillState> {
    this.pauseRequested = true;
    const run = this.run;
    if (run) return run;
    const state = await this.state();
    if (state.status === 'running') await this.save({ ...state, status: 'paused' });
    return this.state();
  }

  async wait(): Promise<BackfillState> {
    return (await this.run) ?? (await this.state());
  }

  private async execute(initial: BackfillState, onProgress?: (state: BackfillState) => void): Promise<BackfillState> {
    const lockRunner = this.connection.rawConnection.createQueryRunner();
    await lockRunner.connect();
    let state = initial;
    try {
      const [{ locked }] = await lockRunner.query('select pg_try_advisory_lock($1) as locked', [LOCK]);
      if (!locked) {
        Logger.info('Another process runs the Kokyaku backfill', loggerCtx);
        return state;
      }
      await this.kokyaku.kokyaku();
      const manager = this.connection.rawConnection.manager;
      state = { ...state, total: await this.totals(manager) };
      let lastLog = Date.now();
      for (const phase of BACKFILL_PHASES.slice(BACKFILL_PHASES.indexOf(state.phase))) {
        if (phase !== state.phase) state = { ...state, phase, cursor: null };
        for (;;) {
          if (this.shuttingDown) return state;
          if (this.pauseRequested) {
            state = { ...state, status: 'paused' };
            await this.save(state);
            return state;
          }
          const started = performance.now();
          const ids = await this.nextIds(manager, phase, state.cursor, state.batchSize);
          if (ids.length === 0) break;
          const problems: string[] = [];
          const delivered = await this.kokyaku.write(
            {
              customers: phase === 'customers' ? await this.kokyaku.loadCustomers(manager, ids) : [],
              products: phase === 'products' ? await this.kokyaku.loadProducts(manager, ids) : [],
              orders: phase === 'orders' ? await this.kokyaku.loadOrders(manager, ids) : [],
              events: [],
              erase: [],
            },
            (_kind, _ref, message) => problems.push(message),
          );
          state = {
            ...state,
            cursor: ids[ids.length - 1]!,
            done: { ...state.done, [phase]: state.done[phase] + ids.length },
            refused: state.refused + problems.length,
            problems: [...state.problems, ...problems].slice(0, 20),
            seconds: state.seconds + (performance.now() - started) / 1000,
            phaseSeconds: { ...state.phaseSeconds, [phase]: state.phaseSeconds[phase] + (performance.now() - started) / 1000 },
          };
          void delivered;
          await this.save(state);
          onProgress?.(state);
          if (Date.now() - lastLog > 5000) {
            lastLog = Date.now();
            Logger.info(`Kokyaku backfill: ${phase} ${state.done[phase]}/${state.total[phase]}`, loggerCtx);
          }
        }
      }
      state = { ...state, status: 'done', finishedAt: new Date().toISOString() };
      await this.save(state);
      onProgress?.(state);
      Logger.info(
        `Kokyaku backfill done: ${state.done.customers} customers, ${state.done.products} products, ${state.done.orders} orders in ${state.seconds.toFixed(1)} s${state.refused ? `, ${state.refused} refused` : ''}`,
        loggerCtx,
      );
      return state;
    } catch (error) {
      state = { ...state, status: 'failed', error: (error as Error).message };
      await this.save(state).catch(() => undefined);
      Logger.error(`Kokyaku backfill failed (start it again to resume): ${(error as Error).message}`, loggerCtx);
      return state;
    } finally {
      await lockRunner.query('select pg_advisory_unlock($1)', [LOCK]).catch(() => undefined);
      await lockRunner.release();
    }
  }

  private where(phase: BackfillPhase): Record<string, unknown> {
    if (phase === 'customers') return { deletedAt: IsNull() };
    if (phase === 'orders') return { orderPlacedAt: Not(IsNull()), customer: { deletedAt: IsNull() } };
    return {};
  }

  private entity(phase: BackfillPhase): EntityTarget<ObjectLiteral> {
    return phase === 'customers' ? Customer : phase === 'products' ? ProductVariant : Order;
  }

  private async totals(manager: EntityManager): Promise<Record<BackfillPhase, number>> {
    const count = (phase: BackfillPhase) => manager.getRepository(this.entity(phase)).count({ where: this.where(phase), withDeleted: true });
    return { customers: await count('customers'), products: await count('products'), orders: await count('orders') };
  }

  private async nextIds(manager: EntityManager, phase: BackfillPhase, cursor: string | null, take: number): Promise<string[]> {
    const rows = await manager.getRepository(this.entity(phase)).find({
      select: { id: true },
      where: { ...this.where(phase), ...(cursor === null ? {} : { id: MoreThan(cursor) }) },
      order: { id: 'ASC' },
      take,
      withDeleted: true,
    });
    return rows.map((r) => String(r.id));
  }

  private async save(state: BackfillState): Promise<void> {
    const repository = this.connection.rawConnection.getRepository(KokyakuSyncState);
    const row = await repository.findOne({ where: { key: KEY } });
    if (row) await repository.update({ id: row.id }, { value: { ...state } as unknown as Record<string, never> });
    else await repository.insert({ key: KEY, value: { ...state } as unknown as Record<string, never> });
  }
}
