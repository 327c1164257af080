import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';
import { PageInfo } from '../shared/types.js';
import { type E, enumOf } from '../shared/graphql.js';

export const JourneyStatus = enumOf('JourneyStatus', ['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED'], 'DRAFT until activated; PAUSED holds runs where they are; ARCHIVED cancels them.');
export const JourneyRunStatus = enumOf('JourneyRunStatus', ['ACTIVE', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELLED'], 'Where a customer is in a journey.');
export const MessageChannel = enumOf('MessageChannel', ['EMAIL', 'LINE', 'SMS', 'WEBHOOK'], 'How a message went out.');
export const Channel = enumOf('Channel', ['EMAIL', 'LINE', 'SMS'], 'A channel messages reach customers on.');
export const MessagePurpose = enumOf('MessagePurpose', ['MARKETING', 'TRANSACTIONAL'], 'MARKETING needs consent and obeys quiet hours and the frequency cap.');
export const DeliveryStatus = enumOf('DeliveryStatus', ['DELIVERED', 'FAILED'], 'What a provider reported about a sent message.');
export const MessageStatus = enumOf('MessageStatus', ['SENT', 'DELIVERED', 'FAILED', 'WITHHELD'], 'SENT: the provider accepted it; WITHHELD: not sent, see reason.');

@ObjectType({ description: 'A saved version of a journey definition.' })
export class JourneyVersion {
  @Field(() => Int) version!: number;
  @Field(() => JSONScalar) definition!: unknown;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: 'An automation: a trigger, a re-entry rule and steps (docs/automation.md has the definition format).' })
export class Journey {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => JourneyStatus) status!: E<typeof JourneyStatus>;
  @Field(() => Int, { description: 'The current version; each change of the definition adds one.' }) version!: number;
  @Field(() => JSONScalar, { description: 'The current definition: { trigger, reentry, steps }.' }) definition!: unknown;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When it last became ACTIVE: facts from before start nothing.' }) activatedAt!: Date | null;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType()
export class JourneyConnection {
  @Field(() => [Journey]) nodes!: Journey[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'What one step of a run did.' })
export class JourneyRunStep {
  @Field(() => Int, { description: 'The step counter of the run (0, 1, 2…).' }) seq!: number;
  @Field(() => String) stepId!: string;
  @Field(() => String) type!: string;
  @Field(() => String, { description: 'SENT, WITHHELD, FAILED, DEFERRED, WAITING, WAITED, YES, NO, TAGGED, TASK_CREATED, FIELD_SET, CALLED, ENDED.' }) outcome!: string;
  @Field(() => JSONScalar) detail!: unknown;
  @Field(() => DateTimeScalar) at!: Date;
}

@ObjectType({ description: "One customer's way through a journey." })
export class JourneyRun {
  @Field(() => ID) id!: string;
  @Field(() => ID) journeyId!: string;
  @Field(() => Int, { description: 'The journey version this run follows.' }) version!: number;
  @Field(() => ID) customerId!: string;
  @Field(() => JourneyRunStatus) status!: E<typeof JourneyRunStatus>;
  @Field(() => String, { nullable: true, description: 'The step it is at (or ended on).' }) stepId!: string | null;
  @Field(() => DateTimeScalar, { description: 'When it is due next.' }) wakeAt!: Date;
  @Field(() => JSONScalar, { description: 'What started it: orderId, eventId, inquiryId, segmentId, date, data.' }) context!: unknown;
  @Field(() => String, { nullable: true, description: 'The last error (a step being retried, or why it failed or was cancelled).' }) error!: string | null;
  @Field(() => DateTimeScalar) startedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt!: Date | null;
}

@ObjectType()
export class JourneyRunConnection {
  @Field(() => [JourneyRun]) nodes!: JourneyRun[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'A message a journey sent, or withheld.' })
export class Message {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) customerId!: string | null;
  @Field(() => ID, { nullable: true }) journeyId!: string | null;
  @Field(() => ID, { nullable: true }) runId!: string | null;
  @Field(() => String, { nullable: true }) stepId!: string | null;
  @Field(() => MessageChannel) channel!: E<typeof MessageChannel>;
  @Field(() => MessagePurpose) purpose!: E<typeof MessagePurpose>;
  @Field(() => MessageStatus) status!: E<typeof MessageStatus>;
  @Field(() => String, { nullable: true, description: 'Why it was withheld: NO_CONSENT, NO_ADDRESS, CHANNEL_NOT_CONFIGURED, FREQUENCY_CAP.' }) reason!: string | null;
  @Field(() => String, { nullable: true }) recipient!: string | null;
  @Field(() => String, { nullable: true }) subject!: string | null;
  @Field(() => String, { nullable: true, description: 'The text as sent (links rewritten to the click tracker).' }) body!: string | null;
  @Field(() => [String], { description: 'The tracked links, by number.' }) links!: string[];
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) sentAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => Int) clicks!: number;
}

@ObjectType()
export class MessageConnection {
  @Field(() => [Message]) nodes!: Message[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class WithheldCount {
  @Field(() => String) reason!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'One step of a journey: runs waiting at it, messages it sent and withheld (and why).' })
export class JourneyStepReport {
  @Field(() => String) stepId!: string;
  @Field(() => Int) waiting!: number;
  @Field(() => Int) sent!: number;
  @Field(() => Int) withheld!: number;
  @Field(() => [WithheldCount]) withheldByReason!: WithheldCount[];
}

@ObjectType({ description: "A journey's figures: runs, messages, clicks, and orders attributed to it (last touch within the attribution window)." })
export class JourneyReport {
  @Field(() => [JourneyStepReport], { description: 'Per step that runs wait at or messages came from.' }) steps!: JourneyStepReport[];
  @Field(() => Int) runs!: number;
  @Field(() => Int) active!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) failedMessages!: number;
  @Field(() => Int) withheld!: number;
  @Field(() => [WithheldCount]) withheldByReason!: WithheldCount[];
  @Field(() => Int) clicks!: number;
  @Field(() => Int) uniqueClickers!: number;
  @Field(() => Int) attributedOrders!: number;
  @Field(() => Float, { description: 'In the shop currency.' }) attributedRevenue!: number;
  @Field(() => Float, { description: 'attributedOrders / customers messaged.' }) conversionRate!: number;
  @Field(() => Int) attributionDays!: number;
}

@ObjectType({ description: "The shop's messaging policy." })
export class MessagingSettings {
  @Field(() => String, { nullable: true, description: 'Quiet hours start (HH:MM, shop time zone); marketing waits until they end.' }) quietHoursStart!: string | null;
  @Field(() => String, { nullable: true }) quietHoursEnd!: string | null;
  @Field(() => Int, { nullable: true, description: 'At most this many marketing messages per customer...' }) frequencyCapMax!: number | null;
  @Field(() => Int, { nullable: true, description: '...within this many days.' }) frequencyCapDays!: number | null;
  @Field(() => Int) attributionDays!: number;
  @Field(() => [Channel], { description: 'PREFERRED sends try the customer preference, then these.' }) channelOrder!: E<typeof Channel>[];
  @Field(() => [Channel], { description: 'Channels this server can send on (configured).' }) configuredChannels!: E<typeof Channel>[];
}

@ObjectType({ description: 'A rendered message (nothing is sent).' })
export class MessagePreview {
  @Field(() => String, { nullable: true }) subject!: string | null;
  @Field(() => String) text!: string;
  @Field(() => String, { nullable: true }) html!: string | null;
}

@ObjectType()
export class JourneyStartResult {
  @Field(() => Int) started!: number;
  @Field(() => Int, { description: 'Customers already through (ONCE) or started with this key before.' }) skipped!: number;
  @Field(() => [ID]) runIds!: string[];
}

@InputType()
export class JourneyInput {
  @Field(() => String) name!: string;
  @Field(() => JSONScalar, { description: '{ trigger, reentry, steps }: checked whole when saved.' }) definition!: unknown;
}

@InputType()
export class JourneyPatch {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'A new definition: saved as the next version.' }) definition?: unknown;
}

@InputType()
export class MessagingSettingsInput {
  @Field(() => String, { nullable: true }) quietHoursStart?: string | null;
  @Field(() => String, { nullable: true }) quietHoursEnd?: string | null;
  @Field(() => Int, { nullable: true }) frequencyCapMax?: number | null;
  @Field(() => Int, { nullable: true }) frequencyCapDays?: number | null;
  @Field(() => Int, { nullable: true }) attributionDays?: number | null;
  @Field(() => [Channel], { nullable: true }) channelOrder?: E<typeof Channel>[] | null;
}

@InputType()
export class MessagePreviewInput {
  @Field(() => String) customerExternalId!: string;
  @Field(() => String, { nullable: true, description: 'Render as if this order started the journey.' }) orderExternalId?: string | null;
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field(() => String) text!: string;
  @Field(() => String, { nullable: true }) html?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'What a manual start would pass as `data`.' }) data?: Record<string, unknown> | null;
}
