export { KokyakuPlugin } from './plugin.js';
export type { KokyakuPluginOptions } from './options.js';
export { KokyakuService } from './kokyaku.service.js';
export { BACKFILL_PHASES, type BackfillPhase, type BackfillState, type BackfillStatus, KokyakuBackfill } from './backfill.js';
export { KokyakuOutbox } from './outbox.js';
export { KokyakuOutboxItem, KokyakuSyncState, type OutboxKind } from './entities.js';
export { KOKYAKU_PERMISSIONS, PERMISSION_ROLES, kokyakuAdmin, kokyakuMarketing, kokyakuRead, kokyakuSupport, rolesFor } from './permissions.js';
export { customerInput, eventInput, major, orderInput, productInput } from './mapping.js';
