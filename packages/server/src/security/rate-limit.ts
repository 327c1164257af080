import { KokyakuError } from '@kokyaku/core';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { MiddlewareFn } from 'type-graphql';
import type { GraphQLContext } from '../context.js';

/**
 * Costly operations (segment previews and filters, searches, reports, the recommendation
 * evaluation) spend points from a budget per actor and tenant: 600 points a minute by default,
 * kept in this process. Pass any rate-limiter-flexible limiter (RateLimiterPostgres,
 * RateLimiterRedis...) to share the budget across a fleet of servers.
 */
export function createCostLimiter(options: { points?: number; durationSeconds?: number } = {}): RateLimiterAbstract {
  return new RateLimiterMemory({ keyPrefix: 'kokyaku-cost', points: options.points ?? 600, duration: options.durationSeconds ?? 60 });
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
