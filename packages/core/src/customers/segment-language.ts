import type { SegmentAttribute } from '../module/segment-language.js';
import type { SegmentCustomFields } from '../module/segment-language.js';

/** The customer's own row `c` (every customer has one). */
const profile = { table: 'kokyaku.customers', alias: 'c', on: 'c.id = f.customer_id', type: 'inner' as const };

export const PROFILE_ATTRIBUTES: readonly SegmentAttribute[] = [
  {
    name: 'email',
    type: 'text',
    sql: 'c.email',
    nullable: true,
    description: 'Email address (lower case).',
    example: "email = 'hanako@example.jp'",
    normalize: (v) => v.trim().toLowerCase(),
    join: profile,
  },
  { name: 'first_name', type: 'text', sql: 'c.first_name', nullable: true, description: 'Given name.', example: "first_name = 'Hanako'", join: profile },
  { name: 'last_name', type: 'text', sql: 'c.last_name', nullable: true, description: 'Family name.', example: "last_name = '山田'", join: profile },
];

/** `custom.<key>`: the customer's custom fields. */
export const CUSTOM_FIELDS: SegmentCustomFields = { column: 'c.custom_fields', join: profile };
