export { KokyakuProvider, useKokyakuClient } from './context.js';
export { useKokyakuFetcher } from './fetcher.js';
export {
  useCustomer360Query,
  useCustomersQuery,
  useRecordOrdersMutation,
  useTrackEventsMutation,
  useUpsertCustomersMutation,
  useUpsertProductsMutation,
} from '../generated/react.js';
