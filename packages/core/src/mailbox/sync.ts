import type { ImapFlow } from 'imapflow';
import type { KokyakuContext } from '../shared/context.js';
import { sql, sqlOne, transaction } from '../shared/sql.js';
import type { MailboxConfig } from './config.js';
import { type ConnectionRow, connectImap, describeMailError } from './imap.js';
import { parseMessage } from './parse.js';
import { type StoreDeps, type StoreResult, storeMessages } from './store.js';

export interface SyncResult extends StoreResult {
  /** Messages read from the server in this pass. */
  fetched: number;
  /** Folders whose UIDVALIDITY changed since the last pass (read again, duplicates skipped). */
  resetFolders: string[];
}

export interface SyncOptions {
  now?: Date;
  /** Told after each stored chunk (progress of a long first import). */
  progress?: (folder: string, done: number, total: number) => void;
}

/**
 * One pass over a mailbox: every followed folder, from the last UID stored (the first pass: the
 * last `initial_days`), in chunks of `chunkSize`, each stored in one transaction with the folder's
 * new last UID. A pass that dies (a crash, a restart, a lost connection) resumes after the last
 * committed chunk; the Message-ID keeps anything seen twice out. A changed UIDVALIDITY reads the
 * folder's window again. The outcome (last sync, or the error's code) is kept on the connection.
 */
export async function syncMailbox(ctx: KokyakuContext, deps: StoreDeps & { config: MailboxConfig }, row: ConnectionRow, options: SyncOptions = {}): Promise<SyncResult> {
  const result: SyncResult = { stored: 0, unmatched: 0, duplicates: 0, fetched: 0, resetFolders: [] };
  let client: ImapFlow | null = null;
  try {
    client = await connectImap(deps.config, row);
    for (const path of row.folders) await syncFolder(ctx, deps, client, row, path, result, options);
    await sql(
      ctx.em,
      `update kokyaku.mail_connections set status = 'ACTIVE', error_code = null, error_message = null, error_at = null, last_synced_at = now(), updated_at = now()
       where tenant_id = $1 and id = $2::bigint and status <> 'PAUSED'`,
      [ctx.tenantId, row.id],
    );
    return result;
  } catch (error) {
    const { code, message } = describeMailError(error);
    await sql(
      ctx.em,
      `update kokyaku.mail_connections set status = 'ERROR', error_code = $3, error_message = $4, error_at = now(), updated_at = now()
       where tenant_id = $1 and id = $2::bigint and status <> 'PAUSED'`,
      [ctx.tenantId, row.id, code, message],
    );
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { mailErrorCode: code });
  } finally {
    await client?.logout().catch(() => client?.close());
  }
}

async function syncFolder(
  ctx: KokyakuContext,
  deps: StoreDeps & { config: MailboxConfig },
  client: ImapFlow,
  row: ConnectionRow,
  path: string,
  result: SyncResult,
  options: SyncOptions,
): Promise<void> {
  const box = await client.mailboxOpen(path, { readOnly: true });
  const uidValidity = String(box.uidValidity);
  const state = await sqlOne<{ uid_validity: string; last_uid: string }>(
    ctx.em,
    `select uid_validity::text, last_uid::text from kokyaku.mail_folders where tenant_id = $1 and connection_id = $2::bigint and path = $3`,
    [ctx.tenantId, row.id, path],
  );
  const reset = !!state && state.uid_validity !== uidValidity;
  if (reset) result.resetFolders.push(path);
  let lastUid = state && !reset ? Number(state.last_uid) : 0;
  if (!state || reset) {
    await sql(
      ctx.em,
      `insert into kokyaku.mail_folders (tenant_id, connection_id, path, uid_validity, last_uid) values ($1, $2::bigint, $3, $4::bigint, 0)
       on conflict (connection_id, path, tenant_id) do update set uid_validity = excluded.uid_validity, last_uid = 0`,
      [ctx.tenantId, row.id, path, uidValidity],
    );
  }
  const since = new Date((options.now ?? new Date()).getTime() - row.initial_days * 86_400_000);
  const found = (await client.search(lastUid > 0 ? { uid: `${lastUid + 1}:*` } : { since }, { uid: true })) || [];
  const uids = found.filter((uid) => uid > lastUid).sort((a, b) => a - b);
  for (let i = 0; i < uids.length; i += deps.config.chunkSize) {
    const chunk = uids.slice(i, i + deps.config.chunkSize);
    const fetched = await client.fetchAll(chunk.join(','), { uid: true, internalDate: true, source: { maxLength: deps.config.maxMessageBytes } }, { uid: true });
    const parsed = await Promise.all(fetched.filter((m) => m.source).map((m) => parseMessage(m.source!, m.internalDate ? new Date(m.internalDate) : null)));
    const chunkLast = chunk[chunk.length - 1]!;
    const stored = await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      const outcome = await storeMessages(tx, deps, { id: row.id, address: row.address, excluded: row.excluded, openInquiries: row.open_inquiries }, parsed);
      await sql(em, `update kokyaku.mail_folders set last_uid = $4::bigint, synced_at = now() where tenant_id = $1 and connection_id = $2::bigint and path = $3`, [
        ctx.tenantId,
        row.id,
        path,
        chunkLast,
      ]);
      await sql(em, `update kokyaku.mail_connections set unmatched_count = unmatched_count + $3 where tenant_id = $1 and id = $2::bigint`, [
        ctx.tenantId,
        row.id,
        outcome.unmatched,
      ]);
      return outcome;
    });
    lastUid = chunkLast;
    result.fetched += fetched.length;
    result.stored += stored.stored;
    result.unmatched += stored.unmatched;
    result.duplicates += stored.duplicates;
    options.progress?.(path, Math.min(i + chunk.length, uids.length), uids.length);
  }
}
