export {
  type KokyakuConfig,
  type KokyakuUserConfig,
  type DatabaseConfig,
  type ShopConfig,
  type AnalyticsConfig,
  type RecommendationsConfig,
  type ImportsConfig,
  type MessagingConfig,
  type AutomationConfig,
  ConfigError,
  defineConfig,
  defaultConfig,
  mergeConfig,
  resolveShop,
  shopFromEnv,
} from './config.js';
export { type Actor, type KokyakuContext, type Role, ROLES } from './shared/context.js';
export { type Kokyaku, type Readiness, type RefreshFailure, createKokyaku } from './kokyaku.js';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded.js';
export { type ReplicaStatus, ReadReplicas } from './database/replicas.js';
export { Bus, type BusMessage } from './database/bus.js';
export type { MoveOptions, ShopMove } from './tenancy/move.js';
export { Telemetry } from './telemetry/telemetry.js';
export { coreMigrations } from './database/migrations/index.js';
export { KokyakuError, type KokyakuErrorCode } from './shared/errors.js';
export { type ReadRoute, SYSTEM, asDate, bindTenant, readRouteOf, sql, sqlOne, transaction } from './shared/sql.js';
export { currencyDigits, toMajorUnits, toMinorUnits } from './shared/money.js';
export { type Page, type PageArgs, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './shared/pagination.js';
export { type BatchResult, type BatchItemError, type CustomersChanged, MAX_BATCH_SIZE } from './ingestion/batch.js';
export { type ProductInput, type ProductRecord, ProductService } from './catalog/product.service.js';
export { type CustomerInput, type CustomerRecord, type CustomerMetricsRecord, CustomerService, PERSONAL_INPUT_FIELDS } from './customers/customer.service.js';
export { type OrderInput, type OrderLineInput, type OrderRecord, type OrderLineRecord, OrderService } from './orders/order.service.js';
export { ORDER_STATUSES, type OrderStatus } from './orders/statuses.js';
export { type EventInput, EventService } from './events/event.service.js';
export { MetricsService } from './metrics/metrics.service.js';
export { AnalyticsService, type ClvModel, type DateRange, type Period } from './analytics/analytics.service.js';
export { DEFAULT_RFM_GRID, RFM_GROUPS, type RfmGrid, type RfmGroup, fmScore } from './shared/rfm.js';
export { type BgNbdParams, type RfmSummary, bgnbdLogLikelihood, expectedPurchases, fitBgNbd, probabilityAlive } from './analytics/clv/bgnbd.js';
export { type GammaGammaParams, type SpendSummary, expectedSpend, fitGammaGamma, gammaGammaLogLikelihood } from './analytics/clv/gamma-gamma.js';
export { nelderMead } from './analytics/clv/nelder-mead.js';
export { type RefreshSchedule, scheduleRefresh } from './schedule.js';
export { type Blend, type Recommendation, type RecommendationArgs, RecommendationService, STRATEGIES, type Strategy } from './recommendations/recommendation.service.js';
export { type Purchase, type RepeatChance, repeatChance } from './recommendations/repeat.js';
export type { OrderChange, OrderState } from './ingestion/batch.js';
export type { Evaluation, EvaluationBaseline, EvaluationBaselineRow, EvaluationRow, EvaluationScores } from './recommendations/evaluation.js';
export { type SegmentRecord, type SegmentInput, type SegmentChange, type SegmentLanguage, SegmentService } from './segments/segment.service.js';
export type { CompiledSegment, CompileOptions } from './segments/compiler.js';
export { compileSegmentQuery, CORE_VOCABULARY, SEGMENT_ATTRIBUTES, SEGMENT_FUNCTIONS } from './modules.js';
export { parseSegmentQuery } from './segments/parser.js';
export { SegmentQueryError, type SegmentErrorDetails } from './segments/errors.js';
export { type SegmentVocabulary, vocabularyOf } from './segments/language.js';
export type { SegmentAttribute, SegmentFunction, SegmentJoin, SegmentFunctionFilter, SegmentFunctionTotal } from './module/segment-language.js';
export type * as SegmentAst from './segments/ast.js';
export type { CustomerSearchHit, CustomerSearchOptions, SearchField } from './customers/customer-search.js';
export { normalizeSearchText } from './customers/normalize.js';
export { AUDIT_ACTIONS, type AuditAction, type AuditEntry, type AuditEntryInput, type AuditFilter, AuditService } from './audit/audit.service.js';
export {
  CONSENT_CHANNELS,
  type ConsentChannel,
  type ConsentInput,
  type ConsentRecord,
  type CustomerRef,
  PERSONAL_CUSTOMER_COLUMNS,
  PrivacyService,
} from './privacy/privacy.service.js';
export { DATA_MODULES, REACTING_MODULES, TENANT_TABLES, composeModules } from './modules.js';
export { HookDispatcher, type DispatchedModule } from './module/hooks.js';
export {
  type CustomerTable,
  type KokyakuModule,
  type ModuleHooks,
  type OrderChangeSummary,
  type RecordedOrder,
  type RefreshRun,
  type TrackedEvents,
  defineModule,
} from './module/module.js';
export { FIELDS as IMPORT_FIELDS, IMPORT_KINDS, type ImportKind, normalizeHeader, resolveMapping } from './imports/columns.js';
export { type ImportEncoding, type ImportOptions, type ImportProblem, type ImportProgress, type ImportResult, type ImportRun, ImportService } from './imports/import.service.js';
export { csvCell, csvSafe } from './shared/cells.js';
export { EXPORT_KINDS, type ExportFormat, type ExportKind, type ExportOptions, ExportService } from './imports/export.service.js';
export { DUPLICATE_RULES, type DuplicateGroup, type DuplicateRule, IdentityService, type MergeFieldPreview, type MergePreview } from './customers/identity.service.js';
export {
  CUSTOM_FIELD_ENTITIES,
  CUSTOM_FIELD_TYPES,
  type CustomFieldDefinition,
  type CustomFieldDefinitionInput,
  type CustomFieldDefinitionPatch,
  type CustomFieldEntity,
  CustomFieldService,
  type CustomFieldType,
  type CustomFieldValue,
  checkCustomValue,
  typedCustomFields,
} from './fields/custom-fields.js';
export { type CompanyContact, type CompanyInput, type CompanyRecord, CompanyService, type CompanyTreeNode } from './crm/companies.js';
export {
  type DealInput,
  type DealRecord,
  DealService,
  type DealStageChange,
  type ForecastRow,
  type Pipeline,
  type PipelineStage,
  STAGE_OUTCOMES,
  type StageInput,
  type StageOutcome,
} from './crm/deals.js';
export {
  type NoteInput,
  type NoteRecord,
  NoteService,
  PRIORITIES,
  type Priority,
  type RecordLinks,
  TASK_STATUSES,
  type TaskFilter,
  type TaskInput,
  type TaskRecord,
  TaskService,
  type TaskStatus,
} from './crm/notes-tasks.js';
export {
  INQUIRY_CHANNELS,
  INQUIRY_KINDS,
  INQUIRY_STATUSES,
  type InquiryChannel,
  type InquiryInput,
  type InquiryKind,
  type InquiryMessage,
  type InquiryRecord,
  InquiryService,
  type InquiryStats,
  type InquiryStatus,
  type MessageDirection,
} from './crm/inquiries.js';
export {
  DEFAULT_BANDS,
  type LeadScore,
  SCORE_ACTIVITIES,
  SCORE_BANDS,
  type ScoreActivity,
  type ScoreBand,
  type ScoreContribution,
  type ScoringBands,
  type ScoringRule,
  type ScoringRuleInput,
  ScoringService,
} from './crm/scoring.js';
export { TIMELINE_KINDS, type TimelineEntry, type TimelineKind, TimelineService } from './crm/timeline.js';
export { segmentFrom } from './segments/compiler.js';
export { CHANNELS, type Channel, type JourneyDefinition, type JourneyStep, type JourneyTrigger, type TriggerType, parseDefinition } from './automation/definition.js';
export {
  type JourneyRecord,
  type JourneyReport,
  type JourneyRunRecord,
  JourneyService,
  type JourneyStatus,
  type JourneyVersionRecord,
  type MessageRecord,
  type MessageStatus,
  type PreviewInput,
  type RunStatus,
  type RunStepRecord,
} from './automation/journeys.js';
export { DEFAULT_SETTINGS as DEFAULT_MESSAGING_SETTINGS, JourneyEngine, type MessagingSettings } from './automation/engine.js';
export {
  type ChannelAdapter,
  ChannelError,
  type EmailConfig,
  EmailChannel,
  type LineConfig,
  LineChannel,
  type OutboundMessage,
  SmsChannel,
  type SmsProvider,
  type TwilioConfig,
  TwilioSms,
  signWebhook,
  verifyWebhook,
} from './automation/channels.js';
export { TEMPLATE_LIMITS, type TemplateSet, type RenderedMessage, customerNames } from './automation/templates.js';
export { AutomationWorker, JOBS_SCHEMA, JOURNEY_QUEUE } from './automation/worker.js';
export {
  MailboxService,
  type EmailBody,
  type EmailMessageRecord,
  type MailboxAuth,
  type MailboxInput,
  type MailboxRecord,
  type MailboxStatus,
  type SendEmailInput,
} from './mailbox/mailbox.service.js';
export { MailboxWorker } from './mailbox/worker.js';
export { DEFAULT_MAILBOX_CONFIG, type MailboxConfig } from './mailbox/config.js';
export type { SyncResult } from './mailbox/sync.js';
export type { StoredEmail } from './module/module.js';
export {
  type KokyakuPlugin,
  type PluginAutomationStep,
  type PluginGraphQL,
  type PluginHooks,
  type PluginMigration,
  type PluginOrderChange,
  type PluginResolver,
  type PluginResolverContext,
  type PluginScoringRule,
  type PluginSegmentAttribute,
  type PluginStepRun,
  type StandardSchemaV1,
  PluginError,
  checkCompatibility,
  definePlugin,
} from './plugin.js';
export { PluginRegistry, type PluginRule } from './plugin-registry.js';
/** MikroORM's `defineEntity`, from the copy Kokyaku uses: for plugins' entities. */
export { defineEntity, type InferEntity } from '@mikro-orm/core';
export { KOKYAKU_VERSION } from './version.js';
export { type ShopBatch, type ShopBatchResult, type ShopRecordKind, type ShopWriter, writeShopBatch } from './connectors/shop-sync.js';
export {
  BACKFILL_PHASES,
  type BackfillPhase,
  type BackfillSource,
  type BackfillState,
  type BackfillStatus,
  backfillToRun,
  idleBackfill,
  runBackfill,
} from './connectors/backfill.js';
export { SQLSTATE, isDatabaseOutage, isRetryableConflict, pgCode, unique } from './shared/pg-errors.js';
