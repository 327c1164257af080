import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CONTACT_DATA, READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { connection } from '../customers/resolver.js';
import { EmailBody, EmailMessage, EmailMessageConnection, Mailbox, MailboxInput, MailboxSyncResult, SendEmailInput } from './types.js';
import { plain } from '../shared/graphql.js';

/** Only ADMIN connects mailboxes: they hold the shop's mail credentials. */
const CONFIGURE = ['ADMIN'] as const;

@Resolver(() => Mailbox)
export class MailboxResolver {
  @Authorized(CONFIGURE)
  @Query(() => [Mailbox], { description: "The shop's mailboxes and how their sync goes." })
  mailboxes(@Ctx() { kokyaku, core }: GraphQLContext) {
    return kokyaku.mailbox.list(core);
  }

  @Authorized(CONFIGURE)
  @Mutation(() => Mailbox, { description: 'Connects a mailbox (IMAP to read, SMTP to send); the follower reads it from then on.' })
  connectMailbox(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => MailboxInput) input: MailboxInput) {
    return kokyaku.mailbox.connect(core, plain(input) as never);
  }

  @Authorized(CONFIGURE)
  @Mutation(() => Mailbox, { description: 'Changes a mailbox: the fields given (a new password is encrypted again).' })
  updateMailbox(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('input', () => MailboxInput) input: MailboxInput) {
    return kokyaku.mailbox.update(core, id, plain(input) as never);
  }

  @Authorized(CONFIGURE)
  @Mutation(() => Boolean, { description: "Disconnects a mailbox; its mail stays on the customers' timelines unless keepMessages is false." })
  removeMailbox(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('keepMessages', () => Boolean, { nullable: true, defaultValue: true }) keepMessages: boolean,
  ) {
    return kokyaku.mailbox.remove(core, id, { keepMessages });
  }

  @Authorized(CONFIGURE)
  @Mutation(() => MailboxSyncResult, { description: 'One sync pass now; a failure is reported on the mailbox (errorCode), not as an error.' })
  async syncMailbox(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    const { mailbox, result } = await kokyaku.mailbox.sync(core, id);
    return { mailbox, fetched: result?.fetched ?? 0, stored: result?.stored ?? 0, unmatched: result?.unmatched ?? 0, duplicates: result?.duplicates ?? 0 };
  }
}

@Resolver(() => EmailMessage)
export class EmailMessageResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => EmailMessageConnection, { description: "A customer's mail, newest first." })
  async emailMessages(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('customerId', () => ID) customerId: string,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return connection(await kokyaku.mailbox.messages(core, customerId, { first, after }));
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => EmailMessage, { nullable: true })
  emailMessage(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.mailbox.message(core, id);
  }

  @Authorized(CONTACT_DATA)
  @Mutation(() => EmailMessage, { description: "Sends a mail to a customer from a mailbox's account; recorded once, on the timeline and in the inquiry's thread." })
  sendEmail(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => SendEmailInput) input: SendEmailInput) {
    return kokyaku.mailbox.send(core, plain(input));
  }

  @FieldResolver(() => EmailBody, { description: 'The body, read on request (each read by a role with contact data is audited).' })
  async body(@Root() message: EmailMessage, @Ctx() { kokyaku, core, actor }: GraphQLContext) {
    const customerId = message.customerIds[0];
    // Roles without contact data never have the body loaded at all.
    if (!actor?.roles.some((r) => CONTACT_DATA.includes(r))) return { text: null, html: null, customerId };
    return { ...(await kokyaku.mailbox.body(core, message.id)), customerId };
  }
}
