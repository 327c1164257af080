import type { MedusaContainer } from '@medusajs/framework/types';
import { KokyakuMedusa } from '../kokyaku.js';

/** Every minute: deliver what is due (failed rows come back after their backoff), even on a quiet shop. */
export default async function kokyakuDeliver(container: MedusaContainer): Promise<void> {
  const kokyaku = await KokyakuMedusa.from(container);
  kokyaku.nudge();
}

export const config = { name: 'kokyaku-deliver', schedule: '* * * * *' };
