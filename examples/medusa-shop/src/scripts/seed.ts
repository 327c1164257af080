import type { ExecArgs } from '@medusajs/framework/types';
import { ContainerRegistrationKeys, Modules, ProductStatus } from '@medusajs/framework/utils';
import {
  createApiKeysWorkflow,
  createInventoryLevelsWorkflow,
  createProductCategoriesWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
  createShippingOptionsWorkflow,
  createShippingProfilesWorkflow,
  createStockLocationsWorkflow,
  createTaxRegionsWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} from '@medusajs/medusa/core-flows';
import { CATALOGUE } from '../catalogue';

/**
 * `medusa exec ./src/scripts/seed.ts`: what a new Medusa shop sets up in its admin, done with
 * Medusa's own workflows: a sales channel and its publishable key, a region (Japan, USD), taxes,
 * a warehouse with stock, standard shipping, and the coffee catalogue. Runs once (a second run
 * finds the products and stops).
 */
export default async function seed({ container }: ExecArgs): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER);
  const query = container.resolve(ContainerRegistrationKeys.QUERY);
  const link = container.resolve(ContainerRegistrationKeys.LINK);
  const { data: existing } = await query.graph({ entity: 'product', fields: ['id'], pagination: { take: 1, skip: 0 } });
  if (existing.length) {
    logger.info('The shop has products already: nothing to seed.');
    return;
  }
  const storeModule = container.resolve(Modules.STORE);
  const fulfillmentModule = container.resolve(Modules.FULFILLMENT);
  const [store] = await storeModule.listStores();

  const { result: channels } = await createSalesChannelsWorkflow(container).run({ input: { salesChannelsData: [{ name: 'Webshop' }] } });
  const channel = channels[0]!;
  await updateStoresWorkflow(container).run({
    input: { selector: { id: store!.id }, update: { supported_currencies: [{ currency_code: 'usd', is_default: true }], default_sales_channel_id: channel.id } },
  });
  const { result: regions } = await createRegionsWorkflow(container).run({
    input: { regions: [{ name: 'Japan', currency_code: 'usd', countries: ['jp'], payment_providers: ['pp_system_default'] }] },
  });
  const region = regions[0]!;
  await createTaxRegionsWorkflow(container).run({ input: [{ country_code: 'jp', provider_id: 'tp_system' }] });

  const { result: locations } = await createStockLocationsWorkflow(container).run({
    input: { locations: [{ name: 'Tokyo warehouse', address: { city: 'Tokyo', country_code: 'JP', address_1: '1-2-3 Jingumae' } }] },
  });
  const location = locations[0]!;
  await link.create({ [Modules.STOCK_LOCATION]: { stock_location_id: location.id }, [Modules.FULFILLMENT]: { fulfillment_provider_id: 'manual_manual' } });
  let [profile] = await fulfillmentModule.listShippingProfiles({ type: 'default' });
  if (!profile) {
    const { result } = await createShippingProfilesWorkflow(container).run({ input: { data: [{ name: 'Default', type: 'default' }] } });
    profile = result[0];
  }
  const fulfillmentSet = await fulfillmentModule.createFulfillmentSets({
    name: 'Tokyo delivery',
    type: 'shipping',
    service_zones: [{ name: 'Japan', geo_zones: [{ country_code: 'jp', type: 'country' }] }],
  });
  await link.create({ [Modules.STOCK_LOCATION]: { stock_location_id: location.id }, [Modules.FULFILLMENT]: { fulfillment_set_id: fulfillmentSet.id } });
  await createShippingOptionsWorkflow(container).run({
    input: [
      {
        name: 'Standard Shipping',
        price_type: 'flat',
        provider_id: 'manual_manual',
        service_zone_id: fulfillmentSet.service_zones[0]!.id,
        shipping_profile_id: profile!.id,
        type: { label: 'Standard', description: 'Delivered in 2-3 days.', code: 'standard' },
        prices: [
          { currency_code: 'usd', amount: 5 },
          { region_id: region.id, amount: 5 },
        ],
        rules: [
          { attribute: 'enabled_in_store', value: 'true', operator: 'eq' },
          { attribute: 'is_return', value: 'false', operator: 'eq' },
        ],
      },
    ],
  });
  await linkSalesChannelsToStockLocationWorkflow(container).run({ input: { id: location.id, add: [channel.id] } });
  const { result: keys } = await createApiKeysWorkflow(container).run({ input: { api_keys: [{ title: 'Webshop', type: 'publishable', created_by: '' }] } });
  await linkSalesChannelsToApiKeyWorkflow(container).run({ input: { id: keys[0]!.id, add: [channel.id] } });

  const names = [...new Set(CATALOGUE.map((p) => p.category))];
  const { result: categories } = await createProductCategoriesWorkflow(container).run({
    input: { product_categories: names.map((name) => ({ name, is_active: true })) },
  });
  await createProductsWorkflow(container).run({
    input: {
      products: CATALOGUE.map((p) => ({
        title: p.title,
        handle: p.title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
        status: ProductStatus.PUBLISHED,
        shipping_profile_id: profile!.id,
        category_ids: [categories.find((c) => c.name === p.category)!.id],
        options: [{ title: 'Size', values: p.sizes.map((s) => s.size) }],
        variants: p.sizes.map((s) => ({
          title: s.size,
          sku: `${p.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${s.size.toLowerCase().replace(/[^a-z0-9]+/g, '')}`,
          options: { Size: s.size },
          manage_inventory: true,
          prices: [{ amount: s.price, currency_code: 'usd' }],
        })),
        sales_channels: [{ id: channel.id }],
      })),
    },
  });
  const { data: items } = await query.graph({ entity: 'inventory_item', fields: ['id'] });
  await createInventoryLevelsWorkflow(container).run({
    input: { inventory_levels: items.map((i: { id: string }) => ({ location_id: location.id, stocked_quantity: 100_000, inventory_item_id: i.id })) },
  });
  logger.info(`Seeded: region ${region.id}, ${CATALOGUE.length} products, publishable key ${keys[0]!.token}`);
}
