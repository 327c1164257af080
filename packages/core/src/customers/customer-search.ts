import { type CountryCode, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import type { KokyakuContext } from '../shared/context.js';
import { CUSTOMER_COLUMNS, CUSTOMER_FROM, mapCustomer } from './customer-record.js';
import type { CustomerRecord } from './customer.service.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../shared/pagination.js';
import { sql } from '../shared/sql.js';
import { textProblem } from '../shared/validation.js';
import { highlight, normalizeSearchText, phoneDigits } from './normalize.js';

export type SearchField = 'EXTERNAL_ID' | 'EMAIL' | 'PHONE' | 'NAME' | 'KANA';

export interface CustomerSearchHit {
  customer: CustomerRecord;
  /** Higher is better: 100 an exact id, email or phone; then prefixes, suffixes, fragments. */
  rank: number;
  /** The field that matched best. */
  field: SearchField;
  /** That field's value, as shown (the name as "family given"). */
  value: string;
  /** Where in `value` the query matched (UTF-16 offsets, end exclusive), when it can be placed. */
  highlight: { start: number; end: number } | null;
}

export interface CustomerSearchOptions {
  /** 1-50 (default 10). */
  first?: number | null;
  after?: string | null;
  /**
   * Whether the caller may see personal contact data. Without it, email and phone neither match
   * nor show (they come back null), so they cannot be probed by searching.
   */
  personalData?: boolean;
}

const MAX_QUERY = 200;

/**
 * The search: exact matches, prefixes (btree ranges) and, when asked, fragments (trigram
 * indexes), each a union of index scans; ranked, then joined to the customers' figures.
 * $1 tenant, $2 id, $3 email, $4 email fragment, $5 E.164 phone, $6 reversed phone suffix, $7 phone
 * prefix, $8 name prefix, $9 name fragment, $10 text, $11 limit, $12 offset, $13 email prefix.
 */
const SEARCH = `select ${CUSTOMER_COLUMNS}, m.rank, m.field
     from (
       select c.id,
              case
                when c.external_id = $2 then 100
                when c.email = $3 then 100
                when c.phone = $5 then 100
                when c.email like $13 then 80
                when reverse(c.phone) like $6 then 70
                when c.search_name like $8 or c.search_kana like $8 then 60
                when c.search_name like $9 or c.search_kana like $9 then 50
                when c.email like $4 then 40
                when c.phone like $7 then 65
                else 10
              end
              + coalesce(greatest(similarity(c.search_name, $10), similarity(c.search_kana, $10)), 0) as rank,
              case
                when c.external_id = $2 then 'EXTERNAL_ID'
                when c.email = $3 or c.email like $13 then 'EMAIL'
                when c.phone = $5 or reverse(c.phone) like $6 then 'PHONE'
                when c.search_name like $8 or c.search_name like $9 then 'NAME'
                when c.search_kana like $8 or c.search_kana like $9 then 'KANA'
                when c.email like $4 then 'EMAIL'
                else 'PHONE'
              end as field
       from kokyaku.customers c
       where c.tenant_id = $1 and c.id = any(array(
         select id from kokyaku.customers where tenant_id = $1 and external_id = $2
         union select id from kokyaku.customers where tenant_id = $1 and email = $3
         union select id from kokyaku.customers where tenant_id = $1 and phone = $5
         union select id from kokyaku.customers where tenant_id = $1 and email like $13
         union select id from kokyaku.customers where tenant_id = $1 and reverse(phone) like $6
         union select id from kokyaku.customers where tenant_id = $1 and search_name like $8
         union select id from kokyaku.customers where tenant_id = $1 and search_kana like $8
         union select id from kokyaku.customers where tenant_id = $1 and search_name like $9
         union select id from kokyaku.customers where tenant_id = $1 and search_kana like $9
         union select id from kokyaku.customers where tenant_id = $1 and email like $4
         union select id from kokyaku.customers where tenant_id = $1 and phone like $7))
       order by rank desc, c.id
       limit $11 offset $12
     ) m
     join ${CUSTOMER_FROM} on c.id = m.id
     order by m.rank desc, c.id`;

/**
 * Finds customers from a fragment of a name (either order, with or without a space, kanji, kana or
 * Latin), a kana reading, an email (whole or part), a phone number in any format or its last
 * digits, or the shop's customer id. Every condition is served by an index: trigram GIN indexes for
 * fragments of three characters or more, btree prefixes for two.
 */
export async function searchCustomers(ctx: KokyakuContext, query: string, options: CustomerSearchOptions = {}): Promise<Page<CustomerSearchHit>> {
  const first = options.first ?? 10;
  if (!Number.isInteger(first) || first < 1 || first > 50) throw KokyakuError.badInput('"first" must be a whole number from 1 to 50.', { field: 'first' });
  if (typeof query !== 'string' || query.length > MAX_QUERY) {
    throw KokyakuError.badInput(`"query" must be a string of at most ${MAX_QUERY} characters.`, { field: 'query' });
  }
  const problem = textProblem(query);
  if (problem) throw KokyakuError.badInput(`"query" ${problem.replace(/^Must/, 'must')}`, { field: 'query' });
  const [after, phase] = options.after ? decodeCursor(options.after, 's') : ['0', 'prefix'];
  const offset = Number(after);
  const fragments = phase === 'fragments';
  if (!Number.isInteger(offset) || offset < 0) throw KokyakuError.invalidCursor(options.after!);
  const personal = options.personalData ?? true;

  const terms = await searchTerms(ctx, query, personal);
  if (!terms) return { nodes: [], hasNextPage: false, endCursor: null };
  const { p } = terms;
  // Exact matches and prefixes (btree ranges) answer what staff usually type: the start of a name,
  // reading, email or number, or its last digits. Only when nothing starts so are fragments inside
  // values looked for (trigram indexes; slower when the fragment is common).
  const run = (contains: boolean) =>
    sql<{ rank: number; field: SearchField }>(ctx.em, SEARCH, [
      p.tenant,
      p.id,
      p.email,
      contains ? p.emailContains : null,
      p.e164,
      p.phoneSuffix,
      p.phonePrefix,
      p.namePrefix,
      contains ? p.nameContains : null,
      p.text,
      first + 1,
      offset,
      p.emailPrefix,
    ]);
  let rows = await run(fragments);
  let found = fragments;
  if (!fragments && rows.length === 0 && offset === 0 && (p.emailContains !== null || p.nameContains !== null)) {
    rows = await run(true);
    found = true;
  }
  const nodes = rows.slice(0, first).map((row) => toHit(ctx, row, personal, terms));
  return { nodes, hasNextPage: rows.length > first, endCursor: nodes.length > 0 ? encodeCursor('s', [String(offset + nodes.length), found ? 'fragments' : 'prefix']) : null };
}

/** What a query is searched as: its normalised text, email and phone forms, and the statement's parameters (null: too short to search). */
async function searchTerms(ctx: KokyakuContext, query: string, personal: boolean) {
  const raw = query.trim();
  // The same normalisation as the stored columns: computed by PostgreSQL's own function.
  const [normal] = await sql<{ text: string | null }>(ctx.em, `select kokyaku.search_text($1) as text`, [raw]);
  const text = normal?.text ?? '';
  const email = raw.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
  const digits = phoneDigits(raw);
  const looksLikePhone = digits.length >= 3 && /^[\d\s()+\-‐.・ー－]+$/u.test(raw.normalize('NFKC'));
  const parsed = looksLikePhone ? parsePhoneNumberFromString(raw, ctx.shop.defaultCountry as CountryCode) : undefined;
  const e164 = parsed?.isPossible() ? (parsed.number as string) : null;
  // A national number starts with the trunk 0 that E.164 drops ("090-1234" is in "+81901234…").
  const national = looksLikePhone && !raw.trim().startsWith('+') ? digits.replace(/^0/, '') : null;
  const callingCode = looksLikePhone ? getCountryCallingCode(ctx.shop.defaultCountry as CountryCode) : null;
  if (text.length < 2 && !(looksLikePhone && digits.length >= 3) && raw.length < 2) return null;
  const words = !looksLikePhone;
  const p = {
    tenant: ctx.tenantId,
    id: raw,
    email: personal && words && email.length >= 2 ? email : null,
    emailPrefix: personal && words && email.length >= 2 ? `${escapeLike(email)}%` : null,
    emailContains: personal && words && email.length >= 3 ? `%${escapeLike(email)}%` : null,
    e164: personal ? e164 : null,
    // The last digits ("5678"), and the first ones ("090-1234", "+81 90 12").
    phoneSuffix: personal && looksLikePhone && digits.length >= 3 ? `${reverse(national ?? digits)}%` : null,
    phonePrefix: personal && looksLikePhone && digits.length >= 3 ? `+${national !== null ? `${callingCode}${national}` : digits}%` : null,
    namePrefix: words && text.length >= 2 ? `${escapeLike(text)}%` : null,
    nameContains: words && text.length >= 3 ? `%${escapeLike(text)}%` : null,
    text: words && text ? text : null,
  };
  return { p, email, digits, national, text };
}

/** One found customer, with the field that matched and where the query is in it (contact data hidden without the right). */
function toHit(
  ctx: KokyakuContext,
  row: Record<string, unknown> & { rank: number; field: SearchField },
  personal: boolean,
  terms: NonNullable<Awaited<ReturnType<typeof searchTerms>>>,
): CustomerSearchHit {
  const { email, digits, national, text } = terms;
  const customer = mapCustomer(row as never, ctx.shop.currency);
  if (!personal) {
    customer.email = null;
    customer.phone = null;
  }
  const kana = [customer.lastNameKana, customer.firstNameKana].filter(Boolean).join(' ');
  const name = [customer.lastName, customer.firstName].filter(Boolean).join(' ');
  const value =
    row.field === 'EXTERNAL_ID'
      ? customer.externalId
      : row.field === 'EMAIL'
        ? (customer.email ?? '')
        : row.field === 'PHONE'
          ? (customer.phone ?? '')
          : row.field === 'KANA'
            ? kana
            : name;
  const at =
    row.field === 'EXTERNAL_ID'
      ? { start: 0, end: value.length }
      : row.field === 'EMAIL'
        ? highlight(value, email, (s) => s.normalize('NFKC').toLowerCase())
        : row.field === 'PHONE'
          ? highlight(value, national ?? digits, (s) => s.replace(/\D/g, ''))
          : highlight(value, text, normalizeSearchText);
  return { customer, rank: Number(row.rank), field: row.field, value, highlight: at };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function reverse(s: string): string {
  return [...s].reverse().join('');
}
