import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../shared/types.js';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';

export enum ConsentChannel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  LINE = 'LINE',
  PHONE = 'PHONE',
  POST = 'POST',
}
registerEnumType(ConsentChannel, { name: 'ConsentChannel', description: 'A channel a customer can consent to be contacted on.' });

export enum AuditAction {
  READ = 'READ',
  CREATE = 'CREATE',
  UPDATE = 'UPDATE',
  EXPORT = 'EXPORT',
  ERASE = 'ERASE',
  CONSENT = 'CONSENT',
  OBJECTION = 'OBJECTION',
  SHOP_ERASE = 'SHOP_ERASE',
  MERGE = 'MERGE',
}
registerEnumType(AuditAction, {
  name: 'AuditAction',
  description: 'READ: personal fields were shown; CREATE/UPDATE: written; EXPORT, ERASE, CONSENT, OBJECTION: privacy requests.',
});

@ObjectType({ description: 'Consent to (or its withdrawal from) contact on one channel, with where and when it was given.' })
export class Consent {
  @Field(() => ConsentChannel)
  channel!: ConsentChannel;

  @Field(() => Boolean)
  granted!: boolean;

  @Field(() => String, { description: 'Where it was given: "checkout form", "support call"...' })
  source!: string;

  @Field(() => DateTimeScalar)
  recordedAt!: Date;

  @Field(() => String, { nullable: true, description: 'The staff member or system that recorded it.' })
  actorId!: string | null;
}

@ObjectType({ description: 'The result of erasing a customer: their personal data is gone, their orders stay as anonymous figures.' })
export class Erasure {
  @Field(() => ID)
  customerId!: string;

  @Field(() => DateTimeScalar)
  erasedAt!: Date;
}

@ObjectType()
export class MarketingObjection {
  @Field(() => ID)
  customerId!: string;

  @Field(() => DateTimeScalar)
  objectedAt!: Date;
}

@ObjectType({ description: 'Who read or changed whose personal data, and when. Holds ids and field names, never the values.' })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field(() => [String])
  actorRoles!: string[];

  @Field(() => AuditAction)
  action!: AuditAction;

  @Field(() => ID, { nullable: true })
  customerId!: string | null;

  @Field(() => [String], { description: 'Names of the personal fields concerned.' })
  fields!: string[];

  @Field(() => String, { nullable: true, description: 'The request it happened in (as in the server log).' })
  requestId!: string | null;

  @Field(() => JSONScalar)
  detail!: Record<string, unknown>;
}

@ObjectType()
export class AuditEntryConnection {
  @Field(() => [AuditEntry])
  nodes!: AuditEntry[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
