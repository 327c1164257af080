import { type AccessRule, inherit, contact, maskEmail, maskPhone, hidden } from '../security/rules.js';

/** Who may read each field of the automation types (security/access.ts explains the rules). */
export const AUTOMATION_ACCESS: Record<string, Record<string, AccessRule>> = {
  Journey: inherit('id', 'name', 'status', 'version', 'definition', 'activatedAt', 'createdBy', 'createdAt', 'updatedAt', 'versions', 'runs', 'report'),
  JourneyVersion: inherit('version', 'definition', 'createdBy', 'createdAt'),
  JourneyConnection: inherit('nodes', 'pageInfo'),
  JourneyRun: {
    ...inherit('id', 'journeyId', 'version', 'customerId', 'status', 'stepId', 'wakeAt', 'error', 'startedAt', 'finishedAt', 'steps', 'journey', 'customer'),
    // What a manual start passed in (data) may be anything personal.
    context: contact(
      (value) => Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([key]) => key !== 'data')),
      (run) => run.customerId as string,
    ),
  },
  JourneyRunStep: inherit('seq', 'stepId', 'type', 'outcome', 'detail', 'at'),
  JourneyRunConnection: inherit('nodes', 'pageInfo'),
  Message: {
    ...inherit('id', 'customerId', 'journeyId', 'runId', 'stepId', 'channel', 'purpose', 'status', 'reason', 'links', 'error', 'createdAt', 'sentAt', 'deliveredAt', 'clicks'),
    // The address and the words sent to a customer: contact data.
    recipient: contact(
      (value, message) => (message.channel === 'EMAIL' ? maskEmail(value) : message.channel === 'SMS' ? maskPhone(value) : null),
      (m) => (m.customerId as string | null) ?? undefined,
    ),
    subject: contact(hidden, (m) => (m.customerId as string | null) ?? undefined),
    body: contact(hidden, (m) => (m.customerId as string | null) ?? undefined),
  },
  MessageConnection: inherit('nodes', 'pageInfo'),
  WithheldCount: inherit('reason', 'count'),
  JourneyReport: inherit(
    'runs',
    'active',
    'completed',
    'failed',
    'sent',
    'delivered',
    'failedMessages',
    'withheld',
    'withheldByReason',
    'clicks',
    'uniqueClickers',
    'attributedOrders',
    'attributedRevenue',
    'conversionRate',
    'attributionDays',
    'steps',
  ),
  JourneyStepReport: inherit('stepId', 'waiting', 'sent', 'withheld', 'withheldByReason'),
  MessagingSettings: inherit('quietHoursStart', 'quietHoursEnd', 'frequencyCapMax', 'frequencyCapDays', 'attributionDays', 'channelOrder', 'configuredChannels'),
  MessagePreview: inherit('subject', 'text', 'html'),
  JourneyStartResult: inherit('started', 'skipped', 'runIds'),
};
