import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the segments types (security/access.ts explains the rules). */
export const SEGMENTS_ACCESS: Record<string, Record<string, AccessRule>> = {
  Segment: inherit('id', 'name', 'query', 'count', 'customers', 'createdAt', 'updatedAt'),
  SegmentConnection: inherit('nodes', 'pageInfo', 'totalCount'),
  SegmentPreview: inherit('count', 'customers'),
};
