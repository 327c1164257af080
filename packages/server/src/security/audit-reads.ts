import type { Actor, AuditEntryInput, Kokyaku } from '@kokyaku/core';
import type { Logger } from '../logger.js';

interface Pending {
  kokyaku: Kokyaku;
  tenantId: string;
  actor: Actor | null;
  entries: AuditEntryInput[];
}

/**
 * Writes READ entries of the audit log (who was shown whose personal fields) off the request
 * path: entries gather for `flushMs` (default 1 s) or 500 entries, then go in one statement per
 * tenant and actor. Stopping the server writes what is left; a crash loses at most `flushMs` of
 * read entries (changes and privacy requests are audited in their own transaction). `flushMs: 0`
 * writes before the response is sent.
 */
export class AuditReadBuffer {
  private pending = new Map<string, Pending>();
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    private readonly flushMs = 1000,
  ) {}

  async add(kokyaku: Kokyaku, tenantId: string, actor: Actor | null, reads: Map<string, Set<string>>, requestId: string | undefined): Promise<void> {
    const key = JSON.stringify([tenantId, actor?.id ?? null, actor?.roles ?? []]);
    const batch = this.pending.get(key) ?? { kokyaku, tenantId, actor, entries: [] };
    for (const [customerId, fields] of reads) {
      batch.entries.push({ action: 'READ', customerId, fields: [...fields].sort(), requestId: requestId ?? null });
      this.size++;
    }
    this.pending.set(key, batch);
    if (this.flushMs === 0 || this.size >= 500) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes every pending entry. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batches = [...this.pending.values()];
    this.pending = new Map();
    this.size = 0;
    this.flushing = this.flushing.then(async () => {
      for (const batch of batches) {
        try {
          await batch.kokyaku.audit.record(batch.kokyaku.context({ tenantId: batch.tenantId, actor: batch.actor }), batch.entries);
        } catch (error) {
          this.logger.error({ err: error, tenantId: batch.tenantId, entries: batch.entries.length }, 'could not write audit entries');
        }
      }
    });
    return this.flushing;
  }
}
