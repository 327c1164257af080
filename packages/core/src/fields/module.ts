import { defineModule } from '../module/module.js';

/** Typed custom field definitions of customers, companies and deals (the values live on their rows). */
export const fieldsModule = defineModule({
  name: 'fields',
  tenantTables: ['custom_field_definitions'],
});
