/**
 * `pnpm recs:groceries`: records the Groceries dataset as orders in a fresh PostgreSQL and runs
 * the built-in offline evaluation (each member's last basket held out) over every member with a
 * held-out basket, printing hit rate, recall and NDCG at 10 per strategy and baseline.
 */
import { loadGroceries } from './groceries.js';
import { evaluateHistory } from './recs-evaluate.js';

const { orders } = loadGroceries(process.argv[2]);
await evaluateHistory('Groceries', orders, { sample: 1_000_000, currency: 'USD' });
