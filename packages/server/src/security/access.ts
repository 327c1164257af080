import { KokyakuError, type Role } from '@kokyaku/core';
import { type GraphQLFieldResolver, type GraphQLSchema, defaultFieldResolver, isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';

/**
 * Who may read a field of an object type. Root fields (queries, mutations) declare their roles
 * with `@Authorized(...)` next to their resolver; every field of every object type declares its
 * rule here. Building the schema fails while any field lacks one, and so does the schema test.
 *
 * - `inherit`: whoever could reach the object may read the field (the root operation that
 *   returned it checked the roles);
 * - `roles`: only these roles; others get FORBIDDEN;
 * - `masked`: personal data: these roles read it, every other role reads `mask(value)`.
 */
export type AccessRule =
  | { kind: 'inherit' }
  | { kind: 'roles'; roles: readonly Role[] }
  | {
      kind: 'masked';
      roles: readonly Role[];
      mask: (value: unknown, source: Record<string, unknown>) => unknown;
      /** Whose data it is: reads by the roles that see it are written to the audit log. */
      subject: (source: Record<string, unknown>) => string | undefined;
    };

const INHERIT: AccessRule = { kind: 'inherit' };
const inherit = (...fields: string[]): Record<string, AccessRule> => Object.fromEntries(fields.map((f) => [f, INHERIT]));
const contact = (
  mask: (value: unknown, source: Record<string, unknown>) => unknown,
  subject: (source: Record<string, unknown>) => string | undefined = (customer) => customer.id as string,
): AccessRule => ({ kind: 'masked', roles: CONTACT_DATA, mask, subject });

/** `hanako@example.com` → `h***@example.com`. */
export function maskEmail(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const at = value.lastIndexOf('@');
  return at < 1 ? '***' : `${value[0]}***${value.slice(at)}`;
}

/** `+819012345678` → `**********78`. */
export function maskPhone(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return `${'*'.repeat(Math.max(0, value.length - 2))}${value.slice(-2)}`;
}

const hidden = () => null;

export const FIELD_ACCESS: Record<string, Record<string, AccessRule>> = {
  Customer: {
    ...inherit('id', 'externalId', 'firstName', 'lastName', 'firstNameKana', 'lastNameKana', 'region', 'country', 'tags', 'customFields'),
    ...inherit('emailConsent', 'placeholder', 'createdAt', 'updatedAt', 'erasedAt', 'marketingObjectionAt', 'metrics', 'orders', 'segments'),
    ...inherit('timeline', 'leadScore', 'scoreContributions', 'customFieldValues', 'companies', 'notes', 'tasks', 'inquiries', 'deals'),
    ...inherit('preferredChannel', 'messages', 'journeyRuns'),
    email: contact(maskEmail),
    lineUserId: contact(hidden),
    phone: contact(maskPhone),
    birthday: contact(hidden),
    city: contact(hidden),
  },
  CustomerSearchHit: {
    ...inherit('customer', 'rank', 'field', 'highlight'),
    // The matched value is the email or phone when the hit was on one of those.
    value: contact(
      (value, hit) => (hit.field === 'EMAIL' ? maskEmail(value) : hit.field === 'PHONE' ? maskPhone(value) : value),
      (hit) => (hit.field === 'EMAIL' || hit.field === 'PHONE' ? (hit.customer as { id: string }).id : undefined),
    ),
  },
  CustomerConnection: inherit('nodes', 'pageInfo', 'totalCount'),
  CustomerSearchConnection: inherit('nodes', 'pageInfo'),
  CustomerMetrics: inherit(
    'ordersCount',
    'totalSpent',
    'averageOrderValue',
    'firstOrderAt',
    'lastOrderAt',
    'averageDaysBetweenOrders',
    'isRepeatCustomer',
    'rfm',
    'decile',
    'predictedClv',
    'probabilityAlive',
    'churnRisk',
    'expectedPurchases',
    'currency',
  ),
  RfmScores: inherit('recency', 'frequency', 'monetary', 'group'),
  SearchHighlight: inherit('start', 'end'),
  PageInfo: inherit('hasNextPage', 'endCursor'),
  Product: inherit('id', 'externalId', 'name', 'price', 'currency', 'categories', 'tags', 'inStock', 'placeholder'),
  Order: inherit('id', 'externalId', 'customer', 'placedAt', 'status', 'currency', 'total', 'lines'),
  OrderLine: inherit('product', 'quantity', 'unitPrice', 'total'),
  OrderConnection: inherit('nodes', 'pageInfo', 'totalCount'),
  Segment: inherit('id', 'name', 'query', 'count', 'customers', 'createdAt', 'updatedAt'),
  SegmentConnection: inherit('nodes', 'pageInfo', 'totalCount'),
  SegmentPreview: inherit('count', 'customers'),
  BatchResult: inherit('received', 'created', 'updated', 'unchanged', 'failed', 'errors'),
  BatchItemError: inherit('index', 'externalId', 'field', 'message'),
  Recommendation: inherit('product', 'score', 'reason', 'strategy'),
  RecommendationEvaluation: inherit('k', 'asOf', 'replayedCustomers', 'eligibleCustomers', 'customers', 'rows'),
  RecommendationEvaluationRow: inherit('strategy', 'popularityWeight', 'customers', 'hitRate', 'recall', 'ndcg'),
  // Analytics reports: aggregates over many customers, no one's personal data.
  RfmReport: inherit('customers', 'revenue', 'cells', 'groups'),
  RfmCell: inherit('recency', 'fm', 'group', 'customers', 'revenue'),
  RfmGroupSummary: inherit('group', 'customers', 'customerShare', 'revenue', 'revenueShare'),
  DecileReport: inherit('from', 'to', 'customers', 'revenue', 'deciles'),
  DecileRow: inherit('decile', 'customers', 'revenue', 'share', 'cumulativeShare', 'minSpend', 'maxSpend'),
  CohortReport: inherit('from', 'to', 'cohorts'),
  Cohort: inherit('cohort', 'customers', 'retention'),
  CohortRetention: inherit('month', 'customers', 'rate'),
  RepeatPurchaseReport: inherit('customers', 'repeatCustomers', 'repeatRate', 'averageDaysToSecondOrder', 'medianDaysToSecondOrder'),
  KpiReport: inherit('from', 'to', 'period', 'periods'),
  KpiPeriod: inherit('start', 'revenue', 'orders', 'averageOrderValue', 'newCustomers', 'returningCustomers', 'repeatRate'),
  CampaignReport: inherit('revenue', 'orders', 'cost', 'roas', 'roi'),
  ClvModel: inherit('fittedAt', 'calibrationEnd', 'horizonMonths', 'annualDiscountRate', 'bgnbd', 'gammaGamma', 'warnings'),
  BgNbdFit: inherit('r', 'alpha', 'a', 'b', 'logLikelihood', 'customers'),
  GammaGammaFit: inherit('p', 'q', 'gamma', 'logLikelihood', 'customers'),
  // Privacy: reached only through operations that check their roles; no personal values.
  Consent: inherit('channel', 'granted', 'source', 'recordedAt', 'actorId'),
  Erasure: inherit('customerId', 'erasedAt'),
  MarketingObjection: inherit('customerId', 'objectedAt'),
  AuditEntry: inherit('id', 'at', 'actorId', 'actorRoles', 'action', 'customerId', 'fields', 'requestId', 'detail'),
  AuditEntryConnection: inherit('nodes', 'pageInfo'),
  // Imports and identity: reached through ADMIN (or contact-data) operations.
  ImportResult: inherit('runId', 'kind', 'phase', 'encoding', 'columns', 'unusedHeaders', 'rowsRead', 'rowsValid', 'rowsFailed', 'rowsWarned', 'problems', 'resumed', 'seconds'),
  ImportColumn: inherit('field', 'header'),
  ImportProblem: inherit('line', 'column', 'reason', 'stored'),
  Viewer: inherit('id', 'roles', 'can', 'shop'),
  ViewerPermissions: inherit('contactData', 'workWithCustomers', 'manageSegments', 'admin'),
  ShopSettings: inherit('currency', 'timeZone', 'defaultCountry'),
  SegmentLanguage: inherit('attributes', 'functions', 'calls', 'customFields'),
  SegmentAttributeInfo: inherit('name', 'type', 'description', 'example', 'values', 'plugin'),
  SegmentFunctionInfo: inherit('name', 'description', 'example', 'arguments', 'plugin'),
  SegmentFunctionArgument: inherit('name', 'type', 'role', 'description'),
  SegmentCallInfo: inherit('name', 'description', 'example', 'arguments'),
  SegmentCustomField: inherit('key', 'label', 'type', 'options'),
  ImportField: inherit('field', 'required', 'description'),
  ImportUpload: inherit('uploadId', 'path', 'bytes'),
  ImportRun: inherit('id', 'kind', 'fileName', 'status', 'rowsRead', 'rowsFailed', 'rowsApplied', 'startedAt', 'updatedAt', 'finishedAt'),
  DuplicateGroup: inherit('rule', 'customers'),
  MergePreview: inherit('survivorId', 'mergedIds', 'fields', 'aliases', 'ordersMoved', 'eventsMoved'),
  MergeField: inherit('field', 'value', 'fromCustomerId', 'dropped'),
  // CRM records: reached through operations that check their roles. What staff and customers
  // wrote (note bodies, inquiry subjects and messages) is free text that may hold anything
  // personal: roles without access to contact data do not see it.
  CustomFieldDefinition: inherit('id', 'entity', 'key', 'label', 'description', 'type', 'required', 'options', 'min', 'max', 'maxLength', 'createdAt', 'updatedAt'),
  CustomFieldValue: inherit('key', 'label', 'type', 'text', 'number', 'boolean', 'options'),
  Company: inherit(
    'id',
    'externalId',
    'name',
    'domain',
    'industry',
    'size',
    'parentId',
    'customFields',
    'createdAt',
    'updatedAt',
    'parent',
    'children',
    'ancestors',
    'contacts',
    'subtree',
    'revenue',
    'customFieldValues',
    'notes',
    'deals',
    'tasks',
    'timeline',
  ),
  CompanyRollup: inherit('companies', 'contacts', 'orders', 'revenue'),
  CompanyConnection: inherit('nodes', 'pageInfo'),
  CompanyContact: inherit('companyId', 'customerId', 'title', 'role', 'createdAt', 'company', 'customer'),
  CompanyTreeNode: inherit('company', 'depth', 'path', 'ownRevenue', 'subtreeRevenue', 'subtreeOrders', 'subtreeContacts'),
  Pipeline: inherit('id', 'name', 'stages', 'createdAt'),
  PipelineStage: inherit('id', 'name', 'position', 'probability', 'outcome'),
  Deal: inherit(
    'id',
    'pipelineId',
    'stageId',
    'title',
    'amount',
    'currency',
    'expectedCloseDate',
    'ownerId',
    'customerId',
    'companyId',
    'customFields',
    'probability',
    'outcome',
    'closedAt',
    'createdAt',
    'updatedAt',
    'history',
    'orderIds',
    'customFieldValues',
    'customer',
    'company',
    'notes',
    'tasks',
  ),
  DealConnection: inherit('nodes', 'pageInfo'),
  DealStageChange: inherit('id', 'fromStageId', 'toStageId', 'actorId', 'movedAt'),
  ForecastRow: inherit('period', 'ownerId', 'openDeals', 'openAmount', 'weightedAmount', 'wonDeals', 'wonAmount'),
  Note: {
    ...inherit('id', 'customerId', 'companyId', 'dealId', 'authorId', 'pinned', 'createdAt', 'updatedAt'),
    body: contact(hidden, (note) => (note.customerId as string | null) ?? undefined),
  },
  NoteConnection: inherit('nodes', 'pageInfo'),
  Task: {
    ...inherit('id', 'title', 'assigneeId', 'dueAt', 'status', 'priority', 'customerId', 'companyId', 'dealId', 'orderId', 'createdBy', 'createdAt', 'updatedAt', 'completedAt'),
    description: contact(hidden, (task) => (task.customerId as string | null) ?? undefined),
  },
  TaskConnection: inherit('nodes', 'pageInfo'),
  Inquiry: {
    ...inherit('id', 'customerId', 'orderId', 'kind', 'channel', 'category', 'status', 'priority', 'assigneeId', 'openedAt', 'firstResponseAt', 'resolvedAt'),
    ...inherit('firstResponseMinutes', 'resolutionMinutes', 'createdBy', 'updatedAt', 'messages', 'customer'),
    subject: contact(hidden, (inquiry) => inquiry.customerId as string),
  },
  InquiryConnection: inherit('nodes', 'pageInfo'),
  InquiryMessage: { ...inherit('id', 'direction', 'authorId', 'sentAt'), body: contact(hidden, () => undefined) },
  InquiryStats: inherit(
    'opened',
    'responded',
    'resolved',
    'unresolved',
    'averageFirstResponseMinutes',
    'medianFirstResponseMinutes',
    'p90FirstResponseMinutes',
    'averageResolutionMinutes',
    'medianResolutionMinutes',
    'p90ResolutionMinutes',
  ),
  ScoringRule: inherit('id', 'name', 'points', 'activity', 'eventType', 'minCount', 'withinDays', 'halfLifeDays', 'condition', 'createdAt', 'updatedAt', 'plugin'),
  ScoringBands: inherit('hot', 'warm'),
  LeadScore: inherit('score', 'band', 'computedAt'),
  ScoreContribution: inherit('ruleId', 'ruleName', 'points'),
  TimelineEntry: {
    ...inherit('id', 'kind', 'at', 'actorId', 'recordId', 'customerId'),
    // A note's text, an inquiry's subject and an event's properties are in these two.
    summary: contact(
      (value, entry) => (entry.kind === 'NOTE' ? 'Note' : entry.kind === 'INQUIRY' ? 'Inquiry' : entry.kind === 'MESSAGE' ? 'Message' : value),
      (entry) => (entry.kind === 'NOTE' || entry.kind === 'INQUIRY' || entry.kind === 'MESSAGE' ? ((entry.customerId as string | null) ?? undefined) : undefined),
    ),
    data: contact(
      (value) => Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([key]) => !['body', 'subject', 'properties'].includes(key))),
      (entry) => (entry.kind === 'NOTE' || entry.kind === 'INQUIRY' || entry.kind === 'MESSAGE' ? ((entry.customerId as string | null) ?? undefined) : undefined),
    ),
  },
  TimelineConnection: inherit('nodes', 'pageInfo'),
  Journey: inherit('id', 'name', 'status', 'version', 'definition', 'activatedAt', 'createdBy', 'createdAt', 'updatedAt', 'versions', 'runs', 'report'),
  JourneyVersion: inherit('version', 'definition', 'createdBy', 'createdAt'),
  JourneyConnection: inherit('nodes', 'pageInfo'),
  JourneyRun: {
    ...inherit('id', 'journeyId', 'version', 'customerId', 'status', 'stepId', 'wakeAt', 'error', 'startedAt', 'finishedAt', 'steps', 'journey', 'customer'),
    // What a manual start passed in (data) may be anything personal.
    context: contact(
      (value) => Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([key]) => key !== 'data')),
      (run) => run.customerId as string,
    ),
  },
  JourneyRunStep: inherit('seq', 'stepId', 'type', 'outcome', 'detail', 'at'),
  JourneyRunConnection: inherit('nodes', 'pageInfo'),
  Message: {
    ...inherit('id', 'customerId', 'journeyId', 'runId', 'stepId', 'channel', 'purpose', 'status', 'reason', 'links', 'error', 'createdAt', 'sentAt', 'deliveredAt', 'clicks'),
    // The address and the words sent to a customer: contact data.
    recipient: contact(
      (value, message) => (message.channel === 'EMAIL' ? maskEmail(value) : message.channel === 'SMS' ? maskPhone(value) : null),
      (m) => (m.customerId as string | null) ?? undefined,
    ),
    subject: contact(hidden, (m) => (m.customerId as string | null) ?? undefined),
    body: contact(hidden, (m) => (m.customerId as string | null) ?? undefined),
  },
  MessageConnection: inherit('nodes', 'pageInfo'),
  WithheldCount: inherit('reason', 'count'),
  JourneyReport: inherit(
    'runs',
    'active',
    'completed',
    'failed',
    'sent',
    'delivered',
    'failedMessages',
    'withheld',
    'withheldByReason',
    'clicks',
    'uniqueClickers',
    'attributedOrders',
    'attributedRevenue',
    'conversionRate',
    'attributionDays',
    'steps',
  ),
  JourneyStepReport: inherit('stepId', 'waiting', 'sent', 'withheld', 'withheldByReason'),
  MessagingSettings: inherit('quietHoursStart', 'quietHoursEnd', 'frequencyCapMax', 'frequencyCapDays', 'attributionDays', 'channelOrder', 'configuredChannels'),
  MessagePreview: inherit('subject', 'text', 'html'),
  JourneyStartResult: inherit('started', 'skipped', 'runIds'),
};

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);

/** Roles declared with `@Authorized` per root field name. */
function rootRoles(): Map<string, readonly Role[]> {
  return new Map(getMetadataStorage().authorizedFields.map((a) => [a.fieldName, a.roles as Role[]]));
}

/** Every field of the schema (Type.field) with no declared access rule. */
export function undeclaredFields(
  schema: GraphQLSchema,
  access: Record<string, Record<string, AccessRule>> = FIELD_ACCESS,
  pluginRoots: ReadonlyMap<string, readonly Role[]> = new Map(),
): string[] {
  const roots = new Map([...rootRoles(), ...pluginRoots]);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.keys(type.getFields())) {
      const declared = ROOTS.has(type.name) ? roots.has(field) : access[type.name]?.[field] !== undefined;
      if (!declared) missing.push(`${type.name}.${field}`);
    }
  }
  return missing;
}

/**
 * Applies the rules of `FIELD_ACCESS` to a built schema (in place) and refuses a schema with a
 * field that declares none.
 */
export function enforceFieldAccess(
  schema: GraphQLSchema,
  access: Record<string, Record<string, AccessRule>> = FIELD_ACCESS,
  pluginRoots: ReadonlyMap<string, readonly Role[]> = new Map(),
): GraphQLSchema {
  const missing = undeclaredFields(schema, access, pluginRoots);
  if (missing.length > 0) {
    throw new Error(`These fields declare no access rule (add them to FIELD_ACCESS, or @Authorized on a root field): ${missing.join(', ')}`);
  }
  // Plugins' queries and mutations: the same check as @Authorized on Kokyaku's own.
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const roles = pluginRoots.get(field.name);
      if (!roles) continue;
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      const where = `${root!.name}.${field.name}`;
      field.resolve = (source, args, context: GraphQLContext, info) => {
        if (!context.actor) throw new KokyakuError('UNAUTHENTICATED', `Sign in to use ${where}.`);
        if (!context.actor.roles.some((r) => roles.includes(r))) {
          throw new KokyakuError('FORBIDDEN', `${where} needs one of the roles ${roles.join(', ')}.`, { required: roles });
        }
        return resolve(source, args, context, info);
      };
    }
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || ROOTS.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = access[type.name]![field.name]!;
      if (rule.kind === 'inherit') continue;
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      const where = `${type.name}.${field.name}`;
      if (rule.kind === 'roles') {
        field.resolve = (source, args, context: GraphQLContext, info) => {
          if (!context.actor?.roles.some((r) => rule.roles.includes(r))) {
            throw new KokyakuError('FORBIDDEN', `${where} needs one of the roles ${rule.roles.join(', ')}.`, { required: rule.roles });
          }
          return resolve(source, args, context, info);
        };
      } else {
        const finish = (value: unknown, source: Record<string, unknown>, context: GraphQLContext) => {
          if (value == null) return value;
          if (context.actor?.roles.some((r) => rule.roles.includes(r))) {
            const customerId = rule.subject(source);
            if (customerId) recordRead(context, customerId, field.name);
            return value;
          }
          return rule.mask(value, source);
        };
        // Plain properties resolve synchronously: no promise per field of every customer.
        field.resolve = (source, args, context: GraphQLContext, info) => {
          const value = resolve(source, args, context, info);
          return value instanceof Promise ? value.then((v) => finish(v, source as Record<string, unknown>, context)) : finish(value, source as Record<string, unknown>, context);
        };
      }
    }
  }
  return schema;
}

/** Notes that this request showed a personal field of a customer (written to the audit log once per request). */
function recordRead(context: GraphQLContext, customerId: string, field: string): void {
  const reads = (context.personalReads ??= new Map());
  const fields = reads.get(customerId);
  if (fields) fields.add(field);
  else reads.set(customerId, new Set([field]));
}
