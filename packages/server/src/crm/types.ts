import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';
import { Customer } from '../customers/types.js';
import { PageInfo } from '../shared/types.js';
import { type E, enumOf } from '../shared/graphql.js';

const enums = {
  CustomFieldEntity: { values: ['CUSTOMER', 'COMPANY', 'DEAL'], description: 'The kind of record a custom field belongs to.' },
  CustomFieldType: { values: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'SELECT', 'MULTI_SELECT'], description: 'What a custom field holds.' },
  StageOutcome: { values: ['OPEN', 'WON', 'LOST'], description: 'OPEN stages are forecast; entering WON or LOST closes a deal.' },
  TaskStatus: { values: ['OPEN', 'DONE', 'CANCELLED'], description: 'A task is OPEN until done or cancelled.' },
  Priority: { values: ['LOW', 'NORMAL', 'HIGH', 'URGENT'], description: 'Priority of a task or inquiry.' },
  InquiryKind: { values: ['INQUIRY', 'COMPLAINT'], description: 'A question, or a complaint.' },
  InquiryChannel: { values: ['EMAIL', 'PHONE', 'CHAT', 'LINE', 'FORM', 'STORE', 'OTHER'], description: 'How the customer got in touch.' },
  InquiryStatus: { values: ['OPEN', 'PENDING', 'RESOLVED', 'CLOSED'], description: 'OPEN: waiting for the shop; PENDING: waiting for the customer; RESOLVED/CLOSED: done.' },
  MessageDirection: { values: ['INBOUND', 'OUTBOUND'], description: 'INBOUND from the customer, OUTBOUND to the customer.' },
  ScoreActivity: { values: ['EVENT', 'ORDER', 'INQUIRY'], description: 'What a scoring rule counts.' },
  ScoreBand: { values: ['HOT', 'WARM', 'COLD'], description: 'Band of a lead score by the shop thresholds.' },
  TimelineKind: {
    values: ['ORDER', 'EVENT', 'INQUIRY', 'NOTE', 'TASK', 'DEAL_STAGE', 'SEGMENT_ENTERED', 'SEGMENT_LEFT', 'MESSAGE', 'EMAIL_RECEIVED', 'EMAIL_SENT'],
    description: 'What a timeline entry is.',
  },
  ForecastPeriod: { values: ['MONTH', 'QUARTER'], description: 'Length of a forecast period.' },
} as const;

export const CustomFieldEntity = enumOf('CustomFieldEntity', enums.CustomFieldEntity.values, enums.CustomFieldEntity.description);
export const CustomFieldType = enumOf('CustomFieldType', enums.CustomFieldType.values, enums.CustomFieldType.description);
export const StageOutcome = enumOf('StageOutcome', enums.StageOutcome.values, enums.StageOutcome.description);
export const TaskStatus = enumOf('TaskStatus', enums.TaskStatus.values, enums.TaskStatus.description);
export const Priority = enumOf('Priority', enums.Priority.values, enums.Priority.description);
export const InquiryKind = enumOf('InquiryKind', enums.InquiryKind.values, enums.InquiryKind.description);
export const InquiryChannel = enumOf('InquiryChannel', enums.InquiryChannel.values, enums.InquiryChannel.description);
export const InquiryStatus = enumOf('InquiryStatus', enums.InquiryStatus.values, enums.InquiryStatus.description);
export const MessageDirection = enumOf('MessageDirection', enums.MessageDirection.values, enums.MessageDirection.description);
export const ScoreActivity = enumOf('ScoreActivity', enums.ScoreActivity.values, enums.ScoreActivity.description);
export const ScoreBand = enumOf('ScoreBand', enums.ScoreBand.values, enums.ScoreBand.description);
export const TimelineKind = enumOf('TimelineKind', enums.TimelineKind.values, enums.TimelineKind.description);
export const ForecastPeriod = enumOf('ForecastPeriod', enums.ForecastPeriod.values, enums.ForecastPeriod.description);

@ObjectType({ description: 'A typed custom field of customers, companies or deals. Values are checked against it on every write.' })
export class CustomFieldDefinition {
  @Field(() => ID) id!: string;
  @Field(() => CustomFieldEntity) entity!: E<typeof CustomFieldEntity>;
  @Field(() => String, { description: 'The key in customFields and in the segment language (custom.<key>).' }) key!: string;
  @Field(() => String) label!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => CustomFieldType) type!: E<typeof CustomFieldType>;
  @Field(() => Boolean, { description: 'Companies and deals: a value must be given on creation and cannot be removed.' }) required!: boolean;
  @Field(() => [String], { description: 'SELECT and MULTI_SELECT: the allowed values.' }) options!: string[];
  @Field(() => Float, { nullable: true }) min!: number | null;
  @Field(() => Float, { nullable: true }) max!: number | null;
  @Field(() => Int, { nullable: true }) maxLength!: number | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType({ description: 'One defined custom field of a record, with its value in the field of its type.' })
export class CustomFieldValue {
  @Field(() => String) key!: string;
  @Field(() => String) label!: string;
  @Field(() => CustomFieldType) type!: E<typeof CustomFieldType>;
  @Field(() => String, { nullable: true, description: 'TEXT, SELECT and DATE (YYYY-MM-DD).' }) text!: string | null;
  @Field(() => Float, { nullable: true }) number!: number | null;
  @Field(() => Boolean, { nullable: true }) boolean!: boolean | null;
  @Field(() => [String], { nullable: true, description: 'MULTI_SELECT.' }) options!: string[] | null;
}

@InputType()
export class CustomFieldDefinitionInput {
  @Field(() => CustomFieldEntity) entity!: E<typeof CustomFieldEntity>;
  @Field(() => String, { description: 'Lower case letters, digits and _, e.g. skin_type.' }) key!: string;
  @Field(() => String, { nullable: true }) label?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => CustomFieldType) type!: E<typeof CustomFieldType>;
  @Field(() => Boolean, { nullable: true }) required?: boolean | null;
  @Field(() => [String], { nullable: true }) options?: string[] | null;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
  @Field(() => Int, { nullable: true }) maxLength?: number | null;
}

@InputType({ description: 'What a field accepts; its entity, key and type stay.' })
export class CustomFieldDefinitionPatch {
  @Field(() => String, { nullable: true }) label?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true }) required?: boolean | null;
  @Field(() => [String], { nullable: true }) options?: string[] | null;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
  @Field(() => Int, { nullable: true }) maxLength?: number | null;
}

@ObjectType({ description: 'A B2B company: part of a tree of any depth, with contact customers.' })
export class Company {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) externalId!: string | null;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) domain!: string | null;
  @Field(() => String, { nullable: true }) industry!: string | null;
  @Field(() => Int, { nullable: true, description: 'Number of employees.' }) size!: number | null;
  @Field(() => ID, { nullable: true }) parentId!: string | null;
  @Field(() => JSONScalar) customFields!: Record<string, unknown>;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType()
export class CompanyConnection {
  @Field(() => [Company]) nodes!: Company[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'A customer as a contact of a company.' })
export class CompanyContact {
  @Field(() => ID) companyId!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => String, { nullable: true }) title!: string | null;
  @Field(() => String, { nullable: true }) role!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: 'A company in a subtree, with its revenue and the revenue rolled up over its descendants (a customer counted once).' })
export class CompanyTreeNode {
  @Field(() => Company) company!: Company;
  @Field(() => Int, { description: 'Levels below the subtree root.' }) depth!: number;
  @Field(() => [ID], { description: 'Ids from the subtree root down to this company.' }) path!: string[];
  @Field(() => Float) ownRevenue!: number;
  @Field(() => Float) subtreeRevenue!: number;
  @Field(() => Int) subtreeOrders!: number;
  @Field(() => Int) subtreeContacts!: number;
}

@ObjectType({ description: 'The revenue of a company and all its descendants: placed orders of their contacts, each customer once.' })
export class CompanyRollup {
  @Field(() => Int, { description: 'Companies in the subtree, this one included.' }) companies!: number;
  @Field(() => Int) contacts!: number;
  @Field(() => Int) orders!: number;
  @Field(() => Float) revenue!: number;
}

@InputType()
export class CompanyInput {
  @Field(() => String, { nullable: true }) externalId?: string | null;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) domain?: string | null;
  @Field(() => String, { nullable: true }) industry?: string | null;
  @Field(() => Int, { nullable: true }) size?: number | null;
  @Field(() => ID, { nullable: true }) parentId?: string | null;
  @Field(() => JSONScalar, { nullable: true }) customFields?: Record<string, unknown> | null;
}

@InputType({ description: 'Fields left out keep their value; null clears them.' })
export class CompanyPatch {
  @Field(() => String, { nullable: true }) externalId?: string | null;
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => String, { nullable: true }) domain?: string | null;
  @Field(() => String, { nullable: true }) industry?: string | null;
  @Field(() => Int, { nullable: true }) size?: number | null;
  @Field(() => ID, { nullable: true }) parentId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Merged into the stored fields; a key set to null is removed.' }) customFields?: Record<string, unknown> | null;
}

@ObjectType()
export class PipelineStage {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) position!: number;
  @Field(() => Float, { description: 'Chance a deal in this stage is won, 0-1.' }) probability!: number;
  @Field(() => StageOutcome) outcome!: E<typeof StageOutcome>;
}

@ObjectType({ description: 'A sales pipeline: stages in order, each with a win probability.' })
export class Pipeline {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => [PipelineStage]) stages!: PipelineStage[];
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@InputType()
export class StageInput {
  @Field(() => String) name!: string;
  @Field(() => Float) probability!: number;
  @Field(() => StageOutcome, { nullable: true }) outcome?: E<typeof StageOutcome> | null;
}

@ObjectType({ description: 'A deal moving through a pipeline.' })
export class Deal {
  @Field(() => ID) id!: string;
  @Field(() => ID) pipelineId!: string;
  @Field(() => ID) stageId!: string;
  @Field(() => String) title!: string;
  @Field(() => Float) amount!: number;
  @Field(() => String) currency!: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' }) expectedCloseDate!: string | null;
  @Field(() => String, { nullable: true }) ownerId!: string | null;
  @Field(() => ID, { nullable: true }) customerId!: string | null;
  @Field(() => ID, { nullable: true }) companyId!: string | null;
  @Field(() => JSONScalar) customFields!: Record<string, unknown>;
  @Field(() => Float, { description: "The current stage's probability." }) probability!: number;
  @Field(() => StageOutcome) outcome!: E<typeof StageOutcome>;
  @Field(() => DateTimeScalar, { nullable: true }) closedAt!: Date | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType()
export class DealConnection {
  @Field(() => [Deal]) nodes!: Deal[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'A move of a deal from one stage to another (the first has no fromStageId: the creation).' })
export class DealStageChange {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) fromStageId!: string | null;
  @Field(() => ID) toStageId!: string;
  @Field(() => String, { nullable: true }) actorId!: string | null;
  @Field(() => DateTimeScalar) movedAt!: Date;
}

@InputType()
export class DealInput {
  @Field(() => ID) pipelineId!: string;
  @Field(() => ID, { nullable: true, description: "Default: the pipeline's first stage." }) stageId?: string | null;
  @Field(() => String) title!: string;
  @Field(() => Float, { nullable: true }) amount?: number | null;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' }) expectedCloseDate?: string | null;
  @Field(() => String, { nullable: true }) ownerId?: string | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) companyId?: string | null;
  @Field(() => JSONScalar, { nullable: true }) customFields?: Record<string, unknown> | null;
}

@InputType({ description: 'Fields left out keep their value. The stage changes with moveDeal.' })
export class DealPatch {
  @Field(() => String, { nullable: true }) title?: string;
  @Field(() => Float, { nullable: true }) amount?: number | null;
  @Field(() => String, { nullable: true }) expectedCloseDate?: string | null;
  @Field(() => String, { nullable: true }) ownerId?: string | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) companyId?: string | null;
  @Field(() => JSONScalar, { nullable: true }) customFields?: Record<string, unknown> | null;
}

@ObjectType({ description: 'The weighted forecast of one period and owner.' })
export class ForecastRow {
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD.' }) period!: string;
  @Field(() => String, { nullable: true }) ownerId!: string | null;
  @Field(() => Int) openDeals!: number;
  @Field(() => Float) openAmount!: number;
  @Field(() => Float, { description: 'Sum of amount x stage probability.' }) weightedAmount!: number;
  @Field(() => Int) wonDeals!: number;
  @Field(() => Float) wonAmount!: number;
}

@ObjectType({ description: 'A note about a customer, company or deal.' })
export class Note {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) customerId!: string | null;
  @Field(() => ID, { nullable: true }) companyId!: string | null;
  @Field(() => ID, { nullable: true }) dealId!: string | null;
  @Field(() => String, { nullable: true }) authorId!: string | null;
  @Field(() => String, { nullable: true, description: 'Null for roles without access to contact data.' }) body!: string | null;
  @Field(() => Boolean) pinned!: boolean;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType()
export class NoteConnection {
  @Field(() => [Note]) nodes!: Note[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'A task or reminder for staff.' })
export class Task {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true, description: 'Null for roles without access to contact data.' }) description!: string | null;
  @Field(() => String, { nullable: true }) assigneeId!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) dueAt!: Date | null;
  @Field(() => TaskStatus) status!: E<typeof TaskStatus>;
  @Field(() => Priority) priority!: E<typeof Priority>;
  @Field(() => ID, { nullable: true }) customerId!: string | null;
  @Field(() => ID, { nullable: true }) companyId!: string | null;
  @Field(() => ID, { nullable: true }) dealId!: string | null;
  @Field(() => ID, { nullable: true }) orderId!: string | null;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) completedAt!: Date | null;
}

@ObjectType()
export class TaskConnection {
  @Field(() => [Task]) nodes!: Task[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@InputType()
export class TaskInput {
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'Default: the caller.' }) assigneeId?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) dueAt?: Date | string | null;
  @Field(() => Priority, { nullable: true }) priority?: E<typeof Priority> | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) companyId?: string | null;
  @Field(() => ID, { nullable: true }) dealId?: string | null;
  @Field(() => String, { nullable: true, description: "The shop's order id." }) orderExternalId?: string | null;
}

@InputType({ description: 'Fields left out keep their value; status DONE stamps completedAt.' })
export class TaskPatch {
  @Field(() => String, { nullable: true }) title?: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true }) assigneeId?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) dueAt?: Date | string | null;
  @Field(() => Priority, { nullable: true }) priority?: E<typeof Priority> | null;
  @Field(() => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus>;
}

@ObjectType({ description: 'An inquiry or complaint, with response and resolution times.' })
export class Inquiry {
  @Field(() => ID) id!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => ID, { nullable: true }) orderId!: string | null;
  @Field(() => InquiryKind) kind!: E<typeof InquiryKind>;
  @Field(() => InquiryChannel) channel!: E<typeof InquiryChannel>;
  @Field(() => String, { nullable: true }) category!: string | null;
  @Field(() => String, { nullable: true, description: 'Null for roles without access to contact data.' }) subject!: string | null;
  @Field(() => InquiryStatus) status!: E<typeof InquiryStatus>;
  @Field(() => Priority) priority!: E<typeof Priority>;
  @Field(() => String, { nullable: true }) assigneeId!: string | null;
  @Field(() => DateTimeScalar) openedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) firstResponseAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) resolvedAt!: Date | null;
  @Field(() => Float, { nullable: true }) firstResponseMinutes!: number | null;
  @Field(() => Float, { nullable: true }) resolutionMinutes!: number | null;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType()
export class InquiryConnection {
  @Field(() => [Inquiry]) nodes!: Inquiry[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class InquiryMessage {
  @Field(() => ID) id!: string;
  @Field(() => MessageDirection) direction!: E<typeof MessageDirection>;
  @Field(() => String, { nullable: true }) authorId!: string | null;
  @Field(() => String, { nullable: true, description: 'Null for roles without access to contact data.' }) body!: string | null;
  @Field(() => DateTimeScalar) sentAt!: Date;
}

@InputType()
export class InquiryInput {
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => String, { nullable: true }) customerExternalId?: string | null;
  @Field(() => String, { nullable: true }) orderExternalId?: string | null;
  @Field(() => InquiryKind, { nullable: true }) kind?: E<typeof InquiryKind> | null;
  @Field(() => InquiryChannel) channel!: E<typeof InquiryChannel>;
  @Field(() => String, { nullable: true }) category?: string | null;
  @Field(() => String) subject!: string;
  @Field(() => String, { nullable: true, description: "The customer's first message." }) body?: string | null;
  @Field(() => Priority, { nullable: true }) priority?: E<typeof Priority> | null;
  @Field(() => String, { nullable: true }) assigneeId?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) openedAt?: Date | string | null;
}

@ObjectType({ description: 'Response and resolution times in minutes of the inquiries opened in a period.' })
export class InquiryStats {
  @Field(() => Int) opened!: number;
  @Field(() => Int) responded!: number;
  @Field(() => Int) resolved!: number;
  @Field(() => Int) unresolved!: number;
  @Field(() => Float, { nullable: true }) averageFirstResponseMinutes!: number | null;
  @Field(() => Float, { nullable: true }) medianFirstResponseMinutes!: number | null;
  @Field(() => Float, { nullable: true }) p90FirstResponseMinutes!: number | null;
  @Field(() => Float, { nullable: true }) averageResolutionMinutes!: number | null;
  @Field(() => Float, { nullable: true }) medianResolutionMinutes!: number | null;
  @Field(() => Float, { nullable: true }) p90ResolutionMinutes!: number | null;
}

@ObjectType({ description: 'A lead scoring rule (see docs/crm.md).' })
export class ScoringRule {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Float) points!: number;
  @Field(() => ScoreActivity, { nullable: true }) activity!: E<typeof ScoreActivity> | null;
  @Field(() => String, { nullable: true }) eventType!: string | null;
  @Field(() => Int) minCount!: number;
  @Field(() => Int, { nullable: true }) withinDays!: number | null;
  @Field(() => Float, { nullable: true }) halfLifeDays!: number | null;
  @Field(() => String, { nullable: true, description: 'A segment-language condition.' }) condition!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
  @Field(() => String, { nullable: true, description: "The plugin that adds this rule to every shop (it cannot be changed here); null for the shop's own rules." })
  plugin!: string | null;
}

@InputType()
export class ScoringRuleInput {
  @Field(() => String) name!: string;
  @Field(() => Float) points!: number;
  @Field(() => ScoreActivity, { nullable: true }) activity?: E<typeof ScoreActivity> | null;
  @Field(() => String, { nullable: true }) eventType?: string | null;
  @Field(() => Int, { nullable: true }) minCount?: number | null;
  @Field(() => Int, { nullable: true }) withinDays?: number | null;
  @Field(() => Float, { nullable: true }) halfLifeDays?: number | null;
  @Field(() => String, { nullable: true }) condition?: string | null;
}

@ObjectType({ description: 'A customer is HOT from `hot` points, WARM from `warm`, else COLD.' })
export class ScoringBands {
  @Field(() => Float) hot!: number;
  @Field(() => Float) warm!: number;
}

@ObjectType({ description: "A customer's lead score." })
export class LeadScore {
  @Field(() => Float) score!: number;
  @Field(() => ScoreBand) band!: E<typeof ScoreBand>;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the score last changed (refresh recomputes fading points).' }) computedAt!: Date | null;
}

@ObjectType()
export class ScoreContribution {
  @Field(() => ID) ruleId!: string;
  @Field(() => String) ruleName!: string;
  @Field(() => Float) points!: number;
}

@ObjectType({ description: 'One thing that happened: who, what, when.' })
export class TimelineEntry {
  @Field(() => ID, { description: '<kind>:<record id>' }) id!: string;
  @Field(() => TimelineKind) kind!: E<typeof TimelineKind>;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { nullable: true }) actorId!: string | null;
  @Field(() => ID) recordId!: string;
  @Field(() => ID, { nullable: true }) customerId!: string | null;
  @Field(() => String) summary!: string;
  @Field(() => JSONScalar) data!: Record<string, unknown>;
}

@ObjectType()
export class TimelineConnection {
  @Field(() => [TimelineEntry]) nodes!: TimelineEntry[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

export { Customer };
