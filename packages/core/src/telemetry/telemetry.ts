import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOBS_SCHEMA } from '../automation/worker.js';
import type { ReadReplicas } from '../database/replicas.js';
import { SYSTEM, bindTenant, sql } from '../shared/sql.js';

/** Latency buckets (seconds) of requests and statements: 5 ms to 10 s. */
const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The pool of knex (tarn) that MikroORM keeps. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/**
 * What a Kokyaku process tells an operator: Prometheus metrics in a registry of its own
 * (`kokyaku.telemetry.registry`; served at `/metrics` by `kokyaku serve`), and OpenTelemetry spans
 * through the host's tracer (none registered: the API's no-op, nearly free). No metric carries a
 * tenant, an actor or personal data; GraphQL operations are labelled by their root fields, which
 * the schema bounds, never by the client's operation name.
 */
export class Telemetry {
  readonly registry = new Registry();
  readonly tracer = trace.getTracer('kokyaku');
  readonly requests: Counter<'operation' | 'type' | 'outcome'>;
  readonly requestSeconds: Histogram<'operation' | 'type'>;
  readonly refreshSeconds: Histogram<never>;
  readonly refreshFailures: Counter<'step'>;
  readonly jobs: Counter<'queue' | 'outcome'>;

  constructor(orm: MikroORM, replicas: ReadReplicas | null, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'kokyaku_' });
    this.requests = new Counter({
      name: 'kokyaku_graphql_requests_total',
      help: 'GraphQL requests by root field(s), operation type and outcome (ok, error)',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'kokyaku_graphql_request_duration_seconds',
      help: 'GraphQL request latency by root field(s) and operation type',
      labelNames: ['operation', 'type'],
      buckets: LATENCY,
      registers,
    });
    this.refreshSeconds = new Histogram({
      name: 'kokyaku_refresh_duration_seconds',
      help: 'Duration of a refresh of every shop (metrics, RFM, CLV, recommendations, scores, segments)',
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
      registers,
    });
    this.refreshFailures = new Counter({ name: 'kokyaku_refresh_failures_total', help: 'Steps of a refresh that failed for a tenant', labelNames: ['step'], registers });
    this.jobs = new Counter({ name: 'kokyaku_jobs_total', help: 'Background jobs this process ran, by queue and outcome', labelNames: ['queue', 'outcome'], registers });

    const knexPool = () => (orm.em.getKnex().client as { pool?: TarnPool }).pool;
    new Gauge({
      name: 'kokyaku_db_pool_connections',
      help: 'Connections of the database pools by state (used, free, waiting: acquisitions waiting for one)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        const pool = knexPool();
        if (pool) {
          this.set({ pool: 'primary', state: 'used' }, pool.numUsed());
          this.set({ pool: 'primary', state: 'free' }, pool.numFree());
          this.set({ pool: 'primary', state: 'waiting' }, pool.numPendingAcquires());
        }
        for (const replica of replicas?.replicas ?? []) {
          const p = replica.pool;
          this.set({ pool: replica.name, state: 'used' }, p.totalCount - p.idleCount);
          this.set({ pool: replica.name, state: 'free' }, p.idleCount);
          this.set({ pool: replica.name, state: 'waiting' }, p.waitingCount);
        }
      },
    });
    new Gauge({
      name: 'kokyaku_job_queue_depth',
      help: 'Background jobs waiting to run (created or to retry), by queue',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const em = bindTenant(orm.em.fork(), SYSTEM);
        const [exists] = await sql<{ ok: boolean }>(em, `select to_regclass($1) is not null as ok`, [`${JOBS_SCHEMA}.job`]);
        if (!exists?.ok) return;
        const rows = await sql<{ name: string; n: number }>(em, `select name, count(*)::int as n from ${JOBS_SCHEMA}.job where state in ('created', 'retry') group by name`);
        for (const row of rows) this.set({ queue: row.name }, row.n);
      },
    });
    if (replicas) {
      const each = (name: string, help: string, read: (s: ReturnType<ReadReplicas['status']>[number]) => number | null) =>
        new Gauge({
          name,
          help,
          labelNames: ['replica'],
          registers,
          collect() {
            this.reset();
            for (const status of replicas.status()) {
              const value = read(status);
              if (value !== null) this.set({ replica: status.name }, value);
            }
          },
        });
      each('kokyaku_replica_healthy', 'Whether a read replica serves reads (1) or was taken out (0)', (s) => (s.healthy ? 1 : 0));
      each('kokyaku_replica_lag_bytes', 'WAL a read replica has yet to replay, at the last check', (s) => s.lagBytes);
      each('kokyaku_replica_lag_seconds', 'Age of the last transaction a lagging replica replayed (0 when caught up)', (s) => s.lagSeconds);
      each('kokyaku_replica_reads', 'Statements a replica served', (s) => s.reads);
      each('kokyaku_replica_fallbacks', 'Statements sent to a replica that the primary ran instead', (s) => s.fallbacks);
    }
  }

  /** The metrics in Prometheus's text format. */
  async metrics(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Runs `work` in an active span named `name`; its error marks the span and goes on. */
  async span<T>(name: string, attributes: Record<string, string | number | boolean>, work: (span: Span) => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  }
}
