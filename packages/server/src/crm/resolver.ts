import type { CompanyRecord, CompanyTreeNode as CoreTreeNode } from '@kokyaku/core';
import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import {
  Company,
  CompanyContact,
  CompanyRollup,
  CompanyTreeNode,
  CustomFieldValue,
  Deal,
  DealConnection,
  DealStageChange,
  Inquiry,
  InquiryConnection,
  InquiryMessage,
  LeadScore,
  NoteConnection,
  ScoreContribution,
  TaskConnection,
  TaskStatus,
  TimelineConnection,
  TimelineKind,
} from './types.js';
import { DateTimeScalar } from '../shared/scalars.js';
import { Customer } from '../customers/types.js';
import { Costly } from '../security/rate-limit.js';
import { connection } from '../customers/resolver.js';
import { customFieldValues, type E } from './shared.js';
export { WORK_WITH_CUSTOMERS } from './shared.js';

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
