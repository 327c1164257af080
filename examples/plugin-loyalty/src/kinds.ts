export const ENTRY_KINDS = ['EARN', 'REVERSE', 'REDEEM', 'AWARD', 'EXPIRE'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
