import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the privacy types (security/access.ts explains the rules). */
export const PRIVACY_ACCESS: Record<string, Record<string, AccessRule>> = {
  // Privacy: reached only through operations that check their roles; no personal values.
  Consent: inherit('channel', 'granted', 'source', 'recordedAt', 'actorId'),
  Erasure: inherit('customerId', 'erasedAt'),
  MarketingObjection: inherit('customerId', 'objectedAt'),
  AuditEntry: inherit('id', 'at', 'actorId', 'actorRoles', 'action', 'customerId', 'fields', 'requestId', 'detail'),
  AuditEntryConnection: inherit('nodes', 'pageInfo'),
};
