export { KokyakuProvider, useKokyakuClient } from './context.js';
export { useKokyakuFetcher } from './fetcher.js';
export { type KokyakuQueryHook, prefetchKokyakuQuery } from './ssr.js';
// Every generated hook (useCustomer360Query, useSegmentPreviewQuery, useCreateSegmentMutation, ...).
export * from '../generated/react-exports.js';
