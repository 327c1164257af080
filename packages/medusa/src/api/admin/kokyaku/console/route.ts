import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';

/** GET /admin/kokyaku/console: the admin's way to the staff console (a signed-in admin is sent on). */
export async function GET(_req: MedusaRequest, res: MedusaResponse) {
  res.redirect(302, '/kokyaku/console/');
}
