import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { formatPath } from '../ingestion/batch.js';
import type { SegmentService } from '../segments/segment.service.js';
import { KokyakuError } from '../shared/errors.js';
import { toMinorUnits } from '../shared/money.js';
import { sqlOne } from '../shared/sql.js';
import { isId } from '../shared/validation.js';
import { checkTemplates } from './templates.js';
import type { ChannelAdapter } from './channels.js';

/**
 * A journey is data: a trigger, a re-entry rule and a list of steps. It is checked whole when it
 * is saved (every field, every link between steps, every condition in the segment language,
 * every template), so a saved journey only fails at run time for reasons of the moment (a
 * channel down, a customer without an address).
 */

export const CHANNELS = ['EMAIL', 'LINE', 'SMS'] as const;
export type Channel = (typeof CHANNELS)[number];

const stepId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'Step ids are 1-64 letters, digits, "_" or "-".');
const link = stepId.nullable().optional();
const label = z.string().trim().min(1).max(100);
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time of day is "HH:MM" (24 hours).');

const trigger = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ORDER_PLACED'),
    /** Only the customer's first placed order. */
    firstOrder: z.boolean().optional(),
    /** Only orders of at least this total, in the shop's currency. */
    minTotal: z.number().nonnegative().optional(),
    /** Derived on save: minTotal in minor units. */
    minTotalMinor: z.number().int().optional(),
  }),
  z.strictObject({
    type: z.literal('EVENT'),
    eventType: label,
    /** Only events whose properties contain these (equality). */
    properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  z.strictObject({ type: z.literal('SEGMENT_ENTERED'), segmentId: z.string().refine(isId, 'Must be a segment id.') }),
  z.strictObject({ type: z.literal('SEGMENT_LEFT'), segmentId: z.string().refine(isId, 'Must be a segment id.') }),
  z.strictObject({ type: z.literal('INQUIRY_OPENED'), kind: z.enum(['INQUIRY', 'COMPLAINT']).optional() }),
  z.strictObject({
    type: z.literal('DATE'),
    /** BIRTHDAY and FIRST_ORDER_ANNIVERSARY on the day; DAYS_AFTER_LAST_ORDER `days` after it. */
    date: z.enum(['BIRTHDAY', 'FIRST_ORDER_ANNIVERSARY', 'DAYS_AFTER_LAST_ORDER']),
    days: z.number().int().min(1).max(3650).optional(),
  }),
  /** Mail from the customer reached a synced mailbox (docs/mailbox.md). */
  z.strictObject({ type: z.literal('EMAIL_RECEIVED') }),
  z.strictObject({ type: z.literal('MANUAL') }),
]);

const templateFields = {
  subject: z.string().max(1000).nullable().optional(),
  text: z.string().min(1, 'A message needs text.'),
  html: z.string().nullable().optional(),
};

const coreSteps = [
  z.strictObject({
    id: stepId,
    type: z.literal('WAIT'),
    seconds: z.number().int().min(0).max(86_400).optional(),
    minutes: z
      .number()
      .int()
      .min(0)
      .max(60 * 24 * 365)
      .optional(),
    hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 365)
      .optional(),
    days: z.number().int().min(0).max(365).optional(),
    /** After the duration: until this local time of day in the shop's time zone. */
    untilTime: timeOfDay.optional(),
    next: link,
  }),
  z.strictObject({ id: stepId, type: z.literal('CONDITION'), query: z.string().min(1).max(2000), yes: link, no: link }),
  z.strictObject({
    id: stepId,
    type: z.literal('SEND'),
    /** PREFERRED: the customer's preferred channel, then the shop's channel order. */
    channel: z.enum(['EMAIL', 'LINE', 'SMS', 'PREFERRED']),
    /** Channels to try, in order, when the first cannot reach the customer. */
    fallback: z.array(z.enum(CHANNELS)).max(3).optional(),
    /** MARKETING needs consent and obeys quiet hours and the frequency cap; TRANSACTIONAL does not. */
    purpose: z.enum(['MARKETING', 'TRANSACTIONAL']),
    ...templateFields,
    next: link,
  }),
  z.strictObject({ id: stepId, type: z.literal('END') }),
] as const;

function definitionSchemaOf<S extends z.ZodType>(step: S) {
  return z.strictObject({
    trigger,
    /** ONCE (default): a customer goes through the journey once; EVERY_TIME: once per trigger. */
    reentry: z.enum(['ONCE', 'EVERY_TIME']).default('ONCE'),
    steps: z.array(step).min(1, 'A journey needs at least one step.').max(100),
  });
}

const definitionSchema = definitionSchemaOf(z.discriminatedUnion('type', [...coreSteps]));

/**
 * The schema with the step types of the modules (core's TASK, TAG, FIELD and WEBHOOK, and
 * plugins'). A step whose options are a zod object is checked here, with the definition; any
 * other Standard Schema checks its step's fields afterwards.
 */
const schemas = new WeakMap<AutomationExtensions, z.ZodType>();
function schemaFor(modules: AutomationExtensions): z.ZodType {
  if (modules.steps.size === 0) return definitionSchema;
  let schema = schemas.get(modules);
  if (!schema) {
    const moduleSteps = [...modules.steps.values()].map((s) =>
      s.options instanceof z.ZodObject ? s.options.extend({ id: stepId, type: z.literal(s.type), next: link }) : z.looseObject({ id: stepId, type: z.literal(s.type), next: link }),
    );
    schema = definitionSchemaOf(z.discriminatedUnion('type', [...coreSteps, ...moduleSteps] as never));
    schemas.set(modules, schema);
  }
  return schema;
}

/** A step of a plugin's type, as stored: its options beside id, type and next. */
export interface PluginStep {
  id: string;
  type: string;
  next?: string | null;
  [option: string]: unknown;
}

/** The options of a plugin step (its fields but id, type and next). */
export function pluginStepOptions(step: PluginStep): Record<string, unknown> {
  const { id: _id, type: _type, next: _next, ...options } = step;
  return options;
}

export type JourneyDefinition = z.output<typeof definitionSchema>;
export type JourneyTrigger = JourneyDefinition['trigger'];
export type JourneyStep = JourneyDefinition['steps'][number];
export type TriggerType = JourneyTrigger['type'];

/** Where a step goes next: null ends the run. */
export function successors(definition: JourneyDefinition, index: number): (string | null)[] {
  const s = definition.steps[index]!;
  const following = definition.steps[index + 1]?.id ?? null;
  const or = (target: string | null | undefined) => (target === undefined ? following : target);
  switch (s.type) {
    case 'END':
      return [null];
    case 'CONDITION':
      return [or(s.yes), or(s.no)];
    default:
      return [or(s.next)];
  }
}

function problem(field: string, message: string, extra: Record<string, unknown> = {}): KokyakuError {
  return KokyakuError.badInput(`${field}: ${message}`, { field, ...extra });
}

/**
 * Checks a definition and returns it normalised (defaults filled in, minTotal in minor units).
 * Fails with BAD_USER_INPUT naming the field (`definition.steps[2].query`); a condition that is
 * not valid segment language keeps the compiler's position.
 */
export async function parseDefinition(
  ctx: KokyakuContext,
  segments: SegmentService,
  input: unknown,
  plugins: AutomationExtensions = NO_AUTOMATION_EXTENSIONS,
): Promise<JourneyDefinition> {
  const parsed = schemaFor(plugins).safeParse(input) as ReturnType<typeof definitionSchema.safeParse>;
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: formatPath(['definition', ...issue.path, key]), message: `Unknown field "${key}".` }))
        : [{ field: formatPath(['definition', ...issue.path]), message: issue.message }],
    );
    const first = problems[0]!;
    throw KokyakuError.badInput(`${first.field}: ${first.message}`, { field: first.field, problems });
  }
  const definition = parsed.data;
  const { trigger: t, steps } = definition;

  if (t.type === 'ORDER_PLACED' && t.minTotal !== undefined) {
    const minor = toMinorUnits(t.minTotal, ctx.shop.currency);
    if (minor === undefined) throw problem('definition.trigger.minTotal', `Has more decimals than ${ctx.shop.currency} allows.`);
    t.minTotalMinor = minor;
  } else if (t.type === 'ORDER_PLACED') {
    delete t.minTotalMinor;
  }
  if (t.type === 'DATE' && t.date === 'DAYS_AFTER_LAST_ORDER' && t.days === undefined) {
    throw problem('definition.trigger.days', 'Say how many days after the last order.');
  }
  if (t.type === 'SEGMENT_ENTERED' || t.type === 'SEGMENT_LEFT') {
    const found = await segments.get(ctx, t.segmentId);
    if (!found) throw problem('definition.trigger.segmentId', `No saved segment with id ${t.segmentId} in this shop.`);
  }

  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (index.has(s.id)) throw problem(`definition.steps[${i}].id`, `Step id "${s.id}" is used twice.`);
    index.set(s.id, i);
  });
  // Every link names a step; every step is reachable from the first; no loops.
  steps.forEach((s, i) => {
    const links: [string, string | null | undefined][] =
      s.type === 'CONDITION'
        ? [
            ['yes', s.yes],
            ['no', s.no],
          ]
        : s.type === 'END'
          ? []
          : [['next', s.next]];
    for (const [key, target] of links) {
      if (target != null && !index.has(target)) throw problem(`definition.steps[${i}].${key}`, `No step with id "${target}".`);
    }
  });
  const state = new Array<0 | 1 | 2>(steps.length).fill(0);
  const visit = (i: number) => {
    state[i] = 1;
    for (const target of successors(definition, i)) {
      if (target === null) continue;
      const j = index.get(target)!;
      if (state[j] === 1) throw problem(`definition.steps[${i}]`, `Step "${steps[i]!.id}" leads back to "${target}": journeys may not loop.`);
      if (state[j] === 0) visit(j);
    }
    state[i] = 2;
  };
  visit(0);
  const unreachable = steps.findIndex((_, i) => state[i] === 0);
  if (unreachable >= 0) throw problem(`definition.steps[${unreachable}]`, `Step "${steps[unreachable]!.id}" cannot be reached from the first step.`);

  for (const [i, s] of steps.entries()) {
    const field = `definition.steps[${i}]`;
    if (s.type === 'WAIT' && !s.seconds && !s.minutes && !s.hours && !s.days && !s.untilTime) throw problem(field, 'A wait needs a duration or an untilTime.');
    if (s.type === 'CONDITION') {
      try {
        await segments.compile(ctx, s.query);
      } catch (error) {
        if (error instanceof KokyakuError && error.code === 'SEGMENT_QUERY_INVALID') {
          throw KokyakuError.segmentQueryInvalid(`${field}.query: ${error.message}`, { ...error.details, field: `${field}.query` });
        }
        throw error;
      }
    }
    if (s.type === 'SEND') checkTemplates(ctx.shop, s, field);
    const plugin = plugins.steps.get(s.type);
    if (plugin && !(plugin.options instanceof z.ZodObject)) {
      // The plugin's schema checks its fields; what it returns is what the step runs with.
      const result = await plugin.options['~standard'].validate(pluginStepOptions(s as PluginStep));
      if (result.issues) {
        const issue = result.issues[0]!;
        const path = (issue.path ?? []).map((k) => (typeof k === 'object' ? k.key : k)) as (string | number)[];
        const at = formatPath(['definition', 'steps', i, ...path]);
        throw KokyakuError.badInput(`${at}: ${issue.message}`, {
          field: at,
          problems: result.issues.map((x) => ({
            field: formatPath(['definition', 'steps', i, ...((x.path ?? []).map((k) => (typeof k === 'object' ? k.key : k)) as (string | number)[])]),
            message: x.message,
          })),
        });
      }
      const { id, type, next } = s as PluginStep;
      steps[i] = { id, type, ...(next !== undefined ? { next } : {}), ...(result.value as Record<string, unknown>) } as never;
    }
  }
  return definition;
}

export type { StepRun } from '../module/steps.js';
import type { AutomationStep } from '../module/steps.js';

/** A step type of a module (core's or a plugin's `automationSteps`), as the automation module runs it. */
export interface ExtensionStep extends AutomationStep<any, any> {
  /** The module that declares it. */
  readonly module: string;
}

/** What modules add to journeys: step types, channel transports (plugins'), and the instance their steps get. */
export interface AutomationExtensions {
  readonly steps: ReadonlyMap<string, ExtensionStep>;
  readonly channels: Partial<Record<'EMAIL' | 'LINE' | 'SMS', ChannelAdapter>>;
  instance(): unknown;
}

export const NO_AUTOMATION_EXTENSIONS: AutomationExtensions = { steps: new Map(), channels: {}, instance: () => null };
