import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Inquiry, InquiryChannel, InquiryConnection, InquiryInput, InquiryKind, InquiryMessage, InquiryStats, InquiryStatus, MessageDirection, Priority } from './types.js';
import { DateTimeScalar } from '../shared/scalars.js';
import { Costly } from '../security/rate-limit.js';
import { connection } from '../customers/resolver.js';
import { type E, plain, WORK_WITH_CUSTOMERS } from './shared.js';

/** Inquiries and complaints, their threads and response times. */
@Resolver()
export class InquiriesResolver {
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
}
