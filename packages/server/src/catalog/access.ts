import { type AccessRule, inherit } from '../security/rules.js';

/** Who may read each field of the catalog types (security/access.ts explains the rules). */
export const CATALOG_ACCESS: Record<string, Record<string, AccessRule>> = {
  Product: inherit('id', 'externalId', 'name', 'price', 'currency', 'categories', 'tags', 'inStock', 'placeholder'),
};
