export { KokyakuMedusa, type KokyakuMedusaOptions, type MedusaScope } from './kokyaku.js';
export { type MedusaCustomer, type MedusaOrder, type MedusaVariant, customerInput, orderInput, productInput } from './mapping.js';
