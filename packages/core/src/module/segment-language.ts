/**
 * What a module adds to the segment language: attributes of a customer and MATCHES functions
 * over its own tables. Core's modules and plugins declare them the same way (core's amount_spent
 * is the metrics module's, rfm_group the analytics module's, orders_placed the orders module's);
 * the segments module compiles whatever the composed modules declare (docs/architecture.md).
 */
export type AttributeType = 'money' | 'integer' | 'number' | 'timestamp' | 'date' | 'text' | 'list' | 'enum';

/** A table an attribute reads, joined to the customer facts `f` (one row per customer at most). */
export interface SegmentJoin {
  /** `kokyaku.<table>` */
  table: string;
  /** The alias the attribute's SQL reads (a plugin's starts with its name). */
  alias: string;
  /** The join condition, on `f.customer_id` (Kokyaku adds `<alias>.tenant_id = f.tenant_id`). */
  on: string;
  /** `left` (default), or `inner` where every customer has a row. */
  type?: 'left' | 'inner';
}

export interface SegmentAttribute {
  /** snake_case, unique in the language (e.g. `points_balance`). */
  name: string;
  /** `money` values are in minor units in SQL and major units in queries. */
  type: AttributeType;
  /**
   * A SQL expression of one customer's value. It may read the customer facts `f` (the metrics
   * module's row per customer: `f.customer_id`), `$1` (the tenant id), and the alias of `join`.
   */
  sql: string;
  join?: SegmentJoin;
  /** Whether the expression can be NULL (default false: write `coalesce(..., 0)`). */
  nullable?: boolean;
  description: string;
  example: string;
  /** For `enum`: each value and its SQL predicate. */
  values?: Record<string, string>;
  /** How a text value is normalised before comparing (the stored data is normalised the same way). */
  normalize?: (value: string) => string;
  /**
   * Usable in `anniversary(...)` (dates and timestamps): `true`, or a SQL expression of the date's
   * month * 100 + day that an index covers.
   */
  anniversary?: true | string;
  /** Its value changes with storefront activity (events, inquiries), not only with orders and profiles. */
  activity?: boolean;
}

/** A filter argument of a MATCHES function: narrows the rows before they are totalled. */
export interface SegmentFunctionFilter {
  name: string;
  type: 'text' | 'integer' | 'money' | 'timestamp';
  /** The column of the rows (alias `r`) it compares. */
  column: string;
  description: string;
  /**
   * For text filters that need more than `r.<column> = value`: the predicate for one bound value
   * (`value` is its placeholder), e.g. the rows of a product named by its shop id.
   */
  match?: (value: string) => string;
}

/** A total per customer besides `count`, compared by an aggregate argument. */
export interface SegmentFunctionTotal {
  name: string;
  type: 'integer' | 'money';
  /** An aggregate over the rows (`sum(r.points)`). */
  sql: string;
  description: string;
}

/**
 * A MATCHES function: rows of one of the module's tables (alias `r`, with `tenant_id` and
 * `customer_id`), narrowed by filter arguments and totalled per customer (`count`, and `totals`).
 * A customer matches when the totals hold, as for `orders_placed MATCHES (...)`.
 */
export interface SegmentFunction {
  /** snake_case, unique in the language (e.g. `loyalty_entries`). */
  name: string;
  description: string;
  example: string;
  /** `kokyaku.<table>`: the rows, read as alias `r`. */
  table: string;
  /** More of the module's own tables, joined to `r` (`join kokyaku.order_lines l on l.order_id = r.id`). */
  join?: string;
  /** Which rows count at all, over `r` (`r.status = 'PLACED'`). */
  where?: string;
  filters: readonly SegmentFunctionFilter[];
  /** `count`: what it counts (default `count(*)`) and how it reads. */
  count?: { sql?: string; description?: string };
  totals?: readonly SegmentFunctionTotal[];
  /** Its rows change with storefront activity (events), not only with orders and profiles. */
  activity?: boolean;
}

/** Where `custom.<key>` reads the shop's custom fields of customers: a JSON column and its join. */
export interface SegmentCustomFields {
  column: string;
  join: SegmentJoin;
}
