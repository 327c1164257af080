import { type CompanyRecord, type CompanyTreeNode as CoreTreeNode, type CustomFieldEntity, typedCustomFields } from '@kokyaku/core';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { CONTACT_DATA, READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import {
  Company,
  CompanyConnection,
  CompanyContact,
  CompanyRollup,
  CompanyInput,
  CompanyPatch,
  CompanyTreeNode,
  CustomFieldDefinition,
  CustomFieldDefinitionInput,
  CustomFieldDefinitionPatch,
  CustomFieldEntity as CustomFieldEntityEnum,
  CustomFieldValue,
  Deal,
  DealConnection,
  DealInput,
  DealPatch,
  DealStageChange,
  ForecastPeriod,
  ForecastRow,
  Inquiry,
  InquiryChannel,
  InquiryConnection,
  InquiryInput,
  InquiryKind,
  InquiryMessage,
  InquiryStats,
  InquiryStatus,
  LeadScore,
  MessageDirection,
  Note,
  NoteConnection,
  Pipeline,
  PipelineStage,
  Priority,
  ScoreContribution,
  ScoringBands,
  ScoringRule,
  ScoringRuleInput,
  StageInput,
  StageOutcome,
  Task,
  TaskConnection,
  TaskInput,
  TaskPatch,
  TaskStatus,
  TimelineConnection,
  TimelineKind,
} from '../schema/crm-types.js';
import { DateTimeScalar } from '../schema/scalars.js';
import { Customer } from '../schema/types.js';
import { Costly } from '../security/rate-limit.js';
import { connection } from './customer.resolver.js';

/** Roles that write CRM records (notes, tasks, inquiries, deals, companies): those who work with customers. */
export const WORK_WITH_CUSTOMERS = CONTACT_DATA;
/** Roles that configure the CRM (custom fields, pipelines, scoring). */
const CONFIGURE = ['ADMIN'] as const;

type E<T> = T[keyof T];
/** GraphQL input objects as plain objects (fields left out stay absent). */
const plain = <T extends object>(input: T): T => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;

async function customFieldValues(context: GraphQLContext, entity: CustomFieldEntity, values: Record<string, unknown>): Promise<CustomFieldValue[]> {
  return typedCustomFields(values, await context.loaders.customFieldDefinitions.load(entity)) as CustomFieldValue[];
}

@Resolver()
export class CrmResolver {
  // Custom fields
  @Authorized(READ_CUSTOMERS)
  @Query(() => [CustomFieldDefinition], { description: 'The custom field definitions, of one entity or all.' })
  customFieldDefinitions(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('entity', () => CustomFieldEntityEnum, { nullable: true }) entity?: CustomFieldEntity | null) {
    return kokyaku.customFields.list(core, entity);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => CustomFieldDefinition, { description: 'Defines a typed custom field; values are checked against it from now on.' })
  defineCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => CustomFieldDefinitionInput) input: CustomFieldDefinitionInput) {
    return kokyaku.customFields.define(core, plain(input));
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => CustomFieldDefinition)
  updateCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => CustomFieldDefinitionPatch) patch: CustomFieldDefinitionPatch) {
    return kokyaku.customFields.update(core, id, plain(patch));
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Boolean, { description: 'Removes a definition; stored values stay, untyped.' })
  deleteCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.customFields.delete(core, id);
  }

  // Companies
  @Authorized(READ_CUSTOMERS)
  @Query(() => Company, { nullable: true })
  company(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ) {
    return id != null ? kokyaku.companies.get(core, id) : kokyaku.companies.findByExternalId(core, externalId ?? '');
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => CompanyConnection, { description: 'Companies by name; `roots` lists those without a parent, `parentId` the children of one.' })
  async companies(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('search', () => String, { nullable: true, description: 'Part of the name, or the domain.' }) search?: string | null,
    @Arg('parentId', () => ID, { nullable: true }) parentId?: string | null,
    @Arg('roots', () => Boolean, { nullable: true }) roots?: boolean | null,
  ) {
    return connection(await kokyaku.companies.list(core, { first, after, search, parentId, roots: roots ?? false }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Company)
  createCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => CompanyInput) input: CompanyInput) {
    return kokyaku.companies.create(core, plain(input));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Company, { description: 'Changes a company; a new parent that is the company or one of its descendants is refused.' })
  updateCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => CompanyPatch) patch: CompanyPatch) {
    return kokyaku.companies.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean, { description: 'Deletes a company without children or deals.' })
  deleteCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.companies.delete(core, id);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => CompanyContact, { description: 'Makes a customer a contact of a company (again: changes title and role).' })
  addCompanyContact(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('companyId', () => ID) companyId: string,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('customerExternalId', () => String, { nullable: true }) customerExternalId?: string | null,
    @Arg('title', () => String, { nullable: true }) title?: string | null,
    @Arg('role', () => String, { nullable: true }) role?: string | null,
  ) {
    return kokyaku.companies.addContact(core, companyId, { id: customerId, externalId: customerExternalId }, { title, role });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  removeCompanyContact(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('companyId', () => ID) companyId: string, @Arg('customerId', () => ID) customerId: string) {
    return kokyaku.companies.removeContact(core, companyId, customerId);
  }

  // Deals
  @Authorized(READ_CUSTOMERS)
  @Query(() => [Pipeline])
  pipelines(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.deals.pipelines(core);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline)
  createPipeline(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('name', () => String) name: string, @Arg('stages', () => [StageInput]) stages: StageInput[]) {
    return kokyaku.deals.createPipeline(core, { name, stages: stages.map(plain) });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => PipelineStage)
  updatePipelineStage(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
    @Arg('probability', () => Float, { nullable: true }) probability?: number | null,
  ) {
    return kokyaku.deals.updateStage(core, id, { name, probability });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline, { description: 'Adds a stage at a position (default last).' })
  addPipelineStage(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('pipelineId', () => ID) pipelineId: string,
    @Arg('stage', () => StageInput) stage: StageInput,
    @Arg('position', () => Int, { nullable: true, description: '0 = first.' }) position?: number | null,
  ) {
    return kokyaku.deals.addStage(core, pipelineId, { ...plain(stage), position });
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Pipeline, { description: 'Removes a stage that no deal is in or has passed through.' })
  deletePipelineStage(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.deleteStage(core, id);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Boolean, { description: 'Deletes a pipeline without deals.' })
  deletePipeline(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.deletePipeline(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => Deal, { nullable: true })
  deal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.get(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => DealConnection, { description: 'Deals, newest first: the board of a pipeline is deals(pipelineId, outcome: OPEN).' })
  async deals(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('pipelineId', () => ID, { nullable: true }) pipelineId?: string | null,
    @Arg('stageId', () => ID, { nullable: true }) stageId?: string | null,
    @Arg('ownerId', () => String, { nullable: true }) ownerId?: string | null,
    @Arg('outcome', () => StageOutcome, { nullable: true }) outcome?: E<typeof StageOutcome> | null,
  ) {
    return connection(await kokyaku.deals.list(core, { first, after, pipelineId, stageId, ownerId, outcome }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal)
  createDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => DealInput) input: DealInput) {
    return kokyaku.deals.create(core, plain(input));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal)
  updateDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => DealPatch) patch: DealPatch) {
    return kokyaku.deals.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal, { description: 'Moves a deal to another stage of its pipeline, recording the move.' })
  moveDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('stageId', () => ID) stageId: string) {
    return kokyaku.deals.move(core, id, stageId);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Deal, { description: "Links the orders that fulfilled a deal, by the shop's order ids." })
  linkDealOrders(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('orderExternalIds', () => [String]) orderExternalIds: string[]) {
    return kokyaku.deals.linkOrders(core, id, orderExternalIds);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteDeal(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.deals.delete(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(3))
  @Query(() => [ForecastRow], { description: 'Weighted forecast (amount x stage probability) of open deals per period of expected close and owner, with the deals won.' })
  dealForecast(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, { description: 'YYYY-MM-DD' }) from: string,
    @Arg('to', () => String, { description: 'YYYY-MM-DD, exclusive' }) to: string,
    @Arg('period', () => ForecastPeriod, { nullable: true }) period?: E<typeof ForecastPeriod> | null,
    @Arg('pipelineId', () => ID, { nullable: true }) pipelineId?: string | null,
    @Arg('ownerId', () => String, { nullable: true }) ownerId?: string | null,
  ) {
    return kokyaku.deals.forecast(core, { from, to, period: period ?? undefined, pipelineId, ownerId });
  }

  // Notes and tasks
  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Note)
  addNote(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('body', () => String) body: string,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('companyId', () => ID, { nullable: true }) companyId?: string | null,
    @Arg('dealId', () => ID, { nullable: true }) dealId?: string | null,
    @Arg('pinned', () => Boolean, { nullable: true }) pinned?: boolean | null,
  ) {
    return kokyaku.notes.add(core, { body, customerId, companyId, dealId, pinned });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Note)
  updateNote(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('body', () => String, { nullable: true }) body?: string | null,
    @Arg('pinned', () => Boolean, { nullable: true }) pinned?: boolean | null,
  ) {
    return kokyaku.notes.update(core, id, { body, pinned });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteNote(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.notes.delete(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => TaskConnection, { description: "Tasks by due date, soonest first. `mine: true` is the caller's; `overdue: true` the open ones past due." })
  async tasks(
    @Ctx() { kokyaku, core, actor }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('mine', () => Boolean, { nullable: true }) mine?: boolean | null,
    @Arg('assigneeId', () => String, { nullable: true }) assigneeId?: string | null,
    @Arg('status', () => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus> | null,
    @Arg('overdue', () => Boolean, { nullable: true }) overdue?: boolean | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('companyId', () => ID, { nullable: true }) companyId?: string | null,
    @Arg('dealId', () => ID, { nullable: true }) dealId?: string | null,
  ) {
    return connection(await kokyaku.tasks.list(core, { first, after, assigneeId: mine ? (actor?.id ?? '') : assigneeId, status, overdue, customerId, companyId, dealId }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Task)
  createTask(@Ctx() { kokyaku, core, actor }: GraphQLContext, @Arg('input', () => TaskInput) input: TaskInput) {
    return kokyaku.tasks.create(core, { assigneeId: actor?.id ?? null, ...plain(input) });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Task)
  updateTask(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => TaskPatch) patch: TaskPatch) {
    return kokyaku.tasks.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteTask(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.tasks.delete(core, id);
  }

  // Inquiries
  @Authorized(READ_CUSTOMERS)
  @Query(() => Inquiry, { nullable: true })
  inquiry(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.inquiries.get(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => InquiryConnection, { description: 'Inquiries, newest first.' })
  async inquiries(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('status', () => InquiryStatus, { nullable: true }) status?: E<typeof InquiryStatus> | null,
    @Arg('kind', () => InquiryKind, { nullable: true }) kind?: E<typeof InquiryKind> | null,
    @Arg('assigneeId', () => String, { nullable: true }) assigneeId?: string | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
  ) {
    return connection(await kokyaku.inquiries.list(core, { first, after, status, kind, assigneeId, customerId }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Inquiry)
  openInquiry(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => InquiryInput) input: InquiryInput) {
    return kokyaku.inquiries.open(core, plain(input));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => InquiryMessage, { description: 'Adds a message to the thread; the first OUTBOUND one is the first response.' })
  replyToInquiry(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('body', () => String) body: string,
    @Arg('direction', () => MessageDirection, { nullable: true }) direction?: E<typeof MessageDirection> | null,
    @Arg('at', () => DateTimeScalar, { nullable: true }) at?: Date | string | null,
  ) {
    return kokyaku.inquiries.reply(core, id, { body, direction, at });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Inquiry, { description: 'Changes status (RESOLVED or CLOSED stamps the resolution), priority, assignee or category.' })
  updateInquiry(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('status', () => InquiryStatus, { nullable: true }) status?: E<typeof InquiryStatus> | null,
    @Arg('priority', () => Priority, { nullable: true }) priority?: E<typeof Priority> | null,
    @Arg('assigneeId', () => String, { nullable: true }) assigneeId?: string | null,
    @Arg('category', () => String, { nullable: true }) category?: string | null,
  ) {
    return kokyaku.inquiries.update(core, id, plain({ status, priority, assigneeId, category }));
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(3))
  @Query(() => InquiryStats, { description: 'Response and resolution times of the inquiries opened in [from, to).' })
  inquiryStats(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => DateTimeScalar) from: string,
    @Arg('to', () => DateTimeScalar) to: string,
    @Arg('kind', () => InquiryKind, { nullable: true }) kind?: E<typeof InquiryKind> | null,
    @Arg('channel', () => InquiryChannel, { nullable: true }) channel?: E<typeof InquiryChannel> | null,
    @Arg('category', () => String, { nullable: true }) category?: string | null,
  ) {
    return kokyaku.inquiries.stats(core, { from: new Date(from), to: new Date(to), kind, channel, category });
  }

  // Scoring
  @Authorized(READ_CUSTOMERS)
  @Query(() => [ScoringRule])
  scoringRules(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.scoring.rules(core);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => ScoringBands)
  scoringBands(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.scoring.bands(core);
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => ScoringRule, { description: "Adds a scoring rule and rescores the shop's customers." })
  createScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => ScoringRuleInput) input: ScoringRuleInput) {
    return kokyaku.scoring.createRule(core, plain(input));
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => ScoringRule)
  updateScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('input', () => ScoringRuleInput) input: ScoringRuleInput) {
    return kokyaku.scoring.updateRule(core, id, plain(input));
  }

  @Authorized([...CONFIGURE])
  @UseMiddleware(Costly(10))
  @Mutation(() => Boolean)
  deleteScoringRule(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.scoring.deleteRule(core, id);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => ScoringBands)
  setScoringBands(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('hot', () => Float) hot: number, @Arg('warm', () => Float) warm: number) {
    return kokyaku.scoring.setBands(core, { hot, warm });
  }
}

@Resolver(() => Customer)
export class CustomerCrmResolver {
  @UseMiddleware(Costly(1))
  @FieldResolver(() => TimelineConnection, { description: 'Everything that happened with the customer, newest first.' })
  async timeline(
    @Root() customer: Customer,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('kinds', () => [TimelineKind], { nullable: true }) kinds?: E<typeof TimelineKind>[] | null,
  ) {
    return connection(await kokyaku.timeline.timeline(core, { customerId: customer.id }, { first, after, kinds }));
  }

  @FieldResolver(() => LeadScore, { description: 'Lead score and band (0, COLD when no rule scores the customer).' })
  leadScore(@Root() customer: Customer, @Ctx() { loaders }: GraphQLContext) {
    return loaders.leadScore.load(customer.id);
  }

  @FieldResolver(() => [ScoreContribution], { description: 'Which scoring rules give the customer how many points now.' })
  scoreContributions(@Root() customer: Customer, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.scoring.explain(core, customer.id);
  }

  @FieldResolver(() => [CustomFieldValue], { description: 'The defined custom fields, typed.' })
  customFieldValues(@Root() customer: Customer, @Ctx() context: GraphQLContext) {
    return customFieldValues(context, 'CUSTOMER', customer.customFields);
  }

  @FieldResolver(() => [CompanyContact], { description: 'The companies the customer is a contact of.' })
  companies(@Root() customer: Customer, @Ctx() { loaders }: GraphQLContext) {
    return loaders.customerCompanies.load(customer.id);
  }

  @FieldResolver(() => NoteConnection, { description: 'Notes, pinned first.' })
  async notes(
    @Root() customer: Customer,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.notes.list(core, { customerId: customer.id }, { first, after }));
  }

  @FieldResolver(() => TaskConnection)
  async tasks(@Root() customer: Customer, @Ctx() { kokyaku, core }: GraphQLContext, @Arg('status', () => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus> | null) {
    return connection(await kokyaku.tasks.list(core, { customerId: customer.id, status, first: 100 }));
  }

  @FieldResolver(() => InquiryConnection)
  async inquiries(
    @Root() customer: Customer,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.inquiries.list(core, { customerId: customer.id, first, after }));
  }

  @FieldResolver(() => DealConnection)
  async deals(@Root() customer: Customer, @Ctx() { kokyaku, core }: GraphQLContext) {
    return connection(await kokyaku.deals.list(core, { customerId: customer.id, first: 100 }));
  }
}

@Resolver(() => Company)
export class CompanyResolver {
  @FieldResolver(() => Company, { nullable: true })
  parent(@Root() company: CompanyRecord, @Ctx() { loaders }: GraphQLContext) {
    return company.parentId ? loaders.company.load(company.parentId) : null;
  }

  @FieldResolver(() => [Company], { description: 'The direct children, by name (up to 500).' })
  async children(@Root() company: CompanyRecord, @Ctx() { kokyaku, core }: GraphQLContext) {
    return (await kokyaku.companies.list(core, { parentId: company.id, first: 500 })).nodes;
  }

  @FieldResolver(() => [Company], { description: 'The parents up to the root, nearest first.' })
  ancestors(@Root() company: CompanyRecord, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.companies.ancestors(core, company.id);
  }

  @FieldResolver(() => [CompanyContact])
  contacts(@Root() company: CompanyRecord, @Ctx() { loaders }: GraphQLContext) {
    return loaders.companyContacts.load(company.id);
  }

  @UseMiddleware(Costly(3))
  @FieldResolver(() => [CompanyTreeNode], {
    description: 'This company and all its descendants, each with its own and rolled-up revenue (placed orders of the contacts, optionally in [from, to)).',
  })
  async subtree(
    @Root() company: CompanyRecord,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => DateTimeScalar, { nullable: true }) from?: string | null,
    @Arg('to', () => DateTimeScalar, { nullable: true }) to?: string | null,
  ) {
    const nodes = await kokyaku.companies.subtree(core, company.id, { from: from ? new Date(from) : null, to: to ? new Date(to) : null });
    return nodes.map((n: CoreTreeNode) => ({
      company: n,
      depth: n.depth,
      path: n.path,
      ownRevenue: n.ownRevenue,
      subtreeRevenue: n.subtreeRevenue,
      subtreeOrders: n.subtreeOrders,
      subtreeContacts: n.subtreeContacts,
    }));
  }

  @UseMiddleware(Costly(1))
  @FieldResolver(() => CompanyRollup, { description: 'Revenue of the company and all its descendants in one figure (optionally of orders placed in [from, to)).' })
  revenue(
    @Root() company: CompanyRecord,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => DateTimeScalar, { nullable: true }) from?: string | null,
    @Arg('to', () => DateTimeScalar, { nullable: true }) to?: string | null,
  ) {
    return kokyaku.companies.rollup(core, company.id, { from: from ? new Date(from) : null, to: to ? new Date(to) : null });
  }

  @FieldResolver(() => [CustomFieldValue])
  customFieldValues(@Root() company: CompanyRecord, @Ctx() context: GraphQLContext) {
    return customFieldValues(context, 'COMPANY', company.customFields);
  }

  @FieldResolver(() => NoteConnection)
  async notes(
    @Root() company: CompanyRecord,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.notes.list(core, { companyId: company.id }, { first, after }));
  }

  @FieldResolver(() => DealConnection)
  async deals(@Root() company: CompanyRecord, @Ctx() { kokyaku, core }: GraphQLContext) {
    return connection(await kokyaku.deals.list(core, { companyId: company.id, first: 100 }));
  }

  @FieldResolver(() => TaskConnection, { description: 'Tasks about the company, soonest due first.' })
  async tasks(@Root() company: CompanyRecord, @Ctx() { kokyaku, core }: GraphQLContext, @Arg('status', () => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus> | null) {
    return connection(await kokyaku.tasks.list(core, { companyId: company.id, status, first: 100 }));
  }

  @UseMiddleware(Costly(1))
  @FieldResolver(() => TimelineConnection, { description: "The company's notes, tasks and deals with its contacts' activity, newest first." })
  async timeline(
    @Root() company: CompanyRecord,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('kinds', () => [TimelineKind], { nullable: true }) kinds?: E<typeof TimelineKind>[] | null,
  ) {
    return connection(await kokyaku.timeline.timeline(core, { companyId: company.id }, { first, after, kinds }));
  }
}

@Resolver(() => CompanyContact)
export class CompanyContactResolver {
  @FieldResolver(() => Company, { nullable: true })
  company(@Root() contact: CompanyContact, @Ctx() { loaders }: GraphQLContext) {
    return loaders.company.load(contact.companyId);
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() contact: CompanyContact, @Ctx() { loaders }: GraphQLContext) {
    return loaders.customer.load(contact.customerId);
  }
}

@Resolver(() => Deal)
export class DealResolver {
  @FieldResolver(() => [DealStageChange], { description: 'Every stage the deal has been in, in order.' })
  history(@Root() deal: Deal, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.deals.history(core, deal.id);
  }

  @FieldResolver(() => NoteConnection, { description: 'Notes about the deal, pinned first.' })
  async notes(
    @Root() deal: Deal,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.notes.list(core, { dealId: deal.id }, { first, after }));
  }

  @FieldResolver(() => TaskConnection, { description: 'Tasks about the deal, soonest due first.' })
  async tasks(@Root() deal: Deal, @Ctx() { kokyaku, core }: GraphQLContext, @Arg('status', () => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus> | null) {
    return connection(await kokyaku.tasks.list(core, { dealId: deal.id, status, first: 100 }));
  }

  @FieldResolver(() => [ID], { description: 'Ids of the orders that fulfilled the deal.' })
  orderIds(@Root() deal: Deal, @Ctx() { loaders }: GraphQLContext) {
    return loaders.dealOrders.load(deal.id);
  }

  @FieldResolver(() => [CustomFieldValue])
  customFieldValues(@Root() deal: Deal, @Ctx() context: GraphQLContext) {
    return customFieldValues(context, 'DEAL', deal.customFields);
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() deal: Deal, @Ctx() { loaders }: GraphQLContext) {
    return deal.customerId ? loaders.customer.load(deal.customerId) : null;
  }

  @FieldResolver(() => Company, { nullable: true })
  company(@Root() deal: Deal, @Ctx() { loaders }: GraphQLContext) {
    return deal.companyId ? loaders.company.load(deal.companyId) : null;
  }
}

@Resolver(() => Inquiry)
export class InquiryResolver {
  @FieldResolver(() => [InquiryMessage], { description: 'The thread, oldest first.' })
  messages(@Root() inquiry: Inquiry, @Ctx() { loaders }: GraphQLContext) {
    return loaders.inquiryMessages.load(inquiry.id);
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() inquiry: Inquiry, @Ctx() { loaders }: GraphQLContext) {
    return loaders.customer.load(inquiry.customerId);
  }
}
