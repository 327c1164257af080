import { defineModule } from '../module/module.js';

/** The shop's products (placeholders made by orders and events until the catalogue arrives). */
export const catalogModule = defineModule({
  name: 'catalog',
  tenantTables: ['products'],
  published: ['products'],
});
