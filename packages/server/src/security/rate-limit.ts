import { type Kokyaku, KokyakuError } from '@kokyaku/core';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { MiddlewareFn } from 'type-graphql';
import type { GraphQLContext } from '../context.js';

/**
 * Costly operations (segment previews and filters, searches, reports, the recommendation
 * evaluation) spend points from a budget per actor and tenant: 600 points a minute by default.
 * With `kokyaku`, the budget is kept in its database (`kokyaku.rate_limits`), shared by every
 * server on it, with a budget in this process as insurance while the database does not answer;
 * without, in this process only. Any rate-limiter-flexible limiter (RateLimiterRedis...) can be
 * given to a mount instead.
 */
export function createCostLimiter(options: { points?: number; durationSeconds?: number; kokyaku?: Kokyaku } = {}): RateLimiterAbstract {
  const budget = { keyPrefix: 'kokyaku-cost', points: options.points ?? 600, duration: options.durationSeconds ?? 60 };
  if (!options.kokyaku) return new RateLimiterMemory(budget);
  return new RateLimiterPostgres({
    ...budget,
    storeClient: options.kokyaku.orm.em.getKnex(),
    storeType: 'knex',
    schemaName: 'kokyaku',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: true,
    insuranceLimiter: new RateLimiterMemory(budget),
  });
}

/**
 * Points an operation costs, fixed or from its arguments (a resolver middleware:
 * `@UseMiddleware(Costly(5))`). Zero points cost nothing.
 */
export function Costly(points: number | ((args: Record<string, unknown>) => number)): MiddlewareFn<GraphQLContext> {
  return async ({ context, args }, next) => {
    const limiter = context.costLimiter;
    const cost = typeof points === 'function' ? points(args) : points;
    if (limiter && cost > 0) {
      const key = `${context.core.tenantId}:${context.actor?.id ?? 'anonymous'}`;
      try {
        await limiter.consume(key, cost);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw KokyakuError.rateLimited(`Too many costly requests from this caller; retry in ${retryAfterSeconds} s.`, {
          retryAfterSeconds,
        });
      }
    }
    return next();
  };
}
