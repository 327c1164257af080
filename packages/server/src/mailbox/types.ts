import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../shared/scalars.js';
import { PageInfo } from '../shared/types.js';
import { type E, enumOf } from '../shared/graphql.js';

export const MailboxAuth = enumOf('MailboxAuth', ['PASSWORD', 'OAUTH2'], 'PASSWORD: stored encrypted; OAUTH2: XOAUTH2 with access tokens the host gives (Gmail, Outlook).');
export const MailboxStatus = enumOf('MailboxStatus', ['ACTIVE', 'ERROR', 'PAUSED'], 'ERROR: the last pass failed (see errorCode); it is tried again.');
export const EmailDirection = enumOf('EmailDirection', ['RECEIVED', 'SENT'], 'RECEIVED from a customer, SENT by the shop.');

@ObjectType({ description: 'A mailbox of the shop, synced over IMAP (docs/mailbox.md). Its password is never returned.' })
export class Mailbox {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: "The shop's address of this account." }) address!: string;
  @Field(() => String) host!: string;
  @Field(() => Int) port!: number;
  @Field(() => Boolean, { description: 'TLS from the start (port 993); false: plain, or STARTTLS when the server offers it.' }) secure!: boolean;
  @Field(() => String) username!: string;
  @Field(() => MailboxAuth) auth!: E<typeof MailboxAuth>;
  @Field(() => [String], { description: 'The folders followed.' }) folders!: string[];
  @Field(() => String, { nullable: true }) smtpHost!: string | null;
  @Field(() => Int, { nullable: true }) smtpPort!: number | null;
  @Field(() => Boolean) smtpSecure!: boolean;
  @Field(() => Int, { description: 'How many days back the first pass reads.' }) initialDays!: number;
  @Field(() => Boolean, { description: "A customer's first mail opens an inquiry." }) openInquiries!: boolean;
  @Field(() => [String], { description: 'Addresses and domains whose mail is never stored.' }) excluded!: string[];
  @Field(() => MailboxStatus) status!: E<typeof MailboxStatus>;
  @Field(() => String, { nullable: true, description: 'MAIL_AUTH_FAILED, MAIL_UNREACHABLE, MAIL_TLS_FAILED, MAIL_FOLDER_MISSING, CONFIG_INVALID or MAIL_SYNC_FAILED.' })
  errorCode!: string | null;
  @Field(() => String, { nullable: true }) errorMessage!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) errorAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) lastSyncedAt!: Date | null;
  @Field(() => Float, { description: 'Messages stored from this mailbox.' }) storedMessages!: number;
  @Field(() => Float, { description: 'Messages read and not stored: to or from no customer, excluded, or automatic (bounces).' }) unmatchedMessages!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@InputType({ description: 'A mailbox to connect (or the fields to change).' })
export class MailboxInput {
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => String, { nullable: true }) address?: string;
  @Field(() => String, { nullable: true }) host?: string;
  @Field(() => Int, { nullable: true }) port?: number | null;
  @Field(() => Boolean, { nullable: true }) secure?: boolean | null;
  @Field(() => String, { nullable: true }) username?: string;
  @Field(() => MailboxAuth, { nullable: true }) auth?: E<typeof MailboxAuth> | null;
  @Field(() => String, { nullable: true, description: 'For PASSWORD: stored encrypted, never returned.' }) password?: string | null;
  @Field(() => [String], { nullable: true, description: 'Default INBOX and Sent.' }) folders?: string[] | null;
  @Field(() => String, { nullable: true }) smtpHost?: string | null;
  @Field(() => Int, { nullable: true }) smtpPort?: number | null;
  @Field(() => Boolean, { nullable: true }) smtpSecure?: boolean | null;
  @Field(() => Int, { nullable: true, description: 'Default 90.' }) initialDays?: number | null;
  @Field(() => Boolean, { nullable: true }) openInquiries?: boolean | null;
  @Field(() => [String], { nullable: true }) excluded?: string[] | null;
  @Field(() => Boolean, { nullable: true }) paused?: boolean | null;
}

@ObjectType({ description: 'The outcome of one sync pass.' })
export class MailboxSyncResult {
  @Field(() => Mailbox) mailbox!: Mailbox;
  @Field(() => Int) fetched!: number;
  @Field(() => Int) stored!: number;
  @Field(() => Int) unmatched!: number;
  @Field(() => Int) duplicates!: number;
}

@ObjectType({ description: 'A mail to or from customers. Addresses, subject and body are contact data.' })
export class EmailMessage {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) mailboxId!: string | null;
  @Field(() => String, { description: 'The Message-ID header.' }) messageId!: string;
  @Field(() => EmailDirection) direction!: E<typeof EmailDirection>;
  @Field(() => String, { nullable: true }) from!: string | null;
  @Field(() => String, { nullable: true }) fromName!: string | null;
  @Field(() => [String]) to!: string[];
  @Field(() => [String]) cc!: string[];
  @Field(() => String, { nullable: true }) subject!: string | null;
  @Field(() => String, { nullable: true }) snippet!: string | null;
  @Field(() => DateTimeScalar) sentAt!: Date;
  @Field(() => ID, { nullable: true }) inquiryId!: string | null;
  @Field(() => [ID], { description: 'Every customer it belongs to.' }) customerIds!: string[];
}

@ObjectType({ description: "A message's body: the text, and the HTML sanitised (no scripts, styles, forms or remote images)." })
export class EmailBody {
  @Field(() => String, { nullable: true }) text!: string | null;
  @Field(() => String, { nullable: true }) html!: string | null;
}

@ObjectType()
export class EmailMessageConnection {
  @Field(() => [EmailMessage]) nodes!: EmailMessage[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@InputType({ description: 'A mail to a customer from one of the shop’s mailboxes.' })
export class SendEmailInput {
  @Field(() => ID) mailboxId!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => String) subject!: string;
  @Field(() => String) text!: string;
  @Field(() => String, { nullable: true }) html?: string | null;
  @Field(() => ID, { nullable: true, description: 'The inquiry it answers: it joins the thread, and so will the reply.' }) inquiryId?: string | null;
}
