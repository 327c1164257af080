import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { sql } from '../shared/sql.js';

/** The channel every Kokyaku process listens on. */
export const CHANNEL = 'kokyaku';

/** What one process tells the others. */
export type BusMessage =
  /** A tenant's cached figures of `scope` changed: drop them. */
  | { kind: 'cache'; scope: string; tenantId: string }
  /** An actor wrote; their reads must see the primary at `position` (read replicas). */
  | { kind: 'wrote'; key: string; position: string };

type Handler = (message: BusMessage) => void;

/**
 * Messages between the processes that share a database (servers, workers), over PostgreSQL's
 * LISTEN/NOTIFY: no broker to run. A message sent in a transaction is delivered when it commits,
 * and not at all when it rolls back. Delivery is at most once: while the listening connection is
 * down, messages are missed, so when it comes back every handler hears `reconnected` and drops
 * what it cached.
 */
export class Bus {
  /** This process, so that it can skip its own messages (it acted on them already). */
  readonly origin = randomUUID();
  private client: pg.Client | null = null;
  private readonly handlers = new Set<Handler>();
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** Resolves once the first LISTEN is in place (or failed). */
  readonly ready: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly log: (message: string) => void = (m) => console.warn(m),
  ) {
    this.ready = this.connect(false);
  }

  /** Hears every message of the other processes. */
  subscribe(handler: Handler, onReconnect?: () => void): void {
    this.handlers.add(handler);
    if (onReconnect) this.reconnectHandlers.add(onReconnect);
  }

  /** Sends `message` to every other process: with `em` in its transaction (sent on commit), else at once. */
  async publish(em: EntityManager, message: BusMessage): Promise<void> {
    await sql(em, `select pg_notify('${CHANNEL}', $1)`, [JSON.stringify({ ...message, origin: this.origin })]);
  }

  /** Whether the listening connection is up. */
  get listening(): boolean {
    return this.client !== null;
  }

  private async connect(again: boolean): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, keepAlive: true });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      if (!again) this.log(`[kokyaku] cannot listen for other processes' changes yet (${String(error)}); retrying`);
      this.schedule();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      let message: BusMessage & { origin?: string };
      try {
        message = JSON.parse(n.payload);
      } catch {
        return;
      }
      if (message.origin === this.origin) return;
      for (const handler of this.handlers) handler(message);
    });
    this.client = client;
    this.attempt = 0;
    if (again) for (const handler of this.reconnectHandlers) handler();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry) return;
    const delay = Math.min(5000, 100 * 2 ** this.attempt++);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect(true);
    }, delay);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
