const { defineConfig, loadEnv } = require('@medusajs/framework/utils');

loadEnv(process.env.NODE_ENV || 'development', process.cwd());

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      storeCors: process.env.STORE_CORS || 'http://localhost:8000',
      adminCors: process.env.ADMIN_CORS || 'http://localhost:9000',
      authCors: process.env.AUTH_CORS || 'http://localhost:8000,http://localhost:9000',
      jwtSecret: process.env.JWT_SECRET || 'kokyaku-example-jwt-secret',
      cookieSecret: process.env.COOKIE_SECRET || 'kokyaku-example-cookie-secret',
    },
  },
  // The example runs headless (the admin dashboard needs a build of its own); the CRM's console is at /kokyaku/console/.
  admin: { disable: true },
  plugins: [
    {
      resolve: '@kokyaku/medusa',
      // Kokyaku in Medusa's database (schema "kokyaku"), or KOKYAKU_DATABASE_URL.
      options: { database: process.env.KOKYAKU_DATABASE_URL || 'medusa', delivery: { intervalMs: Number(process.env.KOKYAKU_DELIVERY_MS || 2000), maxBackoffMs: Number(process.env.KOKYAKU_MAX_BACKOFF_MS || 300000) } },
    },
  ],
});
