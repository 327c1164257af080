import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { AuditAction, AuditEntryConnection, Consent, ConsentChannel, Erasure, MarketingObjection } from './types.js';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';
import { connection, customerRef } from '../customers/resolver.js';

/** Roles that may record consent and objections (they talk to customers). */
const HANDLE_CONSENT = ['ADMIN', 'MARKETER', 'SUPPORT'] as const;

@Resolver()
export class PrivacyResolver {
  @Authorized(['ADMIN'])
  @Query(() => JSONScalar, {
    description: 'Everything Kokyaku holds about one customer, as JSON (a GDPR / APPI access request). Written to the audit log.',
  })
  customerDataExport(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ): Promise<Record<string, unknown>> {
    return kokyaku.privacy.exportCustomer(core, customerRef(id, externalId), { requestId });
  }

  @Authorized(['ADMIN'])
  @Mutation(() => Erasure, {
    description: 'Erases a customer (right to erasure): personal fields cleared, the shop id replaced by a pseudonym, orders kept as anonymous figures. Cannot be undone.',
  })
  eraseCustomer(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
    @Arg('reason', () => String, { nullable: true, description: 'Kept in the audit log: say why without personal data.' }) reason?: string | null,
  ): Promise<Erasure> {
    return kokyaku.privacy.eraseCustomer(core, customerRef(id, externalId), { requestId, reason: reason ?? undefined });
  }

  @Authorized([...HANDLE_CONSENT])
  @Mutation(() => Consent, { description: 'Records consent to (or its withdrawal from) one channel, with its source and time.' })
  recordConsent(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('channel', () => ConsentChannel) channel: ConsentChannel,
    @Arg('granted', () => Boolean) granted: boolean,
    @Arg('source', () => String) source: string,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
    @Arg('at', () => DateTimeScalar, { nullable: true, description: 'When it was given (default now).' }) at?: Date | null,
  ): Promise<Consent> {
    return kokyaku.privacy.recordConsent(core, customerRef(id, externalId), { channel, granted, source, at }, { requestId }) as Promise<Consent>;
  }

  @Authorized([...HANDLE_CONSENT])
  @Mutation(() => MarketingObjection, { description: 'The customer objects to marketing: consent on every channel is withdrawn and marketing stops.' })
  objectToMarketing(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('source', () => String) source: string,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ): Promise<MarketingObjection> {
    return kokyaku.privacy.objectToMarketing(core, customerRef(id, externalId), source, { requestId });
  }

  @Authorized(CONTACT_DATA)
  @Query(() => [Consent], { description: "A customer's consent history, newest first." })
  customerConsents(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ): Promise<Consent[]> {
    return kokyaku.privacy.consents(core, customerRef(id, externalId)) as Promise<Consent[]>;
  }

  @Authorized(['ADMIN'])
  @Query(() => AuditEntryConnection, { description: 'Who read or changed whose personal data, newest first.' })
  async auditLog(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('actorId', () => String, { nullable: true }) actorId?: string | null,
    @Arg('action', () => AuditAction, { nullable: true }) action?: AuditAction | null,
    @Arg('from', () => DateTimeScalar, { nullable: true }) from?: Date | null,
    @Arg('to', () => DateTimeScalar, { nullable: true }) to?: Date | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AuditEntryConnection> {
    return connection(await kokyaku.audit.list(core, { customerId, actorId, action, from, to, first, after })) as AuditEntryConnection;
  }
}
