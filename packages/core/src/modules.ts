import { analyticsModule } from './analytics/module.js';
import { auditModule } from './audit/module.js';
import { automationModule } from './automation/module.js';
import { catalogModule } from './catalog/module.js';
import { crmModule, scoringModule } from './crm/module.js';
import { customersModule } from './customers/module.js';
import { eventsModule } from './events/module.js';
import { fieldsModule } from './fields/module.js';
import { importsModule } from './imports/module.js';
import { mailboxModule } from './mailbox/module.js';
import { metricsModule } from './metrics/module.js';
import { type DispatchedModule, HookDispatcher } from './module/hooks.js';
import type { KokyakuModule } from './module/module.js';
import { ordersModule } from './orders/module.js';
import { privacyModule } from './privacy/module.js';
import { recommendationsModule } from './recommendations/module.js';
import { segmentsModule } from './segments/module.js';
import { type AttributeSpec, type FunctionSpec, type SegmentVocabulary, vocabularyOf } from './segments/language.js';
import { type CompileOptions, type CompiledSegment, compileSegmentQuery as compileWith } from './segments/compiler.js';

/**
 * Core's modules that hold data, in the order their hooks run: the customer first, what refers to
 * it after. Plugins come after these (their hooks see orders, figures and scores stored) ...
 */
export const DATA_MODULES: readonly KokyakuModule<any>[] = [
  fieldsModule,
  customersModule,
  catalogModule,
  ordersModule,
  eventsModule,
  metricsModule,
  analyticsModule,
  recommendationsModule,
  privacyModule,
  importsModule,
  crmModule,
  mailboxModule,
  auditModule,
];

/** ... and before these, which react to everything before them: lead scores, segments, journeys. */
export const REACTING_MODULES: readonly KokyakuModule<any>[] = [scoringModule, segmentsModule, automationModule];

/** Every module of one Kokyaku in dispatch order: core's data modules, the plugins as listed, core's reacting modules. */
export function composeModules(plugins: readonly KokyakuModule<any>[]): DispatchedModule[] {
  return [...DATA_MODULES, ...plugins.map((p) => ({ ...p, plugin: true })), ...REACTING_MODULES];
}

/**
 * Every tenant table of core, dependents first: what `eraseShop` deletes, in this order. The
 * tenancy test fails when a table with a tenant_id is missing here.
 */
export const TENANT_TABLES: readonly string[] = new HookDispatcher(composeModules([])).tenantTables();

/** The segment language of core's modules alone (a Kokyaku with plugins has theirs too: `kokyaku.segments.language`). */
export const CORE_VOCABULARY: SegmentVocabulary = vocabularyOf(composeModules([]));

/** Core's segment attributes and MATCHES functions, as their modules declare them (docs/segments.md). */
export const SEGMENT_ATTRIBUTES: readonly AttributeSpec[] = [...CORE_VOCABULARY.attributes.values()];
export const SEGMENT_FUNCTIONS: readonly FunctionSpec[] = [...CORE_VOCABULARY.functions.values()];

/**
 * Parses, type-checks and compiles a segment query into one SQL predicate over the customer facts
 * `f` (core's vocabulary unless `options.vocabulary` says otherwise). Throws SegmentQueryError.
 */
export function compileSegmentQuery(source: string, options: Omit<CompileOptions, 'vocabulary'> & { vocabulary?: SegmentVocabulary }): CompiledSegment {
  return compileWith(source, { ...options, vocabulary: options.vocabulary ?? CORE_VOCABULARY });
}
