import type { Channel as ChannelName, JourneyRunRecord, MessageStatus as CoreMessageStatus, RunStatus } from '@kokyaku/core';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { INGEST, MANAGE_SEGMENTS, READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import {
  Channel,
  DeliveryStatus,
  Journey,
  JourneyConnection,
  JourneyInput,
  JourneyPatch,
  JourneyReport,
  JourneyRun,
  JourneyRunConnection,
  JourneyRunStatus,
  JourneyRunStep,
  JourneyStartResult,
  JourneyStatus,
  JourneyVersion,
  MessageConnection,
  MessagePreview,
  MessagePreviewInput,
  MessageStatus,
  MessagingSettings,
  MessagingSettingsInput,
} from './types.js';
import { JSONScalar } from '../shared/scalars.js';
import { Customer } from '../customers/types.js';
import { Costly } from '../security/rate-limit.js';
import { connection } from '../customers/resolver.js';
import { type E, plain } from '../shared/graphql.js';

/** Roles that build and run journeys. */
const AUTOMATE = MANAGE_SEGMENTS;
/** Roles that set the shop's messaging policy. */
const CONFIGURE = ['ADMIN'] as const;

@Resolver(() => Journey)
export class JourneyResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => JourneyConnection, { description: 'Journeys, newest first.' })
  async journeys(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('status', () => JourneyStatus, { nullable: true }) status?: E<typeof JourneyStatus> | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.list(core, { status, first, after }));
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => Journey, { nullable: true })
  journey(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.get(core, id);
  }

  @Authorized(AUTOMATE)
  @Mutation(() => Journey, { description: 'Saves a journey as DRAFT, version 1, after checking the whole definition.' })
  createJourney(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => JourneyInput) input: JourneyInput) {
    return kokyaku.journeys.create(core, input);
  }

  @Authorized(AUTOMATE)
  @Mutation(() => Journey, { description: 'Renames a journey and/or saves a new version of its definition; runs under way keep theirs.' })
  updateJourney(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => JourneyPatch) patch: JourneyPatch) {
    return kokyaku.journeys.update(core, id, plain(patch));
  }

  @Authorized(AUTOMATE)
  @Mutation(() => Journey, { description: 'Starts listening to the trigger (facts from before now start nothing) and resumes paused runs.' })
  activateJourney(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.setStatus(core, id, 'ACTIVE');
  }

  @Authorized(AUTOMATE)
  @Mutation(() => Journey, { description: 'Stops new runs; runs under way wait where they are.' })
  pauseJourney(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.setStatus(core, id, 'PAUSED');
  }

  @Authorized(AUTOMATE)
  @Mutation(() => Journey, { description: 'Ends a journey for good; runs under way are cancelled at their next step.' })
  archiveJourney(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.setStatus(core, id, 'ARCHIVED');
  }

  @Authorized(AUTOMATE)
  @UseMiddleware(Costly(5))
  @Mutation(() => JourneyStartResult, { description: 'Starts an ACTIVE journey for up to 1,000 customers; `key` makes the call idempotent.' })
  startJourney(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('customerExternalIds', () => [String]) customerExternalIds: string[],
    @Arg('data', () => JSONScalar, { nullable: true }) data?: Record<string, unknown> | null,
    @Arg('key', () => String, { nullable: true }) key?: string | null,
  ) {
    return kokyaku.journeys.start(core, id, { customerExternalIds, data, key });
  }

  @FieldResolver(() => [JourneyVersion], { description: 'Every saved version, newest first.' })
  versions(@Root() journey: Journey, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.journeys.versions(core, journey.id);
  }

  @FieldResolver(() => JourneyRunConnection, { description: 'Runs of the journey, newest first.' })
  async runs(
    @Root() journey: Journey,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('status', () => JourneyRunStatus, { nullable: true }) status?: RunStatus | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.runs(core, { journeyId: journey.id, status, first, after }));
  }

  @UseMiddleware(Costly(5))
  @FieldResolver(() => JourneyReport, {
    description: 'Sends, deliveries, failures, withholdings, clicks and attributed revenue, of the runs and messages started on the days [from, to] (default all).',
  })
  report(
    @Root() journey: Journey,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('from', () => String, { nullable: true, description: 'YYYY-MM-DD in the shop time zone, inclusive.' }) from?: string | null,
    @Arg('to', () => String, { nullable: true, description: 'YYYY-MM-DD in the shop time zone, inclusive.' }) to?: string | null,
  ) {
    return kokyaku.journeys.report(core, journey.id, { from, to });
  }
}

@Resolver(() => JourneyRun)
export class JourneyRunResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => JourneyRun, { nullable: true })
  journeyRun(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.run(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => JourneyRunConnection, { description: 'Runs, newest first, of a journey and/or a customer.' })
  async journeyRuns(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('journeyId', () => ID, { nullable: true }) journeyId?: string | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('status', () => JourneyRunStatus, { nullable: true }) status?: RunStatus | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.runs(core, { journeyId, customerId, status, first, after }));
  }

  @Authorized(AUTOMATE)
  @Mutation(() => JourneyRun, { description: 'Stops a run that is ACTIVE or WAITING.' })
  cancelJourneyRun(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.journeys.cancelRun(core, id);
  }

  @FieldResolver(() => [JourneyRunStep], { description: 'What each step did, in order.' })
  steps(@Root() run: JourneyRunRecord, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.journeys.runSteps(core, run.id);
  }

  @FieldResolver(() => Journey)
  journey(@Root() run: JourneyRunRecord, @Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.journeys.get(core, run.journeyId);
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() run: JourneyRunRecord, @Ctx() { loaders }: GraphQLContext) {
    return loaders.customer.load(run.customerId);
  }
}

@Resolver()
export class MessagingResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => MessageConnection, { description: 'Messages sent or withheld, newest first, of a customer and/or a journey.' })
  async messages(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('journeyId', () => ID, { nullable: true }) journeyId?: string | null,
    @Arg('status', () => MessageStatus, { nullable: true }) status?: CoreMessageStatus | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.messages(core, { customerId, journeyId, status, first, after }));
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => MessagingSettings)
  async messagingSettings(@Ctx() { kokyaku, core }: GraphQLContext) {
    return { ...(await kokyaku.journeys.settings(core)), configuredChannels: kokyaku.journeys.engine.configuredChannels() };
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => MessagingSettings, { description: 'Quiet hours, frequency cap, attribution window and channel order; a field left out keeps its value, null clears it.' })
  async updateMessagingSettings(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => MessagingSettingsInput) input: MessagingSettingsInput) {
    const settings = await kokyaku.journeys.updateSettings(core, plain(input) as never);
    return { ...settings, configuredChannels: kokyaku.journeys.engine.configuredChannels() };
  }

  @Authorized(INGEST)
  @Mutation(() => Boolean, {
    description: "A provider's delivery report (an SMS status callback, a bounce): marks the message DELIVERED or FAILED. False when no sent message has that provider id.",
  })
  recordMessageDelivery(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('channel', () => Channel) channel: ChannelName,
    @Arg('providerId', () => String) providerId: string,
    @Arg('status', () => DeliveryStatus) status: 'DELIVERED' | 'FAILED',
    @Arg('error', () => String, { nullable: true }) error?: string | null,
  ) {
    return kokyaku.journeys.recordDelivery(core, { channel, providerId, status, error });
  }

  @Authorized(AUTOMATE)
  @UseMiddleware(Costly(5))
  @Query(() => MessagePreview, { description: 'Renders a message template for a real customer (and order), sending nothing.' })
  previewMessage(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => MessagePreviewInput) input: MessagePreviewInput) {
    return kokyaku.journeys.preview(core, plain(input));
  }
}

@Resolver(() => Customer)
export class CustomerAutomationResolver {
  @FieldResolver(() => MessageConnection, { description: 'Messages journeys sent (or withheld) to the customer, newest first.' })
  async messages(
    @Root() customer: Customer,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.messages(core, { customerId: customer.id, first, after }));
  }

  @FieldResolver(() => JourneyRunConnection, { description: 'The journeys the customer is in or went through, newest first.' })
  async journeyRuns(
    @Root() customer: Customer,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.journeys.runs(core, { customerId: customer.id, first, after }));
  }
}
