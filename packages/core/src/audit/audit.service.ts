import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, type Page, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql } from '../shared/sql.js';

/**
 * What was done to whose personal data. `READ`: personal fields were shown to the actor;
 * `CREATE`/`UPDATE`: written (fields: those the write carried); `EXPORT`, `ERASE`, `CONSENT`,
 * `OBJECTION`: privacy requests; `SHOP_ERASE`: every row of a tenant deleted; `MERGE`: other
 * customers merged into this one (detail: their ids).
 */
export const AUDIT_ACTIONS = ['READ', 'CREATE', 'UPDATE', 'EXPORT', 'ERASE', 'CONSENT', 'OBJECTION', 'SHOP_ERASE', 'MERGE'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntryInput {
  action: AuditAction;
  customerId: string | null;
  /** Names of the personal fields concerned (never their values). */
  fields?: readonly string[];
  requestId?: string | null;
  /** Ids and counts only: the log must not hold personal data. */
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actorId: string | null;
  actorRoles: string[];
  action: AuditAction;
  customerId: string | null;
  fields: string[];
  requestId: string | null;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  customerId?: string | null;
  actorId?: string | null;
  action?: AuditAction | null;
  from?: Date | null;
  to?: Date | null;
  first?: number | null;
  after?: string | null;
}

interface AuditRow {
  id: string;
  at: Date | string;
  actor_id: string | null;
  actor_roles: string[];
  action: AuditAction;
  customer_id: string | null;
  fields: string[];
  request_id: string | null;
  detail: Record<string, unknown>;
}

export class AuditService {
  /** Appends entries for the context's actor (one statement, in the caller's transaction if any). */
  async record(ctx: KokyakuContext, entries: readonly AuditEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    await sql(
      ctx.em,
      `insert into kokyaku.audit_log (tenant_id, actor_id, actor_roles, action, customer_id, fields, request_id, detail)
       select $1, $2, kokyaku.json_texts($3::jsonb), e.action, e.customer_id, kokyaku.json_texts(coalesce(e.fields, '[]')), e.request_id,
              coalesce(e.detail, '{}')
       from jsonb_to_recordset($4::jsonb) as e(action text, customer_id bigint, fields jsonb, request_id text, detail jsonb)`,
      [
        ctx.tenantId,
        ctx.actor?.id ?? null,
        JSON.stringify(ctx.actor?.roles ?? []),
        JSON.stringify(entries.map((e) => ({ action: e.action, customer_id: e.customerId, fields: e.fields ?? [], request_id: e.requestId ?? null, detail: e.detail ?? {} }))),
      ],
    );
  }

  /** The audit log, newest first, filtered. */
  async list(ctx: KokyakuContext, filter: AuditFilter = {}): Promise<Page<AuditEntry>> {
    const first = pageSize(filter.first);
    const after = filter.after ? (decodeCursor(filter.after, 'a')?.[0] ?? '') : null;
    if (after !== null && !/^\d{1,18}$/.test(after)) throw KokyakuError.invalidCursor(filter.after ?? '');
    if (filter.customerId != null && !/^\d{1,18}$/.test(filter.customerId)) return { nodes: [], hasNextPage: false, endCursor: null };
    const rows = await sql<AuditRow>(
      ctx.em,
      `select id::text as id, at, actor_id, actor_roles, action, customer_id::text as customer_id, fields, request_id, detail
       from kokyaku.audit_log
       where tenant_id = $1 and ($2::bigint is null or customer_id = $2::bigint) and ($3::text is null or actor_id = $3)
         and ($4::text is null or action = $4) and ($5::timestamptz is null or at >= $5) and ($6::timestamptz is null or at < $6)
         and ($7::bigint is null or id < $7::bigint)
       order by audit_log.id desc
       limit $8`,
      [ctx.tenantId, filter.customerId ?? null, filter.actorId ?? null, filter.action ?? null, filter.from ?? null, filter.to ?? null, after, first + 1],
    );
    return keysetPage(
      rows,
      first,
      (r): AuditEntry => ({
        id: r.id,
        at: asDate(r.at),
        actorId: r.actor_id,
        actorRoles: r.actor_roles,
        action: r.action,
        customerId: r.customer_id,
        fields: r.fields,
        requestId: r.request_id,
        detail: r.detail,
      }),
      'a',
      (e) => [e.id],
    );
  }
}
