import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { type BatchItemError, type BatchResult, emptyResult, lastPerKey, validateBatch } from '../ingestion/batch.js';
import { buildUpsertSql, textArrayFrom } from '../ingestion/upsert.js';
import { toMajorUnits, moneyProblem, toMinorUnits } from '../shared/money.js';
import { asDate, prepared, sql } from '../shared/sql.js';
import { externalIdSchema, labelList, safeString } from '../shared/validation.js';

export interface ProductInput {
  externalId: string;
  name: string;
  /** Price in major units of the shop currency (12.5 = 12.50 USD). */
  price?: number | null;
  categories?: string[] | null;
  tags?: string[] | null;
  inStock?: boolean | null;
}

export interface ProductRecord {
  id: string;
  externalId: string;
  name: string;
  price: number | null;
  priceMinor: number | null;
  currency: string;
  categories: string[];
  tags: string[];
  inStock: boolean;
  /** True while only orders or events have named this product. */
  placeholder: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function productSchema(currency: string) {
  return z
    .strictObject({
      externalId: externalIdSchema,
      name: safeString('Required: a non-empty string.').trim().min(1, 'Must not be empty.').max(1000, 'At most 1000 characters.'),
      price: z.number({ error: 'Must be a number.' }).finite('Must be a finite number.').nonnegative('Must not be negative.').nullable().optional(),
      categories: labelList
        .nullable()
        .optional()
        .transform((v) => (v === null ? [] : v)),
      tags: labelList
        .nullable()
        .optional()
        .transform((v) => (v === null ? [] : v)),
      inStock: z
        .boolean({ error: 'Must be true or false.' })
        .nullable()
        .optional()
        .transform((v) => (v === null ? true : v)),
    })
    .superRefine((item, ctx) => {
      const problem = typeof item.price === 'number' ? moneyProblem(item.price, currency) : null;
      if (problem) {
        ctx.addIssue({ code: 'custom', path: ['price'], message: problem });
      }
    });
}

const UPSERT_PRODUCTS = buildUpsertSql({
  table: 'kokyaku.products',
  fields: [
    { key: 'name', column: 'name', value: `i.doc->>'name'` },
    { key: 'priceMinor', column: 'price_minor', value: `(i.doc->>'priceMinor')::bigint` },
    { key: 'currency', column: 'currency', value: `i.doc->>'currency'` },
    { key: 'categories', column: 'categories', value: textArrayFrom('categories'), insertDefault: `'{}'` },
    { key: 'tags', column: 'tags', value: textArrayFrom('tags'), insertDefault: `'{}'` },
    { key: 'inStock', column: 'in_stock', value: `(i.doc->>'inStock')::boolean`, insertDefault: 'true' },
  ],
});

export interface ProductRow {
  id: string;
  external_id: string;
  name: string;
  price_minor: string | null;
  currency: string;
  categories: string[];
  tags: string[];
  in_stock: boolean;
  placeholder: boolean;
  created_at: Date;
  updated_at: Date;
}

export function mapProduct(row: ProductRow): ProductRecord {
  const priceMinor = row.price_minor === null ? null : Number(row.price_minor);
  return {
    id: String(row.id),
    externalId: row.external_id,
    name: row.name,
    priceMinor,
    price: priceMinor === null ? null : toMajorUnits(priceMinor, row.currency),
    currency: row.currency,
    categories: row.categories,
    tags: row.tags,
    inStock: row.in_stock,
    placeholder: row.placeholder,
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
  };
}

const PRODUCT_FIELDS: [expression: string, name: keyof ProductRow][] = [
  ['p.id::text', 'id'],
  ['p.external_id', 'external_id'],
  ['p.name', 'name'],
  ['p.price_minor', 'price_minor'],
  ['p.currency', 'currency'],
  ['p.categories', 'categories'],
  ['p.tags', 'tags'],
  ['p.in_stock', 'in_stock'],
  ['p.placeholder', 'placeholder'],
  ['p.created_at', 'created_at'],
  ['p.updated_at', 'updated_at'],
];

/** Columns of a product (table alias `p`), each named `<prefix><column>`, for joins that bring the product along. */
export function productColumns(prefix = ''): string {
  return PRODUCT_FIELDS.map(([expression, name]) => `${expression} as ${prefix}${name}`).join(', ');
}

/** The product of a row selected with `productColumns(prefix)`. */
export function mapPrefixedProduct(row: Record<string, unknown>, prefix: string): ProductRecord {
  const product: Record<string, unknown> = {};
  for (const [, name] of PRODUCT_FIELDS) product[name] = row[prefix + name];
  return mapProduct(product as unknown as ProductRow);
}

const PRODUCT_COLUMNS = productColumns();
const PRODUCTS_BY_IDS = prepared(`select ${PRODUCT_COLUMNS} from kokyaku.products p where p.tenant_id = $1 and p.id = any(kokyaku.json_bigints($2::jsonb))`);

export class ProductService {
  /** The errors `upsert` would report for these items, writing nothing (import dry runs). */
  validate(ctx: KokyakuContext, products: readonly unknown[]): BatchItemError[] {
    return validateBatch(products, productSchema(ctx.shop.currency), 'externalId').errors;
  }

  /**
   * Creates or updates products by their shop id. Invalid items are reported by index and field;
   * the valid ones are stored in one statement.
   */
  async upsert(ctx: KokyakuContext, products: readonly ProductInput[]): Promise<BatchResult> {
    const currency = ctx.shop.currency;
    const { valid, errors } = validateBatch(products, productSchema(currency), 'externalId');
    const result = emptyResult(products.length, errors);
    const items = lastPerKey(valid, (p) => p.externalId);
    if (items.length === 0) return result;
    const docs = items.map(({ value }) => {
      const { price, ...rest } = value;
      return {
        ...rest,
        currency,
        ...(price !== undefined ? { priceMinor: price === null ? null : toMinorUnits(price, currency) } : {}),
      };
    });
    const written = await sql<{ id: string; inserted: boolean }>(ctx.em, UPSERT_PRODUCTS, [ctx.tenantId, JSON.stringify(docs)]);
    result.created = written.filter((w) => w.inserted).length;
    result.updated = written.length - result.created;
    result.unchanged -= result.created + result.updated;
    return result;
  }

  async findByExternalId(ctx: KokyakuContext, externalId: string): Promise<ProductRecord | null> {
    const rows = await sql<ProductRow>(ctx.em, `select ${PRODUCT_COLUMNS} from kokyaku.products p where p.tenant_id = $1 and p.external_id = $2`, [ctx.tenantId, externalId]);
    return rows[0] ? mapProduct(rows[0]) : null;
  }

  /** Loads products by internal id in one statement (for DataLoaders); missing ids are absent. */
  async findByIds(ctx: KokyakuContext, ids: readonly string[]): Promise<Map<string, ProductRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await sql<ProductRow>(ctx.em, PRODUCTS_BY_IDS, [ctx.tenantId, JSON.stringify(ids)]);
    return new Map(rows.map((r) => [String(r.id), mapProduct(r)]));
  }
}
