import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the orders types (security/access.ts explains the rules). */
export const ORDERS_ACCESS: Record<string, Record<string, AccessRule>> = {
  Order: inherit('id', 'externalId', 'customer', 'placedAt', 'status', 'currency', 'total', 'lines'),
  OrderLine: inherit('product', 'quantity', 'unitPrice', 'total'),
  OrderConnection: inherit('nodes', 'pageInfo', 'totalCount'),
};
