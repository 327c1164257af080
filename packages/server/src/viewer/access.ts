import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the viewer types (security/access.ts explains the rules). */
export const VIEWER_ACCESS: Record<string, Record<string, AccessRule>> = {
  Viewer: inherit('id', 'roles', 'can', 'shop'),
  ViewerPermissions: inherit('contactData', 'workWithCustomers', 'manageSegments', 'admin'),
  ShopSettings: inherit('currency', 'timeZone', 'defaultCountry'),
  SegmentLanguage: inherit('attributes', 'functions', 'calls', 'customFields'),
  SegmentAttributeInfo: inherit('name', 'type', 'description', 'example', 'values', 'plugin'),
  SegmentFunctionInfo: inherit('name', 'description', 'example', 'arguments', 'plugin'),
  SegmentFunctionArgument: inherit('name', 'type', 'role', 'description'),
  SegmentCallInfo: inherit('name', 'description', 'example', 'arguments'),
  SegmentCustomField: inherit('key', 'label', 'type', 'options'),
};
