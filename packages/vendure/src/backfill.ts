import { BACKFILL_PHASES, type BackfillPhase, type BackfillState, type BackfillStatus, backfillToRun, idleBackfill, runBackfill } from '@kokyaku/core';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Customer, Logger, Order, ProcessContext, ProductVariant, TransactionalConnection } from '@vendure/core';
import { type EntityManager, type EntityTarget, IsNull, MoreThan, Not, type ObjectLiteral } from 'typeorm';
import { KokyakuSyncState } from './entities.js';
import { KokyakuService, loggerCtx } from './kokyaku.service.js';

export { BACKFILL_PHASES, type BackfillPhase, type BackfillState, type BackfillStatus };

const KEY = 'backfill';
/** Advisory lock key: one backfill at a time across every server process on this database. */
const LOCK = 0x6b6f6b79;

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
    return row ? { ...idleBackfill(), ...(row.value as unknown as BackfillState) } : idleBackfill();
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
    const saved = await this.state();
    if (saved.status === 'done' && !options.restart) return saved;
    const state = backfillToRun(saved, options);
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
    try {
      const [{ locked }] = await lockRunner.query('select pg_try_advisory_lock($1) as locked', [LOCK]);
      if (!locked) {
        Logger.info('Another process runs the Kokyaku backfill', loggerCtx);
        return initial;
      }
      const manager = this.connection.rawConnection.manager;
      let lastLog = Date.now();
      const state = await runBackfill(
        await this.kokyaku.kokyaku(),
        await this.kokyaku.context(),
        {
          count: (phase) => manager.getRepository(this.entity(phase)).count({ where: this.where(phase), withDeleted: true }),
          nextIds: (phase, cursor, take) => this.nextIds(manager, phase, cursor, take),
          load: async (phase, ids) =>
            phase === 'customers'
              ? { customers: await this.kokyaku.loadCustomers(manager, ids) }
              : phase === 'products'
                ? { products: await this.kokyaku.loadProducts(manager, ids) }
                : { orders: await this.kokyaku.loadOrders(manager, ids) },
        },
        initial,
        {
          save: (s) => this.save(s),
          stop: () => (this.shuttingDown ? 'exit' : this.pauseRequested ? 'pause' : null),
          erasureReason: 'Customer deleted in Vendure',
          onProgress: (s) => {
            onProgress?.(s);
            if (Date.now() - lastLog > 5000) {
              lastLog = Date.now();
              Logger.info(`Kokyaku backfill: ${s.phase} ${s.done[s.phase]}/${s.total[s.phase]}`, loggerCtx);
            }
          },
        },
      );
      if (state.status === 'done') {
        Logger.info(
          `Kokyaku backfill done: ${state.done.customers} customers, ${state.done.products} products, ${state.done.orders} orders in ${state.seconds.toFixed(1)} s${state.refused ? `, ${state.refused} refused` : ''}`,
          loggerCtx,
        );
      }
      if (state.status === 'failed') Logger.error(`Kokyaku backfill failed (start it again to resume): ${state.error}`, loggerCtx);
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
