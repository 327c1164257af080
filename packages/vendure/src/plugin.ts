import { PluginCommonModule, type Type, VendurePlugin } from '@vendure/core';
import { adminSchema, KokyakuAdminResolver } from './api/admin.js';
import { KokyakuRecommendationResolver, KokyakuShopResolver, shopSchema } from './api/shop.js';
import { KokyakuBackfill } from './backfill.js';
import { KokyakuOutboxItem, KokyakuSyncState } from './entities.js';
import { KokyakuHttp, KokyakuMount } from './http.js';
import { KokyakuService } from './kokyaku.service.js';
import { KOKYAKU_PLUGIN_OPTIONS, type KokyakuPluginOptions, resolveOptions, type ResolvedOptions } from './options.js';
import { KokyakuOutbox } from './outbox.js';
import { KOKYAKU_PERMISSIONS } from './permissions.js';

/**
 * Kokyaku in a Vendure 3 server.
 *
 * @example
 * plugins: [KokyakuPlugin.init({ config: { shop: { timeZone: 'Asia/Tokyo' } } })]
 */
@VendurePlugin({
  imports: [PluginCommonModule],
  entities: [KokyakuOutboxItem, KokyakuSyncState],
  providers: [{ provide: KOKYAKU_PLUGIN_OPTIONS, useFactory: () => KokyakuPlugin.options }, KokyakuService, KokyakuOutbox, KokyakuBackfill, KokyakuHttp],
  exports: [KokyakuService, KokyakuBackfill, KokyakuOutbox],
  configuration: (config) => {
    const options = KokyakuPlugin.options;
    config.authOptions.customPermissions.push(...KOKYAKU_PERMISSIONS);
    config.apiOptions.middleware.push({ route: `/${options.route}`, handler: options.mount.handler, beforeListen: true });
    return config;
  },
  shopApiExtensions: { schema: shopSchema, resolvers: [KokyakuShopResolver, KokyakuRecommendationResolver] },
  adminApiExtensions: { schema: adminSchema, resolvers: [KokyakuAdminResolver] },
  compatibility: '^3.5.0',
})
export class KokyakuPlugin {
  static options: ResolvedOptions & { mount: KokyakuMount } = { ...resolveOptions({}), mount: new KokyakuMount() };

  static init(options: KokyakuPluginOptions = {}): Type<KokyakuPlugin> {
    KokyakuPlugin.options = { ...resolveOptions(options), mount: new KokyakuMount() };
    return KokyakuPlugin;
  }
}
