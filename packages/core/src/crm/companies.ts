import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { toMajorUnits } from '../shared/money.js';
import { decodeCursor, type Page, type PageArgs, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import { jsonObject, optionalText } from '../shared/validation.js';
import type { CustomFieldService } from '../fields/custom-fields.js';
import { isId, parseInput, requireCustomer, requireRow, unique } from './shared.js';

export interface CompanyInput {
  /** The shop's (or the host ERP's) id of the company, unique per shop; optional. */
  externalId?: string | null;
  name: string;
  domain?: string | null;
  industry?: string | null;
  /** Number of employees. */
  size?: number | null;
  /** The parent company (group, holding): any depth, never a cycle. */
  parentId?: string | null;
  customFields?: Record<string, unknown> | null;
}

export interface CompanyRecord {
  id: string;
  externalId: string | null;
  name: string;
  domain: string | null;
  industry: string | null;
  size: number | null;
  parentId: string | null;
  customFields: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface CompanyContact {
  companyId: string;
  customerId: string;
  title: string | null;
  role: string | null;
  createdAt: Date;
}

/** A company of a subtree with its depth below the subtree's root and its revenue. */
export interface CompanyTreeNode extends CompanyRecord {
  depth: number;
  /** Ids from the subtree's root down to this company. */
  path: string[];
  /** Placed orders of this company's own contacts. */
  ownRevenue: number;
  /** Placed orders of the contacts of this company and all its descendants (a customer counted once). */
  subtreeRevenue: number;
  subtreeOrders: number;
  /** Distinct contact customers in this company and its descendants. */
  subtreeContacts: number;
}

interface CompanyRow {
  id: string;
  external_id: string | null;
  name: string;
  domain: string | null;
  industry: string | null;
  size: number | null;
  parent_id: string | null;
  custom_fields: Record<string, unknown>;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = `co.id::text as id, co.external_id, co.name, co.domain, co.industry, co.size, co.parent_id::text as parent_id, co.custom_fields, co.created_at, co.updated_at`;

const mapCompany = (r: CompanyRow): CompanyRecord => ({
  id: r.id,
  externalId: r.external_id,
  name: r.name,
  domain: r.domain,
  industry: r.industry,
  size: r.size,
  parentId: r.parent_id,
  customFields: r.custom_fields,
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
});

const fields = {
  externalId: optionalText(255),
  name: z.string({ error: 'Required: a name.' }).trim().min(1, 'Must not be empty.').max(300, 'At most 300 characters.'),
  domain: optionalText(255).transform((v) =>
    typeof v === 'string'
      ? v
          .toLowerCase()
          .replace(/^https?:\/\//, '')
          .replace(/\/.*$/, '')
          .replace(/^www\./, '')
      : v,
  ),
  industry: optionalText(200),
  size: z.number({ error: 'Must be a whole number of employees.' }).int('Must be a whole number of employees.').min(0, 'Must not be negative.').nullable().optional(),
  parentId: z.string({ error: 'Must be a company id.' }).nullable().optional(),
  customFields: jsonObject.nullable().optional(),
};
const createSchema = z.strictObject(fields);
const updateSchema = z.strictObject({ ...fields, name: fields.name.optional() });

const contactSchema = z.strictObject({ title: optionalText(200), role: optionalText(200) });

/**
 * Companies (B2B): a tree of any depth (groups, subsidiaries, branches), each with its contact
 * customers; revenue rolls up from the contacts' orders through the tree.
 */
export class CompanyService {
  constructor(private readonly customFields: CustomFieldService) {}

  async create(ctx: KokyakuContext, input: CompanyInput): Promise<CompanyRecord> {
    const c = parseInput(createSchema, input, 'company');
    const custom = await this.customFields.check(ctx, 'COMPANY', c.customFields, { creating: true });
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      if (c.parentId != null) await requireRow(tx, 'companies', c.parentId, 'parentId');
      const rows = await unique(
        () =>
          sql<CompanyRow>(
            em,
            `insert into kokyaku.companies as co (tenant_id, external_id, name, domain, industry, size, parent_id, custom_fields)
             values ($1, $2, $3, $4, $5, $6, $7::bigint, jsonb_strip_nulls($8::jsonb)) returning ${COLUMNS}`,
            [ctx.tenantId, c.externalId ?? null, c.name, c.domain ?? null, c.industry ?? null, c.size ?? null, c.parentId ?? null, JSON.stringify(custom)],
          ),
        'externalId',
        `a company with externalId ${JSON.stringify(c.externalId)} exists already.`,
      );
      return mapCompany(rows[0]!);
    });
  }

  /**
   * Changes a company; a field left out keeps its value, null clears it. Moving it under a new
   * parent is refused when the parent is the company itself or one of its descendants.
   */
  async update(ctx: KokyakuContext, id: string, patch: Partial<CompanyInput>): Promise<CompanyRecord> {
    const c = parseInput(updateSchema, patch, 'company');
    if (!(await this.get(ctx, id))) throw KokyakuError.notFound('Company', id);
    const custom = c.customFields === undefined ? undefined : await this.customFields.check(ctx, 'COMPANY', c.customFields, { creating: false });
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      if (c.parentId != null) {
        await requireRow(tx, 'companies', c.parentId, 'parentId');
        // One tree change at a time per shop: two concurrent moves cannot close a cycle together.
        await sql(em, `select pg_advisory_xact_lock(hashtext('kokyaku.companies.tree'), hashtext($1))`, [ctx.tenantId]);
        const cycle = await sqlOne<{ found: boolean }>(
          em,
          `with recursive sub(id) as (
             select $2::bigint
             union
             select co.id from kokyaku.companies co join sub on co.parent_id = sub.id where co.tenant_id = $1
           ) select exists (select 1 from sub where id = $3::bigint) as found`,
          [ctx.tenantId, id, c.parentId],
        );
        if (cycle?.found) {
          throw KokyakuError.badInput(
            `parentId: company ${c.parentId} is ${c.parentId === id ? 'this company' : 'a descendant of this company'}; a company cannot be its own ancestor.`,
            {
              field: 'parentId',
            },
          );
        }
      }
      const set = (key: keyof typeof c) => c[key] !== undefined;
      const rows = await unique(
        () =>
          sql<CompanyRow>(
            em,
            `update kokyaku.companies co set
               external_id = case when $3 then $4 else external_id end,
               name = coalesce($5, name),
               domain = case when $6 then $7 else domain end,
               industry = case when $8 then $9 else industry end,
               size = case when $10 then $11::int else size end,
               parent_id = case when $12 then $13::bigint else parent_id end,
               custom_fields = case when $14::jsonb is null then custom_fields else jsonb_strip_nulls(custom_fields || $14::jsonb) end,
               updated_at = now()
             where co.tenant_id = $1 and co.id = $2::bigint returning ${COLUMNS}`,
            [
              ctx.tenantId,
              id,
              set('externalId'),
              c.externalId ?? null,
              c.name ?? null,
              set('domain'),
              c.domain ?? null,
              set('industry'),
              c.industry ?? null,
              set('size'),
              c.size ?? null,
              set('parentId'),
              c.parentId ?? null,
              custom === undefined ? null : JSON.stringify(custom),
            ],
          ),
        'externalId',
        `a company with externalId ${JSON.stringify(c.externalId)} exists already.`,
      );
      return mapCompany(rows[0]!);
    });
  }

  /** Deletes a company without child companies (move or delete those first); its contacts, notes and tasks go with it. */
  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const child = await sqlOne(ctx.em, `select 1 from kokyaku.companies where tenant_id = $1 and parent_id = $2::bigint limit 1`, [ctx.tenantId, id]);
    if (child) throw KokyakuError.badInput(`Company ${id} has child companies; move or delete them first.`, { field: 'id' });
    const deal = await sqlOne(ctx.em, `select 1 from kokyaku.deals where tenant_id = $1 and company_id = $2::bigint limit 1`, [ctx.tenantId, id]);
    if (deal) throw KokyakuError.badInput(`Company ${id} has deals; move or delete them first.`, { field: 'id' });
    const rows = await sql(ctx.em, `delete from kokyaku.companies where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id]);
    return rows.length > 0;
  }

  async get(ctx: KokyakuContext, id: string): Promise<CompanyRecord | null> {
    return (await this.findByIds(ctx, [id])).get(id) ?? null;
  }

  async findByIds(ctx: KokyakuContext, ids: readonly string[]): Promise<Map<string, CompanyRecord>> {
    const wanted = ids.filter(isId);
    if (wanted.length === 0) return new Map();
    const rows = await sql<CompanyRow>(ctx.em, `select ${COLUMNS} from kokyaku.companies co where co.tenant_id = $1 and co.id = any(kokyaku.json_bigints($2::jsonb))`, [
      ctx.tenantId,
      JSON.stringify(wanted),
    ]);
    return new Map(rows.map((r) => [r.id, mapCompany(r)]));
  }

  async findByExternalId(ctx: KokyakuContext, externalId: string): Promise<CompanyRecord | null> {
    const row = await sqlOne<CompanyRow>(ctx.em, `select ${COLUMNS} from kokyaku.companies co where co.tenant_id = $1 and co.external_id = $2`, [ctx.tenantId, externalId]);
    return row ? mapCompany(row) : null;
  }

  /** Companies by name; `parentId` lists one company's children, `roots` the companies without a parent. */
  async list(ctx: KokyakuContext, args: PageArgs & { parentId?: string | null; roots?: boolean; search?: string | null } = {}): Promise<Page<CompanyRecord>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'co') : null;
    if (after && (after.length !== 2 || !isId(after[1]))) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<CompanyRow>(
      ctx.em,
      `select ${COLUMNS} from kokyaku.companies co
       where co.tenant_id = $1
         and ($2::bigint is null or co.parent_id = $2::bigint) and (not $3 or co.parent_id is null)
         and ($4::text is null or strpos(lower(co.name), lower($4)) > 0 or co.domain = lower($4))
         and ($5::text is null or (co.name, co.id) > ($5, $6::bigint))
       order by co.name, co.id limit $7`,
      [ctx.tenantId, args.parentId ?? null, args.roots ?? false, args.search ?? null, after?.[0] ?? null, after?.[1] ?? null, first + 1],
    );
    return keysetPage(rows, first, mapCompany, 'co', (c) => [c.name, c.id]);
  }

  /** Adds a customer as a contact of a company, or changes their title and role. */
  async addContact(
    ctx: KokyakuContext,
    companyId: string,
    customer: { id?: string | null; externalId?: string | null },
    details: { title?: string | null; role?: string | null } = {},
  ): Promise<CompanyContact> {
    const d = parseInput(contactSchema, details, 'contact');
    const company = await requireRow(ctx, 'companies', companyId, 'companyId');
    const customerId = await requireCustomer(ctx, customer, customer.id != null ? 'customerId' : 'customerExternalId');
    const [row] = await sql<{ created_at: Date | string }>(
      ctx.em,
      `insert into kokyaku.company_contacts (tenant_id, company_id, customer_id, title, role) values ($1, $2::bigint, $3::bigint, $4, $5)
       on conflict (company_id, customer_id, tenant_id) do update set title = excluded.title, role = excluded.role returning created_at`,
      [ctx.tenantId, company, customerId, d.title ?? null, d.role ?? null],
    );
    return { companyId: company, customerId, title: d.title ?? null, role: d.role ?? null, createdAt: asDate(row!.created_at) };
  }

  async removeContact(ctx: KokyakuContext, companyId: string, customerId: string): Promise<boolean> {
    if (!isId(companyId) || !isId(customerId)) return false;
    const rows = await sql(ctx.em, `delete from kokyaku.company_contacts where tenant_id = $1 and company_id = $2::bigint and customer_id = $3::bigint returning 1`, [
      ctx.tenantId,
      companyId,
      customerId,
    ]);
    return rows.length > 0;
  }

  /** The contacts of companies (by company id), oldest first. */
  async contactsOf(ctx: KokyakuContext, companyIds: readonly string[]): Promise<Map<string, CompanyContact[]>> {
    return this.contacts(ctx, 'company_id', companyIds, (c) => c.companyId);
  }

  /** The companies customers are contacts of (by customer id). */
  async companiesOfCustomers(ctx: KokyakuContext, customerIds: readonly string[]): Promise<Map<string, CompanyContact[]>> {
    return this.contacts(ctx, 'customer_id', customerIds, (c) => c.customerId);
  }

  private async contacts(
    ctx: KokyakuContext,
    column: 'company_id' | 'customer_id',
    ids: readonly string[],
    key: (c: CompanyContact) => string,
  ): Promise<Map<string, CompanyContact[]>> {
    const result = new Map<string, CompanyContact[]>(ids.map((id) => [id, []]));
    const wanted = ids.filter(isId);
    if (wanted.length === 0) return result;
    const rows = await sql<{ company_id: string; customer_id: string; title: string | null; role: string | null; created_at: Date | string }>(
      ctx.em,
      `select company_id::text as company_id, customer_id::text as customer_id, title, role, created_at from kokyaku.company_contacts
       where tenant_id = $1 and ${column} = any(kokyaku.json_bigints($2::jsonb)) order by created_at, company_id, customer_id`,
      [ctx.tenantId, JSON.stringify(wanted)],
    );
    for (const r of rows) {
      const contact = { companyId: r.company_id, customerId: r.customer_id, title: r.title, role: r.role, createdAt: asDate(r.created_at) };
      result.get(key(contact))?.push(contact);
    }
    return result;
  }

  /**
   * A company and all its descendants, depth first, each with its own revenue and the revenue
   * rolled up over its subtree (placed orders of the contacts, optionally within [from, to)). A
   * customer who is a contact of several companies of a subtree counts once in it.
   *
   * Two statements: the tree (a recursive query), then the contacts of its companies with what
   * each spent (the maintained facts, or their orders in the range through the customer index).
   * The roll-up itself runs here: a planner cannot estimate a recursive query's size, and a join
   * of its result with the contacts is where a bad guess costs minutes.
   */
  async subtree(ctx: KokyakuContext, id: string, range: { from?: Date | null; to?: Date | null } = {}): Promise<CompanyTreeNode[]> {
    if (!(await this.get(ctx, id))) throw KokyakuError.notFound('Company', id);
    const tree = await sql<CompanyRow & { depth: number; path: string[] }>(
      ctx.em,
      `with recursive tree(id, depth, path) as (
         select id, 0, array[id] from kokyaku.companies where tenant_id = $1 and id = $2::bigint
         union all
         select co.id, t.depth + 1, t.path || co.id from kokyaku.companies co join tree t on co.parent_id = t.id
         where co.tenant_id = $1 and not co.id = any(t.path)
       )
       select ${COLUMNS}, t.depth, t.path::text[] as path from tree t join kokyaku.companies co on co.tenant_id = $1 and co.id = t.id order by t.path`,
      [ctx.tenantId, id],
    );
    const ranged = range.from != null || range.to != null;
    const contacts = await sql<{ company_id: string; customer_id: string; minor: string; orders: number }>(
      ctx.em,
      ranged
        ? `select ct.company_id::text as company_id, ct.customer_id::text as customer_id, coalesce(s.minor, 0)::text as minor, coalesce(s.orders, 0)::int as orders
           from kokyaku.company_contacts ct
           left join lateral (
             select sum(o.total_minor) as minor, count(*) as orders from kokyaku.orders o
             where o.customer_id = ct.customer_id and o.tenant_id = $1 and o.status = 'PLACED'
               and ($3::timestamptz is null or o.placed_at >= $3) and ($4::timestamptz is null or o.placed_at < $4)
           ) s on true
           where ct.tenant_id = $1 and ct.company_id = any(kokyaku.json_bigints($2::jsonb))`
        : `select ct.company_id::text as company_id, ct.customer_id::text as customer_id, coalesce(f.total_spent_minor, 0)::text as minor, coalesce(f.orders_count, 0) as orders
           from kokyaku.company_contacts ct left join kokyaku.customer_facts f on f.tenant_id = ct.tenant_id and f.customer_id = ct.customer_id
           where ct.tenant_id = $1 and ct.company_id = any(kokyaku.json_bigints($2::jsonb))`,
      ranged ? [ctx.tenantId, JSON.stringify(tree.map((t) => t.id)), range.from ?? null, range.to ?? null] : [ctx.tenantId, JSON.stringify(tree.map((t) => t.id))],
    );
    // Each contact counts once in the company's own figures and once in each ancestor's subtree.
    const index = new Map(tree.map((t, i) => [t.id, i]));
    const own = tree.map(() => ({ seen: new Set<string>(), minor: 0 }));
    const below = tree.map(() => ({ seen: new Set<string>(), minor: 0, orders: 0 }));
    for (const contact of contacts) {
      const i = index.get(contact.company_id);
      if (i === undefined) continue;
      const minor = Number(contact.minor);
      if (!own[i]!.seen.has(contact.customer_id)) {
        own[i]!.seen.add(contact.customer_id);
        own[i]!.minor += minor;
      }
      for (const ancestor of tree[i]!.path) {
        const sum = below[index.get(ancestor)!]!;
        if (sum.seen.has(contact.customer_id)) continue;
        sum.seen.add(contact.customer_id);
        sum.minor += minor;
        sum.orders += contact.orders;
      }
    }
    const money = (minor: number) => toMajorUnits(minor, ctx.shop.currency);
    return tree.map((t, i) => ({
      ...mapCompany(t),
      depth: t.depth,
      path: t.path,
      ownRevenue: money(own[i]!.minor),
      subtreeRevenue: money(below[i]!.minor),
      subtreeOrders: below[i]!.orders,
      subtreeContacts: below[i]!.seen.size,
    }));
  }

  /**
   * The revenue of a company and all its descendants in one figure: placed orders of their
   * contacts (each customer once), optionally within [from, to). Two statements: the tree's ids,
   * then one aggregate over the contacts of exactly those companies (the ids travel as a bound
   * list the planner sees in full, so it plans for the real number of companies).
   */
  async rollup(
    ctx: KokyakuContext,
    id: string,
    range: { from?: Date | null; to?: Date | null } = {},
  ): Promise<{ companies: number; contacts: number; orders: number; revenue: number }> {
    if (!(await this.get(ctx, id))) throw KokyakuError.notFound('Company', id);
    const ids = await this.subtreeIds(ctx, id);
    const ranged = range.from != null || range.to != null;
    const row = await sqlOne<{ contacts: number; orders: number; minor: string }>(
      ctx.em,
      `with customers as (
         select distinct customer_id from kokyaku.company_contacts where tenant_id = $1 and company_id = any(kokyaku.json_bigints($2::jsonb))
       )
       select count(*)::int as contacts, coalesce(sum(s.orders), 0)::int as orders, coalesce(sum(s.minor), 0)::text as minor
       from customers c
       cross join lateral (
         ${
           ranged
             ? `select coalesce(sum(o.total_minor), 0) as minor, count(*) as orders from kokyaku.orders o
                where o.customer_id = c.customer_id and o.tenant_id = $1 and o.status = 'PLACED'
                  and ($3::timestamptz is null or o.placed_at >= $3) and ($4::timestamptz is null or o.placed_at < $4)`
             : `select f.total_spent_minor as minor, f.orders_count as orders from kokyaku.customer_facts f where f.tenant_id = $1 and f.customer_id = c.customer_id`
         }
       ) s`,
      ranged ? [ctx.tenantId, JSON.stringify(ids), range.from ?? null, range.to ?? null] : [ctx.tenantId, JSON.stringify(ids)],
    );
    return { companies: ids.length, contacts: row?.contacts ?? 0, orders: row?.orders ?? 0, revenue: toMajorUnits(Number(row?.minor ?? 0), ctx.shop.currency) };
  }

  /** The ids of a company and all its descendants. */
  private async subtreeIds(ctx: KokyakuContext, id: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      ctx.em,
      `with recursive tree(id, path) as (
         select id, array[id] from kokyaku.companies where tenant_id = $1 and id = $2::bigint
         union all
         select co.id, t.path || co.id from kokyaku.companies co join tree t on co.parent_id = t.id
         where co.tenant_id = $1 and not co.id = any(t.path)
       )
       select id::text as id from tree`,
      [ctx.tenantId, id],
    );
    return rows.map((r) => r.id);
  }

  /** The chain of parents of a company, nearest first. */
  async ancestors(ctx: KokyakuContext, id: string): Promise<CompanyRecord[]> {
    if (!isId(id)) return [];
    const rows = await sql<CompanyRow>(
      ctx.em,
      `with recursive up(id, parent_id, depth, path) as (
         select id, parent_id, 0, array[id] from kokyaku.companies where tenant_id = $1 and id = $2::bigint
         union all
         select co.id, co.parent_id, u.depth + 1, u.path || co.id from kokyaku.companies co join up u on co.id = u.parent_id
         where co.tenant_id = $1 and not co.id = any(u.path)
       )
       select ${COLUMNS} from up join kokyaku.companies co on co.tenant_id = $1 and co.id = up.id where up.depth > 0 order by up.depth`,
      [ctx.tenantId, id],
    );
    return rows.map(mapCompany);
  }
}
