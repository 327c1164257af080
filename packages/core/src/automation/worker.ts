import type { MikroORM } from '@mikro-orm/postgresql';
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { AutomationConfig } from './config.js';
import type { KokyakuContext } from '../shared/context.js';
import { SYSTEM, bindTenant, sql } from '../shared/sql.js';
import type { JourneyService } from './journeys.js';
import { todayIn } from '../shared/dates.js';
import { NOTIFY_CHANNEL, captureDates } from './triggers.js';

export const JOURNEY_QUEUE = 'kokyaku-journey-run';
/** pg-boss keeps its tables in this schema. */
export const JOBS_SCHEMA = 'kokyaku_jobs';

interface RunJob {
  tenantId: string;
  runId: string;
}

export interface WorkerOptions {
  orm: MikroORM;
  databaseUrl: string;
  config: AutomationConfig;
  journeys: JourneyService;
  context: (tenantId: string) => KokyakuContext;
  /** Told about failures the worker recovers from (default: console.warn). */
  log?: (message: string) => void;
  /** Told how each job ended: done, to be retried, or failed for good (the job metrics). */
  onJob?: (outcome: 'ok' | 'retry' | 'failed') => void;
}

/**
 * The journey worker: PostgreSQL is the only moving part. Due runs are found by a sweep (on a
 * timer, and at once when a commit that started runs sends `NOTIFY kokyaku_automation`), claimed
 * by stamping `dispatched_at`, and handed to pg-boss as one job per run; `concurrency` jobs run
 * at a time, each on its own EntityManager fork. A step that throws is retried by pg-boss with
 * exponential backoff; the last attempt records the failure. A worker killed mid-step holds no
 * lock after its connection dies: the run's step rolls back, the run is due still, and the next
 * sweep after `staleSeconds` dispatches it again. Several workers may run against one database.
 */
export class AutomationWorker {
  private boss: PgBoss | null = null;
  private listener: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly log: (message: string) => void;
  private datesDone = new Map<string, string>();

  constructor(private readonly options: WorkerOptions) {
    this.log = options.log ?? ((m) => console.warn(`[kokyaku worker] ${m}`));
  }

  async start(): Promise<this> {
    const { config, databaseUrl } = this.options;
    const boss = new PgBoss({
      connectionString: databaseUrl,
      schema: JOBS_SCHEMA,
      max: config.concurrency + 2,
      application_name: 'kokyaku-worker',
      // Archive and expire on a short cycle: a job of a dead worker expires after staleSeconds.
      maintenanceIntervalSeconds: Math.max(1, Math.min(60, config.staleSeconds)),
      monitorStateIntervalSeconds: 60,
      schedule: false,
    });
    boss.on('error', (error) => this.log(`queue: ${(error as Error).message}`));
    await boss.start();
    await boss.createQueue(JOURNEY_QUEUE, {
      name: JOURNEY_QUEUE,
      // One queued job per run; a run being worked on may be queued again (after a crash).
      policy: 'short',
      retryLimit: config.retryLimit,
      retryDelay: config.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: Math.max(30, config.staleSeconds * 2),
    });
    this.boss = boss;
    for (let i = 0; i < config.concurrency; i++) {
      let id = '';
      id = await boss.work<RunJob>(JOURNEY_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true }, async ([job]) => {
        if (!job) return;
        try {
          await this.handle(job.data, job.retryCount >= job.retryLimit);
        } finally {
          // A job was there: look for the next one at once instead of after the polling interval.
          boss.notifyWorker(id);
        }
      });
    }
    await this.listen();
    this.timer = setInterval(() => this.sweep(), config.sweepSeconds * 1000);
    this.sweep();
    return this;
  }

  /** LISTEN on a connection of its own; a lost connection is re-opened on the next sweep. */
  private async listen(): Promise<void> {
    if (this.listener || this.stopped) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'kokyaku-worker-listen' });
    client.on('notification', () => this.sweep());
    client.on('error', (error) => {
      this.log(`listener: ${error.message}`);
      if (this.listener === client) this.listener = null;
    });
    try {
      await client.connect();
      await client.query(`listen ${NOTIFY_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      this.log(`listener: ${(error as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }

  private async handle(job: RunJob, finalAttempt: boolean): Promise<void> {
    const ctx = this.options.context(job.tenantId);
    try {
      await this.options.journeys.engine.advance(ctx, job.runId, { finalAttempt });
      this.options.onJob?.('ok');
    } catch (error) {
      if (finalAttempt) {
        this.options.onJob?.('failed');
        await this.options.journeys.engine.fail(ctx, job.runId, (error as Error).message);
        return;
      }
      this.options.onJob?.('retry');
      throw error;
    }
  }

  /** Finds due runs and queues them; runs again at once if asked while running. */
  sweep(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.sweeping) {
      this.again = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      try {
        do {
          this.again = false;
          await this.dispatch();
        } while (this.again && !this.stopped);
      } catch (error) {
        this.log(`sweep: ${(error as Error).message}`);
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  private async dispatch(): Promise<void> {
    const boss = this.boss;
    if (!boss) return;
    if (!this.listener) await this.listen();
    const em = bindTenant(this.options.orm.em.fork(), SYSTEM);
    await this.dates(em);
    for (;;) {
      const claimed = await sql<{ id: string; tenant_id: string }>(
        em,
        `update kokyaku.journey_runs r set dispatched_at = now()
         where (r.id, r.tenant_id) in (
           select x.id, x.tenant_id from kokyaku.journey_runs x /* every shop */
           where x.status in ('ACTIVE', 'WAITING') and x.wake_at <= now()
             and (x.dispatched_at is null or x.dispatched_at < now() - make_interval(secs => $1))
             -- Runs of paused (or draft) journeys wait where they are: activating sends NOTIFY.
             and exists (select 1 from kokyaku.journeys j where j.tenant_id = x.tenant_id and j.id = x.journey_id and j.status in ('ACTIVE', 'ARCHIVED'))
           order by x.wake_at limit 200 for update of x skip locked)
         returning r.id::text as id, r.tenant_id`,
        [this.options.config.staleSeconds],
      );
      if (claimed.length === 0) return;
      await boss.insert(claimed.map((r) => ({ name: JOURNEY_QUEUE, data: { tenantId: r.tenant_id, runId: r.id }, singletonKey: r.id })));
      if (claimed.length < 200) return;
    }
  }

  /** DATE triggers, once per shop per local day. */
  private async dates(em: ReturnType<MikroORM['em']['fork']>): Promise<void> {
    const tenants = await sql<{ tenant_id: string }>(em, `select distinct tenant_id from kokyaku.journeys /* every shop */ where status = 'ACTIVE' and trigger_type = 'DATE'`);
    for (const { tenant_id } of tenants) {
      const ctx = this.options.context(tenant_id);
      const today = todayIn(ctx.shop.timeZone);
      if (this.datesDone.get(tenant_id) === today) continue;
      await captureDates(ctx, new Date());
      this.datesDone.set(tenant_id, today);
    }
  }

  /** Stops taking jobs, lets the ones in hand finish (up to 10 s), and closes the connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await this.boss?.stop({ graceful: true, wait: true, timeout: 10_000 });
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
    this.boss = null;
  }
}
