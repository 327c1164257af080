import { authenticate, defineMiddlewares } from '@medusajs/framework/http';
import { kokyakuHttp } from '../http.js';

export default defineMiddlewares({
  routes: [
    {
      // The CRM's GraphQL API and staff console: a Medusa admin's session or bearer token signs in.
      matcher: '/kokyaku*',
      middlewares: [authenticate('user', ['session', 'bearer'], { allowUnauthenticated: true }), kokyakuHttp as never],
    },
  ],
});
