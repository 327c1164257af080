import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { readBoolean } from '../shared/cells.js';
import { KokyakuError } from '../shared/errors.js';
import { asDate, sql, sqlOne } from '../shared/sql.js';
import { isCalendarDate } from '../shared/validation.js';
import { isId, parseInput, unique } from '../shared/validation.js';

export const CUSTOM_FIELD_ENTITIES = ['CUSTOMER', 'COMPANY', 'DEAL'] as const;
export type CustomFieldEntity = (typeof CUSTOM_FIELD_ENTITIES)[number];
export const CUSTOM_FIELD_TYPES = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'SELECT', 'MULTI_SELECT'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface CustomFieldDefinition {
  id: string;
  entity: CustomFieldEntity;
  /** The key in `customFields` and in the segment language (`custom.<key>`). */
  key: string;
  label: string;
  description: string | null;
  type: CustomFieldType;
  /** Companies and deals only: a value must be given when one is created, and cannot be removed. */
  required: boolean;
  /** SELECT and MULTI_SELECT: the allowed values. */
  options: string[];
  /** NUMBER: the smallest and largest allowed value. */
  min: number | null;
  max: number | null;
  /** TEXT: the longest allowed value in characters (default 1,000). */
  maxLength: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CustomFieldDefinitionInput {
  entity: CustomFieldEntity;
  key: string;
  label?: string | null;
  description?: string | null;
  type: CustomFieldType;
  required?: boolean | null;
  options?: string[] | null;
  min?: number | null;
  max?: number | null;
  maxLength?: number | null;
}

export type CustomFieldDefinitionPatch = Partial<Pick<CustomFieldDefinitionInput, 'label' | 'description' | 'required' | 'options' | 'min' | 'max' | 'maxLength'>>;

/** One custom field of a record, typed by its definition. */
export interface CustomFieldValue {
  key: string;
  label: string;
  type: CustomFieldType;
  /** TEXT, SELECT, and DATE (YYYY-MM-DD). */
  text: string | null;
  number: number | null;
  boolean: boolean | null;
  /** MULTI_SELECT. */
  options: string[] | null;
}

const DEFAULT_MAX_LENGTH = 1000;

const keySchema = z
  .string({ error: 'Required: a key.' })
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'A key is 1-63 lower-case letters, digits and _, starting with a letter (e.g. skin_type).');

const optionList = z
  .array(z.string({ error: 'Each option must be a string.' }).trim().min(1, 'An option must not be empty.').max(200, 'At most 200 characters per option.'), {
    error: 'Must be a list of strings.',
  })
  .max(500, 'At most 500 options.')
  .refine((list) => new Set(list).size === list.length, 'Options must be distinct.');

const definitionSchema = z
  .strictObject({
    entity: z.enum(CUSTOM_FIELD_ENTITIES, { error: `One of ${CUSTOM_FIELD_ENTITIES.join(', ')}.` }),
    key: keySchema,
    label: z.string().trim().min(1).max(200, 'At most 200 characters.').nullable().optional(),
    description: z.string().trim().max(1000, 'At most 1,000 characters.').nullable().optional(),
    type: z.enum(CUSTOM_FIELD_TYPES, { error: `One of ${CUSTOM_FIELD_TYPES.join(', ')}.` }),
    required: z.boolean({ error: 'Must be true or false.' }).nullable().optional(),
    options: optionList.nullable().optional(),
    min: z.number({ error: 'Must be a number.' }).finite().nullable().optional(),
    max: z.number({ error: 'Must be a number.' }).finite().nullable().optional(),
    maxLength: z.number({ error: 'Must be a whole number.' }).int().min(1).max(100_000).nullable().optional(),
  })
  .superRefine((d, ctx) => checkShape(d, ctx));

function checkShape(d: Partial<CustomFieldDefinitionInput>, ctx: z.RefinementCtx): void {
  const select = d.type === 'SELECT' || d.type === 'MULTI_SELECT';
  if (select && !(d.options && d.options.length > 0)) ctx.addIssue({ code: 'custom', path: ['options'], message: `A ${d.type} field needs at least one option.` });
  if (!select && d.options && d.options.length > 0)
    ctx.addIssue({ code: 'custom', path: ['options'], message: `Only SELECT and MULTI_SELECT fields have options; this one is ${d.type}.` });
  if (d.type !== 'NUMBER' && (d.min != null || d.max != null))
    ctx.addIssue({ code: 'custom', path: [d.min != null ? 'min' : 'max'], message: 'min and max apply to NUMBER fields.' });
  if (d.min != null && d.max != null && d.min > d.max) ctx.addIssue({ code: 'custom', path: ['max'], message: 'max must not be below min.' });
  if (d.type !== 'TEXT' && d.maxLength != null) ctx.addIssue({ code: 'custom', path: ['maxLength'], message: 'maxLength applies to TEXT fields.' });
  if (d.entity === 'CUSTOMER' && d.required) {
    ctx.addIssue({
      code: 'custom',
      path: ['required'],
      message: 'Customer fields cannot be required: customers also arrive from orders, events and imports without them.',
    });
  }
}

interface DefinitionRow {
  id: string;
  entity: CustomFieldEntity;
  key: string;
  label: string;
  description: string | null;
  type: CustomFieldType;
  required: boolean;
  options: string[];
  min: string | null;
  max: string | null;
  max_length: number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = `id::text as id, entity, key, label, description, type, required, options, min::text as min, max::text as max, max_length, created_at, updated_at`;

const mapDefinition = (r: DefinitionRow): CustomFieldDefinition => ({
  id: r.id,
  entity: r.entity,
  key: r.key,
  label: r.label,
  description: r.description,
  type: r.type,
  required: r.required,
  options: r.options,
  min: r.min === null ? null : Number(r.min),
  max: r.max === null ? null : Number(r.max),
  maxLength: r.max_length,
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
});

const describe = (value: unknown) =>
  typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);

/**
 * One value checked against its definition: the normalised value, or why it is refused. Strings
 * from CSV files are read as what the type needs ("12" as 12, "yes" as true, "a, b" as a list).
 */
export function checkCustomValue(
  def: Pick<CustomFieldDefinition, 'type' | 'options' | 'min' | 'max' | 'maxLength' | 'label'>,
  value: unknown,
): { value: unknown } | { error: string } {
  switch (def.type) {
    case 'TEXT': {
      if (typeof value !== 'string') return { error: `Must be text, not ${describe(value)}.` };
      const max = def.maxLength ?? DEFAULT_MAX_LENGTH;
      return [...value].length > max ? { error: `At most ${max} characters.` } : { value };
    }
    case 'NUMBER': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : Number.NaN;
      if (!Number.isFinite(n)) return { error: `Must be a number, not ${describe(value)}.` };
      if (def.min !== null && n < def.min) return { error: `Must be at least ${def.min}.` };
      if (def.max !== null && n > def.max) return { error: `Must be at most ${def.max}.` };
      return { value: n };
    }
    case 'BOOLEAN': {
      if (typeof value === 'boolean') return { value };
      // The words the CSV importer reads as yes and no (true/false, 1/0, はい/いいえ, ○/×...).
      if (typeof value === 'string') {
        try {
          return { value: readBoolean(value) };
        } catch {
          // fall through
        }
      }
      return { error: `Must be true or false, not ${describe(value)}.` };
    }
    case 'DATE': {
      if (typeof value !== 'string' || !isCalendarDate(value.trim())) {
        return { error: `Must be a date written YYYY-MM-DD, not ${describe(value)}.` };
      }
      return { value: value.trim() };
    }
    case 'SELECT': {
      if (typeof value !== 'string' || !def.options.includes(value.trim()))
        return { error: `Must be one of ${def.options.map((o) => JSON.stringify(o)).join(', ')}; not ${describe(value)}.` };
      return { value: value.trim() };
    }
    case 'MULTI_SELECT': {
      const list =
        typeof value === 'string'
          ? value
              .split(/[,;|、]/)
              .map((s) => s.trim())
              .filter(Boolean)
          : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) return { error: `Must be a list of options, not ${describe(value)}.` };
      const unknown = list.find((v) => !def.options.includes(v));
      if (unknown !== undefined) return { error: `${JSON.stringify(unknown)} is not one of ${def.options.map((o) => JSON.stringify(o)).join(', ')}.` };
      return { value: [...new Set(list)] };
    }
  }
}

/**
 * Checks the defined keys of a set of custom field values (keys without a definition pass
 * untouched; null removes a value). Problems come back per key.
 */
export function checkCustomFields(
  values: Record<string, unknown>,
  definitions: ReadonlyMap<string, CustomFieldDefinition>,
  options: { creating: boolean },
): { values: Record<string, unknown>; problems: { key: string; message: string }[] } {
  const out: Record<string, unknown> = {};
  const problems: { key: string; message: string }[] = [];
  for (const [key, value] of Object.entries(values)) {
    const def = definitions.get(key);
    if (!def || value === null) {
      if (def?.required && value === null) problems.push({ key, message: `${def.label} is required and cannot be removed.` });
      out[key] = value;
      continue;
    }
    const checked = checkCustomValue(def, value);
    if ('error' in checked) problems.push({ key, message: checked.error });
    else out[key] = checked.value;
  }
  if (options.creating) {
    for (const def of definitions.values()) {
      if (def.required && (values[def.key] === undefined || values[def.key] === null)) problems.push({ key: def.key, message: `${def.label} is required.` });
    }
  }
  return { values: out, problems };
}

/** The defined fields of a record, typed (fields without a value are left out). */
export function typedCustomFields(values: Record<string, unknown>, definitions: readonly CustomFieldDefinition[]): CustomFieldValue[] {
  const out: CustomFieldValue[] = [];
  for (const def of definitions) {
    const value = values[def.key];
    if (value === undefined || value === null) continue;
    const checked = checkCustomValue(def, value);
    // A value stored before its definition changed (an option removed) is shown as text.
    const v = 'value' in checked ? checked.value : value;
    out.push({
      key: def.key,
      label: def.label,
      type: def.type,
      text: typeof v === 'string' ? v : 'error' in checked && !Array.isArray(v) ? JSON.stringify(v) : null,
      number: typeof v === 'number' ? v : null,
      boolean: typeof v === 'boolean' ? v : null,
      options: Array.isArray(v) ? v.map(String) : null,
    });
  }
  return out;
}

/** The definitions of one entity's custom fields, by key. */
export async function loadDefinitions(ctx: KokyakuContext, entity: CustomFieldEntity): Promise<Map<string, CustomFieldDefinition>> {
  const rows = await sql<DefinitionRow>(ctx.em, `select ${COLUMNS} from kokyaku.custom_field_definitions where tenant_id = $1 and entity = $2`, [ctx.tenantId, entity]);
  return new Map(rows.map((r) => [r.key, mapDefinition(r)]));
}

/** Typed custom fields of customers, companies and deals: defined through the API, checked on every write. */
export class CustomFieldService {
  async define(ctx: KokyakuContext, input: CustomFieldDefinitionInput): Promise<CustomFieldDefinition> {
    const d = parseInput(definitionSchema, input, 'custom field');
    const rows = await unique(
      () =>
        sql<DefinitionRow>(
          ctx.em,
          `insert into kokyaku.custom_field_definitions (tenant_id, entity, key, label, description, type, required, options, min, max, max_length)
           values ($1, $2, $3, $4, $5, $6, $7, coalesce(kokyaku.json_texts($8::jsonb), '{}'), $9, $10, $11) returning ${COLUMNS}`,
          [
            ctx.tenantId,
            d.entity,
            d.key,
            d.label ?? d.key,
            d.description ?? null,
            d.type,
            d.required ?? false,
            JSON.stringify(d.options ?? []),
            d.min ?? null,
            d.max ?? null,
            d.maxLength ?? null,
          ],
        ),
      'key',
      `a ${d.entity.toLowerCase()} field "${d.key}" exists already.`,
    );
    return mapDefinition(rows[0]!);
  }

  /** Changes what a field accepts; its entity, key and type stay (values already stored are in that type). */
  async update(ctx: KokyakuContext, id: string, patch: CustomFieldDefinitionPatch): Promise<CustomFieldDefinition> {
    const row = isId(id)
      ? await sqlOne<DefinitionRow>(ctx.em, `select ${COLUMNS} from kokyaku.custom_field_definitions where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id])
      : undefined;
    const current = row ? mapDefinition(row) : undefined;
    if (!current) throw KokyakuError.notFound('Custom field', id);
    const allowed = z.strictObject({
      label: z.string().trim().min(1).max(200).nullable().optional(),
      description: z.string().trim().max(1000).nullable().optional(),
      required: z.boolean().nullable().optional(),
      options: optionList.nullable().optional(),
      min: z.number().finite().nullable().optional(),
      max: z.number().finite().nullable().optional(),
      maxLength: z.number().int().min(1).max(100_000).nullable().optional(),
    });
    const p = parseInput(allowed, patch, 'custom field');
    const next = { ...current, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as CustomFieldDefinition;
    parseInput(
      definitionSchema,
      {
        entity: next.entity,
        key: next.key,
        type: next.type,
        label: next.label,
        required: next.required,
        options: next.options,
        min: next.min,
        max: next.max,
        maxLength: next.maxLength,
      },
      'custom field',
    );
    const rows = await sql<DefinitionRow>(
      ctx.em,
      `update kokyaku.custom_field_definitions set label = $3, description = $4, required = $5, options = coalesce(kokyaku.json_texts($6::jsonb), '{}'),
         min = $7, max = $8, max_length = $9, updated_at = now()
       where tenant_id = $1 and id = $2::bigint returning ${COLUMNS}`,
      [ctx.tenantId, id, next.label, next.description, next.required, JSON.stringify(next.options), next.min, next.max, next.maxLength],
    );
    return mapDefinition(rows[0]!);
  }

  /** Removes a definition; stored values stay, untyped. */
  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const rows = await sql(ctx.em, `delete from kokyaku.custom_field_definitions where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id]);
    return rows.length > 0;
  }

  async list(ctx: KokyakuContext, entity?: CustomFieldEntity | null): Promise<CustomFieldDefinition[]> {
    const rows = await sql<DefinitionRow>(
      ctx.em,
      `select ${COLUMNS} from kokyaku.custom_field_definitions where tenant_id = $1 and ($2::text is null or entity = $2) order by entity, key`,
      [ctx.tenantId, entity ?? null],
    );
    return rows.map(mapDefinition);
  }

  /** The definitions of one entity by key. */
  definitions(ctx: KokyakuContext, entity: CustomFieldEntity): Promise<Map<string, CustomFieldDefinition>> {
    return loadDefinitions(ctx, entity);
  }

  /**
   * Checks a write of custom fields to a company or deal; throws BAD_USER_INPUT naming the first
   * bad field (`customFields.<key>`) and listing all of them.
   */
  async check(
    ctx: KokyakuContext,
    entity: CustomFieldEntity,
    values: Record<string, unknown> | null | undefined,
    options: { creating: boolean },
  ): Promise<Record<string, unknown>> {
    const definitions = await this.definitions(ctx, entity);
    const { values: out, problems } = checkCustomFields(values ?? {}, definitions, options);
    if (problems.length > 0) {
      const list = problems.map((p) => ({ field: `customFields.${p.key}`, message: p.message }));
      throw KokyakuError.badInput(`${list[0]!.field}: ${list[0]!.message}`, { field: list[0]!.field, problems: list });
    }
    return out;
  }
}
