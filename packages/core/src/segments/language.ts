import type { AttributeType, SegmentAttribute, SegmentCustomFields, SegmentFunction, SegmentFunctionFilter, SegmentJoin } from '../module/segment-language.js';

/**
 * The vocabulary of the segment language, as the compiler reads it: the attributes and MATCHES
 * functions every composed module declares (core's and plugins', the same shape), with their SQL.
 * The reference in docs/segments.md is written from the same facts.
 */
export type { AttributeType };

/** A join an attribute or custom field needs, by its alias (one clause per alias in a statement). */
export interface CompiledJoin {
  alias: string;
  sql: string;
}

export interface AttributeSpec {
  name: string;
  type: AttributeType;
  /** SQL over the customer facts row `f` and the alias of `join`. */
  column: string;
  nullable: boolean;
  description: string;
  example: string;
  /** For enums: value name -> SQL predicate. */
  values?: Record<string, string>;
  /** How values are normalised before comparing (stored data is normalised the same way). */
  normalize?: (value: string) => string;
  join?: CompiledJoin;
  /** Usable in `anniversary(...)`: true, or the SQL of month * 100 + day. */
  anniversary?: true | string;
  activity: boolean;
  /** The module that declares it. */
  module: string;
  /** The plugin that adds it (null for core's). */
  plugin: string | null;
}

export type ArgumentType = 'money' | 'integer' | 'timestamp' | 'text';

export interface FunctionArgumentSpec {
  name: string;
  type: ArgumentType;
  /** 'filter' narrows the rows; 'aggregate' tests the total per customer. */
  role: 'filter' | 'aggregate';
  description: string;
}

/** A MATCHES function: its rows (alias `r`), filters and totals per customer. */
export interface FunctionSpec {
  name: string;
  description: string;
  example: string;
  args: readonly FunctionArgumentSpec[];
  /** `select r.customer_id from ... where r.tenant_id = $1 ...`: the rows before the filters. */
  rows: string;
  /** The customer column of the rows. */
  customer: string;
  /** Filter arguments: the predicate for one bound value (its placeholder). */
  filters: Record<string, { column: string; match?: SegmentFunctionFilter['match'] }>;
  /** Aggregate arguments: the SQL total each compares (`count` included). */
  totals: Record<string, string>;
  activity: boolean;
  module: string;
  plugin: string | null;
}

/** Subjects written as a call: `anniversary(birthday) BETWEEN today AND +7d`. */
export const CALLS = {
  anniversary: {
    description: 'The next yearly return of a date (February 29 falls on February 28 in other years).',
    example: 'anniversary(birthday) BETWEEN today AND +7d',
  },
} as const;

/** The segment language of one Kokyaku: what its modules declare, by name. */
export interface SegmentVocabulary {
  readonly attributes: ReadonlyMap<string, AttributeSpec>;
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  /** Where `custom.<key>` reads, if a module declares it. */
  readonly customFields: { column: string; join: CompiledJoin } | null;
  /** The attributes `anniversary(...)` takes, in order. */
  readonly anniversaryOf: readonly string[];
}

/** What `vocabularyOf` reads of a module. */
export interface LanguageModule {
  readonly name: string;
  readonly plugin?: boolean;
  readonly segmentAttributes?: readonly SegmentAttribute[];
  readonly segmentFunctions?: readonly SegmentFunction[];
  readonly segmentCustomFields?: SegmentCustomFields;
}

const joinSql = (join: SegmentJoin): CompiledJoin => ({
  alias: join.alias,
  // The shop's condition first: every join of a segment names its shop (docs/scaling.md).
  sql: `${join.type === 'inner' ? 'join' : 'left join'} ${join.table} ${join.alias} on ${join.alias}.tenant_id = f.tenant_id and (${join.on})`,
});

/** A column path is used as it is; any other expression is parenthesised. */
const expression = (sql: string) => (/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(sql) ? sql : `(${sql})`);

function attributeSpec(a: SegmentAttribute, module: LanguageModule): AttributeSpec {
  return {
    name: a.name,
    type: a.type,
    column: expression(a.sql),
    nullable: a.nullable ?? false,
    description: a.description,
    example: a.example,
    ...(a.values ? { values: a.values } : {}),
    ...(a.normalize ? { normalize: a.normalize } : {}),
    ...(a.join ? { join: joinSql(a.join) } : {}),
    ...(a.anniversary ? { anniversary: a.anniversary } : {}),
    activity: a.activity ?? false,
    module: module.name,
    plugin: module.plugin ? module.name : null,
  };
}

function functionSpec(f: SegmentFunction, module: LanguageModule): FunctionSpec {
  return {
    name: f.name,
    description: f.description,
    example: f.example,
    args: [
      ...f.filters.map((a) => ({ name: a.name, type: a.type, role: 'filter' as const, description: a.description })),
      { name: 'count', type: 'integer' as const, role: 'aggregate' as const, description: f.count?.description ?? 'number of matching rows (default >= 1)' },
      ...(f.totals ?? []).map((t) => ({ name: t.name, type: t.type, role: 'aggregate' as const, description: t.description })),
    ],
    rows: `select r.customer_id from ${f.table} r${f.join ? ` ${f.join}` : ''} where r.tenant_id = $1${f.where ? ` and ${f.where}` : ''}`,
    customer: 'r.customer_id',
    filters: Object.fromEntries(f.filters.map((a) => [a.name, { column: `r.${a.column}`, ...(a.match ? { match: a.match } : {}) }])),
    totals: { count: f.count?.sql ?? 'count(*)', ...Object.fromEntries((f.totals ?? []).map((t) => [t.name, t.sql])) },
    activity: f.activity ?? false,
    module: module.name,
    plugin: module.plugin ? module.name : null,
  };
}

/**
 * The vocabulary of the given modules, in their order. Names are unique across attributes,
 * functions and calls: the plugin registry says which plugin clashes before this runs; a clash
 * among core's own modules is a programming error.
 */
export function vocabularyOf(modules: readonly LanguageModule[]): SegmentVocabulary {
  const attributes = new Map<string, AttributeSpec>();
  const functions = new Map<string, FunctionSpec>();
  let customFields: SegmentVocabulary['customFields'] = null;
  const taken = (name: string) => attributes.has(name) || functions.has(name) || name in CALLS;
  for (const module of modules) {
    for (const a of module.segmentAttributes ?? []) {
      if (taken(a.name)) throw new Error(`Module "${module.name}": the segment language already has "${a.name}".`);
      attributes.set(a.name, attributeSpec(a, module));
    }
    for (const f of module.segmentFunctions ?? []) {
      if (taken(f.name)) throw new Error(`Module "${module.name}": the segment language already has "${f.name}".`);
      functions.set(f.name, functionSpec(f, module));
    }
    if (module.segmentCustomFields) customFields = { column: module.segmentCustomFields.column, join: joinSql(module.segmentCustomFields.join) };
  }
  const anniversaryOf = [...attributes.values()].filter((a) => a.anniversary).map((a) => a.name);
  return { attributes, functions, customFields, anniversaryOf };
}
