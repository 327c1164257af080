import { type AccessRule, inherit, contact, maskEmail, maskPhone, hidden } from '../security/rules.js';

/** Who may read each field of the customers types (security/access.ts explains the rules). */
export const CUSTOMERS_ACCESS: Record<string, Record<string, AccessRule>> = {
  Customer: {
    ...inherit('id', 'externalId', 'firstName', 'lastName', 'firstNameKana', 'lastNameKana', 'region', 'country', 'tags', 'customFields'),
    ...inherit('emailConsent', 'placeholder', 'createdAt', 'updatedAt', 'erasedAt', 'marketingObjectionAt', 'metrics', 'orders', 'segments'),
    ...inherit('timeline', 'leadScore', 'scoreContributions', 'customFieldValues', 'companies', 'notes', 'tasks', 'inquiries', 'deals'),
    ...inherit('preferredChannel', 'messages', 'journeyRuns'),
    email: contact(maskEmail),
    lineUserId: contact(hidden),
    phone: contact(maskPhone),
    birthday: contact(hidden),
    city: contact(hidden),
  },
  CustomerSearchHit: {
    ...inherit('customer', 'rank', 'field', 'highlight'),
    // The matched value is the email or phone when the hit was on one of those.
    value: contact(
      (value, hit) => (hit.field === 'EMAIL' ? maskEmail(value) : hit.field === 'PHONE' ? maskPhone(value) : value),
      (hit) => (hit.field === 'EMAIL' || hit.field === 'PHONE' ? (hit.customer as { id: string }).id : undefined),
    ),
  },
  CustomerConnection: inherit('nodes', 'pageInfo', 'totalCount'),
  CustomerSearchConnection: inherit('nodes', 'pageInfo'),
  CustomerMetrics: inherit(
    'ordersCount',
    'totalSpent',
    'averageOrderValue',
    'firstOrderAt',
    'lastOrderAt',
    'averageDaysBetweenOrders',
    'isRepeatCustomer',
    'rfm',
    'decile',
    'predictedClv',
    'probabilityAlive',
    'churnRisk',
    'expectedPurchases',
    'currency',
  ),
  SearchHighlight: inherit('start', 'end'),
};
