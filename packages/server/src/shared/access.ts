import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the shared types (security/access.ts explains the rules). */
export const SHARED_ACCESS: Record<string, Record<string, AccessRule>> = {
  PageInfo: inherit('hasNextPage', 'endCursor'),
  BatchResult: inherit('received', 'created', 'updated', 'unchanged', 'failed', 'errors'),
  BatchItemError: inherit('index', 'externalId', 'field', 'message'),
};
