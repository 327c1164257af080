import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122000000_foundation } from './Migration20261122000000_foundation.js';
import { Migration20261122010000_segments } from './Migration20261122010000_segments.js';
import { Migration20261122020000_analytics } from './Migration20261122020000_analytics.js';
import { Migration20261122030000_recommendations } from './Migration20261122030000_recommendations.js';
import { Migration20261122040000_recommendation_upkeep } from './Migration20261122040000_recommendation_upkeep.js';
import { Migration20261122050000_customer_search } from './Migration20261122050000_customer_search.js';
import { Migration20261122060000_id_lists } from './Migration20261122060000_id_lists.js';
import { Migration20261122070000_blend_schedule } from './Migration20261122070000_blend_schedule.js';
import { Migration20261122080000_tenant_isolation } from './Migration20261122080000_tenant_isolation.js';
import { Migration20261122090000_privacy } from './Migration20261122090000_privacy.js';
import { Migration20261122100000_imports } from './Migration20261122100000_imports.js';
import { Migration20261122110000_identity } from './Migration20261122110000_identity.js';
import { Migration20261122120000_crm } from './Migration20261122120000_crm.js';
import { Migration20261122130000_automation } from './Migration20261122130000_automation.js';
import { Migration20261204000000_import_warnings } from './Migration20261204000000_import_warnings.js';
import { Migration20261204010000_double_precision } from './Migration20261204010000_double_precision.js';
import { Migration20261205000000_mailbox } from './Migration20261205000000_mailbox.js';
import { Migration20261205010000_report_rollups } from './Migration20261205010000_report_rollups.js';
import { Migration20261205020000_rebuild_fingerprint } from './Migration20261205020000_rebuild_fingerprint.js';
import { Migration20261206000000_spend_window } from './Migration20261206000000_spend_window.js';
import { Migration20261207000000_fleet } from './Migration20261207000000_fleet.js';

/** Every migration of core, in order. Listed explicitly so bundled builds need no file globbing. */
export const coreMigrations: MigrationObject[] = [
  { name: 'Migration20261122000000_foundation', class: Migration20261122000000_foundation },
  { name: 'Migration20261122010000_segments', class: Migration20261122010000_segments },
  { name: 'Migration20261122020000_analytics', class: Migration20261122020000_analytics },
  { name: 'Migration20261122030000_recommendations', class: Migration20261122030000_recommendations },
  { name: 'Migration20261122040000_recommendation_upkeep', class: Migration20261122040000_recommendation_upkeep },
  { name: 'Migration20261122050000_customer_search', class: Migration20261122050000_customer_search },
  { name: 'Migration20261122060000_id_lists', class: Migration20261122060000_id_lists },
  { name: 'Migration20261122070000_blend_schedule', class: Migration20261122070000_blend_schedule },
  { name: 'Migration20261122080000_tenant_isolation', class: Migration20261122080000_tenant_isolation },
  { name: 'Migration20261122090000_privacy', class: Migration20261122090000_privacy },
  { name: 'Migration20261122100000_imports', class: Migration20261122100000_imports },
  { name: 'Migration20261122110000_identity', class: Migration20261122110000_identity },
  { name: 'Migration20261122120000_crm', class: Migration20261122120000_crm },
  { name: 'Migration20261122130000_automation', class: Migration20261122130000_automation },
  { name: 'Migration20261204000000_import_warnings', class: Migration20261204000000_import_warnings },
  { name: 'Migration20261204010000_double_precision', class: Migration20261204010000_double_precision },
  { name: 'Migration20261205000000_mailbox', class: Migration20261205000000_mailbox },
  { name: 'Migration20261205010000_report_rollups', class: Migration20261205010000_report_rollups },
  { name: 'Migration20261205020000_rebuild_fingerprint', class: Migration20261205020000_rebuild_fingerprint },
  { name: 'Migration20261206000000_spend_window', class: Migration20261206000000_spend_window },
  { name: 'Migration20261207000000_fleet', class: Migration20261207000000_fleet },
];
