import type { CustomFieldDefinition } from '../fields/custom-fields.js';
import { currencyDigits } from '../shared/money.js';
import type { ComparisonOperator, Expr, MatchArgument, Position, Subject, Value } from './ast.js';
import { addDays, addRelative, anniversaryDays } from '../shared/dates.js';
import { SegmentQueryError, suggest } from './errors.js';
import { FACTS_FROM } from '../metrics/published.js';
import { type AttributeSpec, CALLS, type CompiledJoin, type FunctionArgumentSpec, type FunctionSpec, type SegmentVocabulary } from './language.js';
import { parseSegmentQuery } from './parser.js';

export interface CompileOptions {
  /** IANA time zone: dates compare at day precision in it. */
  timeZone: string;
  /** Shop currency: money values are in its major units. */
  currency: string;
  /** Today in the shop time zone (YYYY-MM-DD); relative dates count from it. */
  today: string;
  /**
   * Index of the first placeholder to use. Placeholder $1 is the tenant id, which every
   * compiled query filters on.
   */
  firstParam?: number;
  /**
   * Restricts the MATCHES subqueries to some customers (SQL over the given customer-id column),
   * so that re-evaluating a segment for a few customers does not scan every order.
   */
  scope?: (customerIdColumn: string) => string;
  /**
   * The shop's custom field definitions for customers, by key: `custom.<key>` of a defined field
   * is type-checked (a number compares as a number, a SELECT only with its options...). Keys
   * without a definition compare as untyped JSON.
   */
  customFields?: ReadonlyMap<string, CustomFieldDefinition>;
  /** The attributes and functions of the composed modules (core's and plugins'). */
  vocabulary: SegmentVocabulary;
}

export interface CompiledSegment {
  /**
   * A boolean SQL expression over the customer facts row `f` and the aliases of `joins`. $1 is
   * the tenant id.
   */
  where: string;
  /** Bound values for $firstParam.. onwards. */
  params: unknown[];
  /** The tables its attributes read besides the facts `f` (each on `f.customer_id`), by alias. */
  joins: CompiledJoin[];
  /** True when it reads what storefront activity changes (events, the lead score): only then can an event move a customer in or out. */
  activity: boolean;
  /** The modules whose attributes or functions it reads. */
  modules: string[];
}

/** The joins a compiled segment needs besides the facts `f` and the aliases the caller's FROM already has. */
export function segmentJoins(compiled: Pick<CompiledSegment, 'joins'>, present: readonly string[] = []): string {
  return compiled.joins
    .filter((j) => !present.includes(j.alias))
    .map((j) => ` ${j.sql}`)
    .join('');
}

/** The FROM clause a compiled segment's `where` reads: the customer facts `f` (the metrics module's), and the joins it needs. */
export function segmentFrom(compiled: Pick<CompiledSegment, 'joins'>): string {
  return FACTS_FROM + segmentJoins(compiled);
}

type Sql = string;

/** Bounds beyond any count or amount (and within bigint and exact JS integers). */
const LIMIT = 1e15;

function valueText(value: Value): string {
  switch (value.kind) {
    case 'string':
      return `'${value.value}'`;
    case 'relative':
      return value.text;
    default:
      return String(value.value);
  }
}

/** Compiles a parsed query into one parameterised SQL predicate; type errors are thrown here. */
class Compiler {
  readonly params: unknown[] = [];
  activity = false;
  readonly joins = new Map<string, CompiledJoin>();
  readonly modules = new Set<string>();

  constructor(private readonly options: CompileOptions) {}

  /** The custom fields' JSON column (its join noted). */
  private get customFields(): Sql {
    const source = this.vocabulary.customFields!;
    this.joins.set(source.join.alias, source.join);
    return source.column;
  }

  private get vocabulary(): SegmentVocabulary {
    return this.options.vocabulary;
  }

  /** Notes what an attribute or function reads: its join, its module, whether activity moves it. */
  private uses(spec: { join?: CompiledJoin; module: string; activity: boolean }): void {
    if (spec.join) this.joins.set(spec.join.alias, spec.join);
    this.modules.add(spec.module);
    if (spec.activity) this.activity = true;
  }

  private param(value: unknown, cast: string): Sql {
    this.params.push(value);
    return `$${(this.options.firstParam ?? 2) + this.params.length - 1}::${cast}`;
  }

  /** Start of a day in the shop time zone, as a timestamptz. */
  private dayStart(date: string): Sql {
    return `((${this.param(date, 'date')})::timestamp at time zone ${this.param(this.options.timeZone, 'text')})`;
  }

  compile(expr: Expr, negated = false): Sql {
    switch (expr.kind) {
      case 'and':
      case 'or': {
        const joiner = (expr.kind === 'and') !== negated ? 'and' : 'or';
        return `(${this.compile(expr.left, negated)} ${joiner} ${this.compile(expr.right, negated)})`;
      }
      case 'not':
        return this.compile(expr.expr, !negated);
      default: {
        const leaf = this.leaf(expr);
        return negated ? `(not coalesce(${leaf}, false))` : leaf;
      }
    }
  }

  private leaf(expr: Exclude<Expr, { kind: 'and' | 'or' | 'not' }>): Sql {
    if (expr.kind === 'matches') return this.matches(expr.fn, expr.args, expr.pos, expr.negated);
    const subject = expr.subject;
    if (subject.kind === 'call') return this.call(subject, expr);
    if (subject.kind === 'custom') return this.custom(subject, expr);
    const attribute = this.attribute(subject);
    this.uses(attribute);
    switch (expr.kind) {
      case 'compare':
        return this.compare(attribute, expr.op, expr.value, expr.opPos);
      case 'between': {
        this.requireOrdered(attribute, 'BETWEEN', expr.opPos);
        const sql = `(${this.compare(attribute, '>=', expr.low, expr.opPos)} and ${this.compare(attribute, '<=', expr.high, expr.opPos)})`;
        return expr.negated ? `(not coalesce(${sql}, false))` : sql;
      }
      case 'contains': {
        const text = this.expectString(expr.value, attribute.name);
        let sql: Sql;
        if (attribute.type === 'list') sql = `(${attribute.column} @> array[${this.param(text, 'text')}])`;
        else if (attribute.type === 'text') sql = `(strpos(lower(${attribute.column}), lower(${this.param(text, 'text')})) > 0)`;
        else {
          throw new SegmentQueryError(`CONTAINS works on lists (customer_tags) and text; ${attribute.name} is ${this.typeName(attribute.type)}`, expr.opPos);
        }
        return expr.negated ? `(not coalesce(${sql}, false))` : sql;
      }
      case 'null': {
        let sql: Sql;
        if (attribute.type === 'list') sql = `(cardinality(${attribute.column}) = 0)`;
        else if (attribute.nullable) sql = `(${attribute.column} is null)`;
        else {
          throw new SegmentQueryError(
            `${attribute.name} is never NULL${attribute.type === 'money' || attribute.type === 'integer' ? ' (a customer without orders has 0)' : ''}`,
            expr.opPos,
          );
        }
        return expr.negated ? `(not ${sql})` : sql;
      }
    }
  }

  private attribute(subject: Extract<Subject, { kind: 'attribute' }>): AttributeSpec {
    const attribute = this.vocabulary.attributes.get(subject.name);
    if (attribute) return attribute;
    const fn = this.vocabulary.functions.get(subject.name);
    if (fn) {
      throw new SegmentQueryError(`${subject.name} is a function: write ${subject.name} MATCHES (...)`, subject.pos, { suggestion: fn.example });
    }
    const known = [...this.vocabulary.attributes.keys()];
    const hint = suggest(subject.name, [...known, ...this.vocabulary.functions.keys(), 'custom.<field>']);
    throw new SegmentQueryError(`Unknown attribute "${subject.name}"`, subject.pos, {
      expected: known,
      ...(hint ? { suggestion: hint } : {}),
    });
  }

  private typeName(type: AttributeSpec['type']): string {
    return {
      money: 'an amount',
      integer: 'a number',
      number: 'a number',
      timestamp: 'a date',
      date: 'a date',
      text: 'text',
      list: 'a list',
      enum: 'a choice',
    }[type];
  }

  private requireOrdered(attribute: AttributeSpec, op: string, pos: Position): void {
    if (!['money', 'integer', 'number', 'timestamp', 'date'].includes(attribute.type)) {
      throw new SegmentQueryError(`${op} compares numbers and dates; ${attribute.name} is ${this.typeName(attribute.type)}`, pos, {
        expected: attribute.type === 'list' ? ['CONTAINS', 'NOT CONTAINS'] : ['=', '!='],
      });
    }
  }

  private expectString(value: Value, what: string): string {
    if (value.kind === 'string') return value.value;
    throw new SegmentQueryError(`${what} takes text in quotes, not ${valueText(value)}`, value.pos, {
      suggestion: `'${valueText(value).replace(/'/g, '')}'`,
    });
  }

  private expectNumber(value: Value, what: string): number {
    if (value.kind === 'number') return value.value;
    throw new SegmentQueryError(`${what} takes a number, not ${valueText(value)}`, value.pos, { expected: ['a number'] });
  }

  private expectDate(value: Value, what: string): string {
    if (value.kind === 'date' || value.kind === 'relative') {
      const date = value.kind === 'date' ? value.value : addRelative(this.options.today, value.amount, value.unit);
      if (!/^\d{4}-/.test(date) || date < '0001-01-01') {
        throw new SegmentQueryError(`${value.kind === 'date' ? value.value : value.text} is outside the years 1-9999`, value.pos);
      }
      return date;
    }
    throw new SegmentQueryError(`${what} takes a date (2026-04-01, -30d, today), not ${valueText(value)}`, value.pos, { expected: ['a date'] });
  }

  /** Major units to minor units, rounded to 6 decimals against float noise (12.345 USD -> 1234.5). */
  private money(value: number): string {
    return (value * 10 ** currencyDigits(this.options.currency)).toFixed(6);
  }

  /** `column op value` for numbers, money and dates, with day precision in the shop time zone. */
  private ordered(column: Sql, type: 'money' | 'integer' | 'number' | 'timestamp' | 'date', op: ComparisonOperator, value: Value, what: string, nullable: boolean): Sql {
    if (type === 'timestamp') {
      const day = this.expectDate(value, what);
      switch (op) {
        case '=':
          return `(${column} >= ${this.dayStart(day)} and ${column} < ${this.dayStart(addDays(day, 1))})`;
        case '!=':
          return `(${column} < ${this.dayStart(day)} or ${column} >= ${this.dayStart(addDays(day, 1))}${nullable ? ` or ${column} is null` : ''})`;
        case '>':
          return `(${column} >= ${this.dayStart(addDays(day, 1))})`;
        case '>=':
          return `(${column} >= ${this.dayStart(day)})`;
        case '<':
          return `(${column} < ${this.dayStart(day)})`;
        case '<=':
          return `(${column} < ${this.dayStart(addDays(day, 1))})`;
      }
    }
    if (type === 'date' || type === 'number') {
      const bound = type === 'date' ? this.param(this.expectDate(value, what), 'date') : this.param(this.expectNumber(value, what), 'float8');
      return op === '!=' ? `(${column} is distinct from ${bound})` : `(${column} ${op} ${bound})`;
    }
    // Integer columns (counts, minor units) compare with an integer bound of the same type, so the
    // column's index applies: x >= 12.5 is x >= 13, x < 12.5 is x <= 12, x = 12.5 is nothing.
    const exact = type === 'money' ? Number(this.money(this.expectNumber(value, what))) : this.expectNumber(value, what);
    const bound = Math.max(-LIMIT, Math.min(LIMIT, exact));
    const whole = Number.isInteger(bound);
    switch (op) {
      case '=':
        return whole ? `(${column} = ${this.param(bound, 'bigint')})` : 'false';
      case '!=':
        return whole ? `(${column} is distinct from ${this.param(bound, 'bigint')})` : 'true';
      case '>':
      case '<=':
        return `(${column} ${op} ${this.param(Math.floor(bound), 'bigint')})`;
      case '>=':
      case '<':
        return `(${column} ${op} ${this.param(Math.ceil(bound), 'bigint')})`;
    }
  }

  private compare(attribute: AttributeSpec, op: ComparisonOperator, value: Value, pos: Position): Sql {
    switch (attribute.type) {
      case 'money':
      case 'integer':
      case 'number':
      case 'timestamp':
      case 'date':
        return this.ordered(attribute.column, attribute.type, op, value, attribute.name, attribute.nullable);
      case 'text': {
        if (op !== '=' && op !== '!=') {
          throw new SegmentQueryError(`${attribute.name} is text: compare it with = or != (or CONTAINS)`, pos, { expected: ['=', '!=', 'CONTAINS'] });
        }
        const text = this.expectString(value, attribute.name);
        const bound = this.param(attribute.normalize ? attribute.normalize(text) : text, 'text');
        return op === '=' ? `(${attribute.column} = ${bound})` : `(${attribute.column} is distinct from ${bound})`;
      }
      case 'list':
        throw new SegmentQueryError(`${attribute.name} is a list: use CONTAINS or NOT CONTAINS`, pos, {
          expected: ['CONTAINS', 'NOT CONTAINS'],
          suggestion: `${attribute.name} CONTAINS ${valueText(value)}`,
        });
      case 'enum': {
        if (op !== '=' && op !== '!=') throw new SegmentQueryError(`${attribute.name} is compared with = or !=`, pos, { expected: ['=', '!='] });
        const name = value.kind === 'name' || value.kind === 'string' ? value.value : undefined;
        const choices = Object.keys(attribute.values!);
        const match = name && choices.find((c) => c === name.toUpperCase());
        if (!match) {
          const hint = name ? suggest(name, choices) : undefined;
          throw new SegmentQueryError(`${attribute.name} is one of ${choices.join(', ')}; ${valueText(value)} is not`, value.pos, {
            expected: choices,
            ...(hint ? { suggestion: hint } : {}),
          });
        }
        const sql = `(${attribute.values![match]})`;
        return op === '=' ? sql : `(not ${sql})`;
      }
    }
  }

  private call(subject: Extract<Subject, { kind: 'call' }>, expr: Exclude<Expr, { kind: 'and' | 'or' | 'not' | 'matches' }>): Sql {
    if (subject.fn !== 'anniversary') {
      throw new SegmentQueryError(`Unknown function "${subject.fn}"`, subject.pos, { suggestion: suggest(subject.fn, Object.keys(CALLS)) ?? 'anniversary' });
    }
    const dates = this.vocabulary.anniversaryOf;
    if (!dates.includes(subject.arg)) {
      const hint = suggest(subject.arg, dates);
      throw new SegmentQueryError(`anniversary() takes ${dates.join(', ')}; not ${subject.arg}`, subject.argPos, hint ? { suggestion: hint } : {});
    }
    let from: string;
    let to: string;
    let negated = false;
    if (expr.kind === 'between') {
      from = this.expectDate(expr.low, 'anniversary()');
      to = this.expectDate(expr.high, 'anniversary()');
      negated = expr.negated;
    } else if (expr.kind === 'compare' && (expr.op === '=' || expr.op === '!=')) {
      from = to = this.expectDate(expr.value, 'anniversary()');
      negated = expr.op === '!=';
    } else {
      throw new SegmentQueryError('anniversary() is used with BETWEEN or =, e.g. anniversary(birthday) BETWEEN today AND +7d', expr.pos, {
        expected: ['BETWEEN', '='],
      });
    }
    const attribute = this.vocabulary.attributes.get(subject.arg)!;
    this.uses(attribute);
    // Bound only when used: a placeholder bound but absent from the text fails the statement.
    const mmdd = () =>
      typeof attribute.anniversary === 'string'
        ? attribute.anniversary
        : `(extract(month from (${attribute.column} at time zone ${this.param(this.options.timeZone, 'text')})) * 100 + extract(day from (${attribute.column} at time zone ${this.param(this.options.timeZone, 'text')})))::int`;
    const days = anniversaryDays(from, to);
    const sql =
      days === 'all'
        ? `(${attribute.column} is not null)`
        : days.length === 0
          ? 'false'
          : `(${mmdd()} = any(array(select jsonb_array_elements_text(${this.param(JSON.stringify(days), 'jsonb')})::int)))`;
    return negated ? `(not coalesce(${sql}, false))` : sql;
  }

  private custom(subject: Extract<Subject, { kind: 'custom' }>, expr: Exclude<Expr, { kind: 'and' | 'or' | 'not' | 'matches' }>): Sql {
    const key = subject.field;
    if (!this.vocabulary.customFields) throw new SegmentQueryError('custom.<field> needs the customers module', subject.pos);
    if (!/^[\p{L}\p{N}_ -]{1,100}$/u.test(key)) {
      throw new SegmentQueryError(`"${key}" is not a custom field name (letters, digits, _, - and spaces)`, subject.pos);
    }
    const definition = this.options.customFields?.get(key);
    if (definition) return this.typedCustom(definition, subject, expr);
    const field = () => `(${this.customFields} -> ${this.param(key, 'text')})`;
    const contains = (json: unknown) => `(${this.customFields} @> ${this.param(JSON.stringify({ [key]: json }), 'jsonb')})`;
    const negate = (sql: Sql, negated: boolean) => (negated ? `(not coalesce(${sql}, false))` : sql);
    switch (expr.kind) {
      case 'null':
        return negate(`(coalesce(jsonb_typeof(${field()}), 'null') = 'null')`, expr.negated);
      case 'contains':
        return negate(contains([this.expectString(expr.value, `custom.${key}`)]), expr.negated);
      case 'between': {
        const column = field();
        return negate(`(${this.customOrdered(column, '>=', expr.low, key)} and ${this.customOrdered(column, '<=', expr.high, key)})`, expr.negated);
      }
      case 'compare': {
        const value = expr.value;
        if (expr.op === '=' || expr.op === '!=') {
          let json: unknown;
          if (value.kind === 'string' || value.kind === 'name') json = value.value;
          else if (value.kind === 'number' || value.kind === 'boolean') json = value.value;
          else json = this.expectDate(value, `custom.${key}`);
          return negate(contains(json), expr.op === '!=');
        }
        return this.customOrdered(field(), expr.op, value, key);
      }
    }
  }

  /** `custom.<key>` of a defined field: operators and values checked against its type. */
  private typedCustom(def: CustomFieldDefinition, _subject: Extract<Subject, { kind: 'custom' }>, expr: Exclude<Expr, { kind: 'and' | 'or' | 'not' | 'matches' }>): Sql {
    const name = `custom.${def.key}`;
    const negate = (sql: Sql, negated: boolean) => (negated ? `(not coalesce(${sql}, false))` : sql);
    const contains = (json: unknown) => `(${this.customFields} @> ${this.param(JSON.stringify({ [def.key]: json }), 'jsonb')})`;
    const text = () => `(${this.customFields} ->> ${this.param(def.key, 'text')})`;
    const kind = { TEXT: 'text', NUMBER: 'a number', BOOLEAN: 'true or false', DATE: 'a date', SELECT: 'one of its options', MULTI_SELECT: 'a list of options' }[def.type];
    const option = (value: Value): string => {
      const v = value.kind === 'string' || value.kind === 'name' ? value.value : undefined;
      if (v !== undefined && def.options.includes(v)) return v;
      const hint = v !== undefined ? suggest(v, def.options) : undefined;
      throw new SegmentQueryError(`${name} is one of ${def.options.map((o) => `'${o}'`).join(', ')}; ${valueText(value)} is not`, value.pos, {
        expected: def.options.map((o) => `'${o}'`),
        ...(hint ? { suggestion: `'${hint}'` } : {}),
      });
    };
    if (expr.kind === 'null') return negate(`(coalesce(jsonb_typeof(${this.customFields} -> ${this.param(def.key, 'text')}), 'null') = 'null')`, expr.negated);
    if (expr.kind === 'contains') {
      if (def.type === 'MULTI_SELECT') return negate(contains([option(expr.value)]), expr.negated);
      if (def.type === 'TEXT') return negate(`(strpos(lower(${text()}), lower(${this.param(this.expectString(expr.value, name), 'text')})) > 0)`, expr.negated);
      throw new SegmentQueryError(`CONTAINS works on text and MULTI_SELECT fields; ${name} is ${kind}`, expr.opPos, { expected: ['=', '!='] });
    }
    const ordered = def.type === 'NUMBER' || def.type === 'DATE';
    if (expr.kind === 'between') {
      if (!ordered) throw new SegmentQueryError(`BETWEEN compares numbers and dates; ${name} is ${kind}`, expr.opPos, { expected: ['=', '!='] });
      return negate(`(${this.typedOrdered(def, '>=', expr.low)} and ${this.typedOrdered(def, '<=', expr.high)})`, expr.negated);
    }
    const { op, value } = expr;
    if (op !== '=' && op !== '!=') {
      if (!ordered)
        throw new SegmentQueryError(`${name} is ${kind}: compare it with = or !=`, expr.opPos, {
          expected: def.type === 'MULTI_SELECT' ? ['CONTAINS', 'NOT CONTAINS'] : ['=', '!='],
        });
      return this.typedOrdered(def, op, value);
    }
    let json: unknown;
    switch (def.type) {
      case 'TEXT':
        json = this.expectString(value, name);
        break;
      case 'NUMBER':
        json = this.expectNumber(value, name);
        break;
      case 'DATE':
        json = this.expectDate(value, name);
        break;
      case 'BOOLEAN':
        if (value.kind !== 'boolean') throw new SegmentQueryError(`${name} is true or false, not ${valueText(value)}`, value.pos, { expected: ['true', 'false'] });
        json = value.value;
        break;
      case 'SELECT':
        json = option(value);
        break;
      case 'MULTI_SELECT':
        throw new SegmentQueryError(`${name} is a list of options: use CONTAINS or NOT CONTAINS`, expr.opPos, {
          expected: ['CONTAINS', 'NOT CONTAINS'],
          suggestion: `${name} CONTAINS ${valueText(value)}`,
        });
    }
    return negate(contains(json), op === '!=');
  }

  private typedOrdered(def: CustomFieldDefinition, op: ComparisonOperator, value: Value): Sql {
    const name = `custom.${def.key}`;
    const field = `(${this.customFields} -> ${this.param(def.key, 'text')})`;
    if (def.type === 'NUMBER') {
      return `((case when jsonb_typeof(${field}) = 'number' then (${field})::numeric end) ${op} ${this.param(this.expectNumber(value, name), 'numeric')})`;
    }
    return `((case when jsonb_typeof(${field}) = 'string' then left(${field} #>> '{}', 10) end) ${op} ${this.param(this.expectDate(value, name), 'text')})`;
  }

  /** Ordered comparison of a custom field holding a number or a YYYY-MM-DD date. */
  private customOrdered(field: Sql, op: ComparisonOperator, value: Value, key: string): Sql {
    if (op === '=' || op === '!=') throw new SegmentQueryError('Internal: equality is handled elsewhere', value.pos);
    if (value.kind === 'number') {
      return `((case when jsonb_typeof(${field}) = 'number' then (${field})::numeric end) ${op} ${this.param(value.value, 'numeric')})`;
    }
    if (value.kind === 'date' || value.kind === 'relative') {
      const text = `(case when jsonb_typeof(${field}) = 'string' and (${field} #>> '{}') ~ '^\\d{4}-\\d{2}-\\d{2}' then left(${field} #>> '{}', 10) end)`;
      return `(${text} ${op} ${this.param(this.expectDate(value, `custom.${key}`), 'text')})`;
    }
    throw new SegmentQueryError(`custom.${key} ${op} needs a number or a date, not ${valueText(value)}`, value.pos, { expected: ['a number', 'a date'] });
  }

  private matches(fn: string, args: MatchArgument[], pos: Position, negated: boolean): Sql {
    const spec = this.vocabulary.functions.get(fn);
    if (!spec) {
      const names = [...this.vocabulary.functions.keys()];
      const hint = suggest(fn, names);
      throw new SegmentQueryError(`Unknown function "${fn}"`, pos, { expected: names, ...(hint ? { suggestion: hint } : {}) });
    }
    this.uses(spec);
    const filters: Sql[] = [];
    const aggregates: { sql: Sql; zeroPasses: boolean }[] = [];
    for (const arg of args) {
      const a = argumentSpec(fn, spec, arg);
      if (a.role === 'aggregate') {
        if (arg.op === 'BETWEEN') {
          const low = this.matchTotal(spec, a, arg, arg.value, '>=');
          const high = this.matchTotal(spec, a, arg, arg.high!, '<=');
          aggregates.push({ sql: `(${low.sql} and ${high.sql})`, zeroPasses: low.zeroPasses && high.zeroPasses });
        } else aggregates.push(this.matchTotal(spec, a, arg, arg.value, arg.op));
        continue;
      }
      const filter = (op: ComparisonOperator, value: Value) => this.matchFilter(spec, a, arg, op, value);
      filters.push(arg.op === 'BETWEEN' ? `(${filter('>=', arg.value)} and ${filter('<=', arg.high!)})` : filter(arg.op, arg.value));
    }
    if (aggregates.length === 0) aggregates.push({ sql: `(${spec.totals.count} >= 1)`, zeroPasses: false });

    if (this.options.scope) filters.push(`(${this.options.scope(spec.customer)})`);
    const where = filters.length ? ` and ${filters.join(' and ')}` : '';
    const having = aggregates.map((a) => a.sql).join(' and ');
    // A customer with no matching rows has count 0 and sums 0. When the condition holds at zero
    // (count < 2), they belong in the segment: select everyone but those whose totals fail it.
    const zeroPasses = aggregates.every((a) => a.zeroPasses);
    const subquery = `${spec.rows}${where} group by ${spec.customer} having ${zeroPasses ? `not (${having})` : having}`;
    const member = zeroPasses ? `(f.customer_id not in (${subquery}))` : `(f.customer_id in (${subquery}))`;
    return negated ? `(not ${member})` : member;
  }

  /** A total of a MATCHES call (`count >= 2`), and whether a customer with no rows passes it. */
  private matchTotal(spec: FunctionSpec, a: FunctionArgumentSpec, arg: MatchArgument, value: Value, op: ComparisonOperator): { sql: Sql; zeroPasses: boolean } {
    const expression = spec.totals[a.name]!;
    const type = a.type === 'money' ? 'money' : 'integer';
    const n = this.expectNumber(value, arg.name);
    const bound = type === 'money' ? Number(this.money(n)) : n;
    return { sql: this.ordered(`coalesce(${expression}, 0)`, type, op, value, arg.name, false), zeroPasses: compareNumbers(0, op, bound) };
  }

  /** A filter of a MATCHES call (`date > -30d`, `product = 'p-1'`). */
  private matchFilter(spec: FunctionSpec, a: FunctionArgumentSpec, arg: MatchArgument, op: ComparisonOperator, value: Value): Sql {
    const filter = spec.filters[a.name]!;
    if (a.type !== 'text') return this.ordered(filter.column, a.type, op, value, a.name, true);
    if (op !== '=' && op !== '!=') throw new SegmentQueryError(`${arg.name} is compared with = or !=`, arg.pos, { expected: ['=', '!='] });
    const text = this.param(this.expectString(value, arg.name), 'text');
    if (filter.match) return op === '=' ? filter.match(text) : `(not ${filter.match(text)})`;
    return op === '=' ? `(${filter.column} = ${text})` : `(${filter.column} is distinct from ${text})`;
  }
}

/** The spec of a MATCHES argument, or an error naming the arguments the function takes. */
function argumentSpec(fn: string, spec: FunctionSpec, arg: MatchArgument): FunctionArgumentSpec {
  const found = spec.args.find((a) => a.name === arg.name);
  if (found) return found;
  const hint = suggest(
    arg.name,
    spec.args.map((a) => a.name),
  );
  throw new SegmentQueryError(`${fn} has no argument "${arg.name}"; it takes ${spec.args.map((a) => a.name).join(', ')}`, arg.pos, {
    expected: spec.args.map((a) => a.name),
    ...(hint ? { suggestion: hint } : {}),
  });
}

function compareNumbers(a: number, op: ComparisonOperator, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/**
 * Parses, type-checks and compiles a segment query into one SQL predicate over the customer facts
 * `f` (and the customer row `c` when `profile`). Every value becomes a bound parameter. Throws SegmentQueryError (SEGMENT_QUERY_INVALID,
 * with line and column) for anything it cannot compile.
 */
export function compileSegmentQuery(source: string, options: CompileOptions): CompiledSegment {
  if (typeof source !== 'string') throw new SegmentQueryError('The query must be text', { offset: 0, line: 1, column: 1 });
  const expr = parseSegmentQuery(source);
  const compiler = new Compiler(options);
  const where = compiler.compile(expr);
  return { where, params: compiler.params, joins: [...compiler.joins.values()], activity: compiler.activity, modules: [...compiler.modules] };
}
