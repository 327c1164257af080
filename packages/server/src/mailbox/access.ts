import { type AccessRule, contact, hidden, inherit, maskEmail } from '../security/rules.js';

const first = (m: Record<string, unknown>) => ((m.customerIds as string[] | undefined) ?? [])[0];

/** Who may read each field of the mailbox types (security/access.ts explains the rules). */
export const MAILBOX_ACCESS: Record<string, Record<string, AccessRule>> = {
  Mailbox: inherit(
    'id',
    'name',
    'address',
    'host',
    'port',
    'secure',
    'username',
    'auth',
    'folders',
    'smtpHost',
    'smtpPort',
    'smtpSecure',
    'initialDays',
    'openInquiries',
    'excluded',
    'status',
    'errorCode',
    'errorMessage',
    'errorAt',
    'lastSyncedAt',
    'storedMessages',
    'unmatchedMessages',
    'createdAt',
  ),
  MailboxSyncResult: inherit('mailbox', 'fetched', 'stored', 'unmatched', 'duplicates'),
  // Mail is contact data: roles without it see when and which way, not who or what.
  EmailMessage: {
    ...inherit('id', 'mailboxId', 'direction', 'sentAt', 'inquiryId', 'customerIds', 'body'),
    messageId: contact(hidden, first),
    from: contact(maskEmail, first),
    fromName: contact(hidden, first),
    to: contact((v) => (v as string[]).map((a) => maskEmail(a)), first),
    cc: contact((v) => (v as string[]).map((a) => maskEmail(a)), first),
    subject: contact(hidden, first),
    snippet: contact(hidden, first),
  },
  EmailBody: {
    text: contact(hidden, (b) => b.customerId as string | undefined),
    html: contact(hidden, (b) => b.customerId as string | undefined),
  },
  EmailMessageConnection: inherit('nodes', 'pageInfo'),
};
