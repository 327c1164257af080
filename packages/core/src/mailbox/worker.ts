import pg from 'pg';
import type { KokyakuContext } from '../shared/context.js';
import type { MailboxConfig } from './config.js';
import { connectImap } from './imap.js';
import type { MailboxService } from './mailbox.service.js';

export interface MailboxWorkerOptions {
  databaseUrl: string;
  config: MailboxConfig;
  mailbox: MailboxService;
  context: (tenantId: string) => KokyakuContext;
  /** Told about what the follower recovers from (default: console.warn). No secret is in it. */
  log?: (message: string) => void;
}

/** The IDLE connection of one wait: closed when the wait ends, whoever ends it. */
class Watch {
  client: Awaited<ReturnType<typeof connectImap>> | null = null;
  closed = false;
  close(): void {
    this.closed = true;
    const client = this.client;
    void client?.logout().catch(() => client.close());
  }
}

interface Follower {
  wake: () => void;
  done: Promise<void>;
}

/**
 * Follows every active mailbox of every shop: a sync pass, then a wait for new mail (IMAP IDLE on
 * the inbox where the server has it, else `pollSeconds`), and again. Each mailbox is followed by
 * one process among many (a PostgreSQL advisory lock held on the worker's own connection, freed
 * when the process dies). A mailbox in error is tried again every `pollSeconds`; one shop's
 * broken mailbox never holds up another's.
 */
export class MailboxWorker {
  private readonly followers = new Map<string, Follower>();
  private locks: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private scanning: Promise<void> | null = null;
  private readonly log: (message: string) => void;
  /** The lock connection's statements, one after the other (a pg client runs one at a time). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MailboxWorkerOptions) {
    this.log = options.log ?? ((m) => console.warn(`[kokyaku mailbox] ${m}`));
  }

  async start(): Promise<this> {
    this.locks = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'kokyaku-mailbox' });
    this.locks.on('error', (error) => this.log(`lock connection: ${error.message}`));
    await this.locks.connect();
    await this.scan();
    this.timer = setInterval(() => void this.scan(), this.options.config.pollSeconds * 1000);
    this.timer.unref();
    return this;
  }

  private query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    const run = this.queue.then(() => {
      if (!this.locks) throw new Error('the mailbox worker is stopped');
      return this.locks.query<R>(text, values);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Looks for mailboxes nobody follows yet (new ones, or a dead process's). */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped || !this.locks) return;
    try {
      const { rows } = await this.query<{ id: string; tenant_id: string }>(
        `select id::text, tenant_id from kokyaku.mail_connections /* every shop */ where status <> 'PAUSED' order by id`,
      );
      for (const row of rows) {
        if (this.followers.has(row.id)) continue;
        const { rows: got } = await this.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtextextended('kokyaku-mail:' || $1, 0)) as ok`, [row.id]);
        if (!got[0]?.ok) continue;
        this.follow(row.id, row.tenant_id);
      }
    } catch (error) {
      this.log(`scan: ${(error as Error).message}`);
    }
  }

  private follow(id: string, tenantId: string): void {
    let wake = () => {};
    const follower: Follower = { wake: () => wake(), done: Promise.resolve() };
    follower.done = (async () => {
      while (!this.stopped) {
        const ctx = this.options.context(tenantId);
        const current = await this.options.mailbox.get(ctx, id).catch(() => null);
        if (!current || current.status === 'PAUSED') break;
        const { mailbox } = await this.options.mailbox.sync(ctx, id).catch((error) => {
          this.log(`mailbox ${id}: ${(error as Error).message}`);
          return { mailbox: null };
        });
        if (this.stopped) break;
        const watch = new Watch();
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (mailbox?.status === 'ACTIVE') void this.waitForMail(ctx, id, resolve, watch);
          setTimeout(resolve, this.options.config.pollSeconds * 1000).unref();
        });
        watch.close();
      }
    })()
      .catch((error) => this.log(`mailbox ${id}: ${(error as Error).message}`))
      .finally(async () => {
        this.followers.delete(id);
        await this.query(`select pg_advisory_unlock(hashtextextended('kokyaku-mail:' || $1, 0))`, [id]).catch(() => {});
      });
    this.followers.set(id, follower);
  }

  /** Resolves when the inbox has mail the last pass did not read (IDLE; the poll timer resolves too). */
  private async waitForMail(ctx: KokyakuContext, id: string, resolve: () => void, watch: Watch): Promise<void> {
    try {
      const row = await this.options.mailbox.row(ctx, id);
      const inbox = row.folders.find((f) => f.toUpperCase() === 'INBOX');
      if (!inbox || watch.closed) return;
      const client = await connectImap(this.options.config, row, { idle: true });
      watch.client = client;
      if (watch.closed) return watch.close();
      const box = await client.mailboxOpen(inbox, { readOnly: true });
      const seen = await this.options.mailbox.lastUid(ctx, id, inbox);
      // Mail that came between the pass and now: no need to wait.
      if (seen !== null && Number(box.uidNext) - 1 > seen) return resolve();
      client.on('exists', () => resolve());
      client.on('close', () => resolve());
      await client.idle();
    } catch {
      // The next pass reports what is wrong with the mailbox.
      resolve();
    }
  }

  /** Stops following: the passes under way finish their chunk; the locks go with the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    for (const f of this.followers.values()) f.wake();
    await Promise.all([...this.followers.values()].map((f) => f.done));
    await this.queue;
    await this.locks?.end().catch(() => {});
    this.locks = null;
  }

  /** The mailboxes this process follows now. */
  following(): string[] {
    return [...this.followers.keys()];
  }
}
