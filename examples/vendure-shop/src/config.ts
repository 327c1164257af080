import { KokyakuPlugin, type KokyakuPluginOptions } from '@kokyaku/vendure';
import { DefaultJobQueuePlugin, type VendureConfig, dummyPaymentHandler } from '@vendure/core';

export interface ShopOptions {
  /** Vendure's database. */
  databaseUrl: string;
  /** 0 picks a free port (tests). */
  port: number;
  superadmin?: { identifier: string; password: string };
  kokyaku?: KokyakuPluginOptions;
}

/** The Vendure configuration of the example shop: Vendure's defaults, PostgreSQL, the Kokyaku plugin. */
export function shopConfig(options: ShopOptions): VendureConfig {
  const db = new URL(options.databaseUrl);
  return {
    apiOptions: {
      port: options.port,
      adminApiPath: 'admin-api',
      shopApiPath: 'shop-api',
    },
    authOptions: {
      tokenMethod: ['bearer', 'cookie'],
      superadminCredentials: options.superadmin ?? { identifier: 'superadmin', password: 'superadmin' },
      cookieOptions: { secret: process.env.COOKIE_SECRET ?? 'kokyaku-example-cookie-secret' },
      // The example's customers sign in straight after registering (no mail to verify).
      requireVerification: false,
    },
    dbConnectionOptions: {
      type: 'postgres',
      host: db.hostname,
      port: Number(db.port || 5432),
      username: decodeURIComponent(db.username),
      password: decodeURIComponent(db.password),
      database: db.pathname.slice(1),
      // The example creates its tables on first start; a real shop generates migrations.
      synchronize: true,
      logging: false,
    },
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    plugins: [DefaultJobQueuePlugin.init({ pollInterval: 200 }), KokyakuPlugin.init(options.kokyaku)],
  };
}
