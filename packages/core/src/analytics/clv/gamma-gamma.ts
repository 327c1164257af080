import { gammaln } from './special.js';
import { nelderMead } from './nelder-mead.js';
import type { Fit } from './bgnbd.js';

/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's purchase values
 * vary around their mean nu ~ Gamma(q, gamma); values are Gamma(p, nu). Fitted on customers with
 * repeat purchases: x of them with mean value m. Assumes spend is independent of frequency.
 */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface SpendSummary {
  /** Number of repeat purchases (> 0). */
  x: number;
  /** Mean value of those purchases. */
  m: number;
}

export function gammaGammaLogLikelihood({ p, q, gamma }: GammaGammaParams, { x, m }: SpendSummary): number {
  return gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * Math.log(gamma) + (p * x - 1) * Math.log(m) + p * x * Math.log(x) - (p * x + q) * Math.log(gamma + m * x);
}

export function fitGammaGamma(data: readonly SpendSummary[], start: GammaGammaParams = { p: 1, q: 1, gamma: 1 }): Fit<GammaGammaParams> {
  const usable = data.filter((d) => d.x > 0 && d.m > 0);
  const fromLog = ([lp, lq, lg]: number[]): GammaGammaParams => ({ p: Math.exp(lp!), q: Math.exp(lq!), gamma: Math.exp(lg!) });
  // The gamma terms depend on x alone: computed once per distinct x.
  const byX = new Map<number, number[]>();
  for (const d of usable) {
    const ms = byX.get(d.x);
    if (ms) ms.push(d.m);
    else byX.set(d.x, [d.m]);
  }
  const groups = [...byX].map(([x, ms]) => ({ x, m: Float64Array.from(ms) }));
  const negLL = (point: number[]) => {
    const { p, q, gamma } = fromLog(point);
    let total = 0;
    for (const { x, m } of groups) {
      const common = gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * Math.log(gamma) + p * x * Math.log(x);
      for (let i = 0; i < m.length; i++) total += common + (p * x - 1) * Math.log(m[i]!) - (p * x + q) * Math.log(gamma + m[i]! * x);
    }
    return -total;
  };
  const result = nelderMead(negLL, [start.p, start.q, start.gamma].map(Math.log), { tolerance: 1e-12, bound: 10, maxIterations: 3000 });
  return { params: fromLog(result.point), logLikelihood: -result.value, customers: usable.length, converged: result.converged };
}

/** Expected mean purchase value of a customer: the population mean shrunk towards their own. */
export function expectedSpend({ p, q, gamma }: GammaGammaParams, { x, m }: SpendSummary): number {
  const populationMean = (p * gamma) / (q - 1);
  if (x <= 0 || !(m > 0)) return q > 1 ? populationMean : 0;
  return (p * (gamma + m * x)) / (p * x + q - 1);
}
