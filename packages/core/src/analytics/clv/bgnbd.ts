import { betaln, gammaln, hyp2f1, logAddExp } from './special.js';
import { nelderMead } from './nelder-mead.js';

/**
 * BG/NBD (Fader, Hardie & Lee 2005): while alive, a customer buys as a Poisson process with rate
 * lambda ~ Gamma(r, alpha); after each purchase they drop out with probability p ~ Beta(a, b).
 * Data per customer: x repeat purchases, tx the time of the last purchase and T the length of
 * the observation, both measured from the first purchase (in weeks here).
 */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface RfmSummary {
  /** Repeat purchases (purchase days after the first). */
  x: number;
  /** Weeks from the first to the last purchase. */
  tx: number;
  /** Weeks from the first purchase to the end of the observation. */
  T: number;
}

/** Log-likelihood of one customer (eq. 6 of the paper, in log space). */
export function bgnbdLogLikelihood({ r, alpha, a, b }: BgNbdParams, { x, tx, T }: RfmSummary): number {
  const common = gammaln(r + x) - gammaln(r) + r * Math.log(alpha) - betaln(a, b);
  const survived = betaln(a, b + x) - (r + x) * Math.log(alpha + T);
  if (x === 0) return common + survived;
  const droppedOut = betaln(a + 1, b + x - 1) - (r + x) * Math.log(alpha + tx);
  return common + logAddExp(survived, droppedOut);
}

export interface Fit<P> {
  params: P;
  logLikelihood: number;
  customers: number;
  converged: boolean;
}

/**
 * The summed log-likelihood of many customers, arranged for speed: the gamma and beta terms
 * depend on x alone, so they are computed once per distinct x, leaving two logarithms per
 * customer. Equal to the sum of `bgnbdLogLikelihood` (a test checks it).
 */
export function bgnbdTotalLogLikelihood(data: readonly RfmSummary[]): (params: BgNbdParams) => number {
  const byX = new Map<number, { tx: number[]; T: number[] }>();
  for (const { x, tx, T } of data) {
    const group = byX.get(x) ?? { tx: [], T: [] };
    group.tx.push(tx);
    group.T.push(T);
    byX.set(x, group);
  }
  const groups = [...byX].map(([x, g]) => ({ x, tx: Float64Array.from(g.tx), T: Float64Array.from(g.T) }));
  return ({ r, alpha, a, b }) => {
    let total = 0;
    const base = betaln(a, b);
    for (const { x, tx, T } of groups) {
      const common = gammaln(r + x) - gammaln(r) + r * Math.log(alpha) - base;
      const survived = betaln(a, b + x);
      const droppedOut = x > 0 ? betaln(a + 1, b + x - 1) : -Infinity;
      const power = r + x;
      for (let i = 0; i < T.length; i++) {
        const s = survived - power * Math.log(alpha + T[i]!);
        total += common + (x > 0 ? logAddExp(s, droppedOut - power * Math.log(alpha + tx[i]!)) : s);
      }
    }
    return total;
  };
}

/** Maximum-likelihood fit. */
export function fitBgNbd(data: readonly RfmSummary[], start: BgNbdParams = { r: 1, alpha: 1, a: 1, b: 1 }): Fit<BgNbdParams> {
  const logLikelihood = bgnbdTotalLogLikelihood(data);
  const fromLog = ([lr, lalpha, la, lb]: number[]): BgNbdParams => ({ r: Math.exp(lr!), alpha: Math.exp(lalpha!), a: Math.exp(la!), b: Math.exp(lb!) });
  const negLL = (point: number[]) => -logLikelihood(fromLog(point));
  // Parameters stay within [e^-10, e^10]: a flat likelihood (data that do not identify the model)
  // then ends at a bound instead of drifting forever.
  const result = nelderMead(negLL, [start.r, start.alpha, start.a, start.b].map(Math.log), { tolerance: 1e-12, bound: 10, maxIterations: 4000 });
  return { params: fromLog(result.point), logLikelihood: -result.value, customers: data.length, converged: result.converged };
}

/** P(alive | x, tx, T). A customer without repeat purchases is alive for sure under BG/NBD. */
export function probabilityAlive({ r, alpha, a, b }: BgNbdParams, { x, tx, T }: RfmSummary): number {
  if (x === 0) return 1;
  const logRatio = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(logRatio));
}

/** Expected purchases in the next `t` weeks given the history (eq. 10 of the paper). */
export function expectedPurchases({ r, alpha, a, b }: BgNbdParams, { x, tx, T }: RfmSummary, t: number): number {
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  const head = (a + b + x - 1) / (a - 1);
  const tail = 1 - Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + T + t))) * hyp2f1(r + x, b + x, a + b + x - 1, z);
  const denominator = x > 0 ? 1 + (a / (b + x - 1)) * Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))) : 1;
  return (head * tail) / denominator;
}
