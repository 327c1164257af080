import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bgnbdLogLikelihood, bgnbdTotalLogLikelihood, expectedPurchases, fitBgNbd, probabilityAlive } from './bgnbd.js';
import { fitGammaGamma } from './gamma-gamma.js';
import { nelderMead } from './nelder-mead.js';
import { hyp2f1 } from './special.js';
import { summarizeCdnow } from './cdnow.js';

const CDNOW = new URL('../../../../../../shared/datasets/cdnow_sample.txt', import.meta.url);

describe('numerics', () => {
  it('Nelder-Mead finds the Rosenbrock minimum', () => {
    const result = nelderMead(([x, y]) => (1 - x!) ** 2 + 100 * (y! - x! ** 2) ** 2, [-1.2, 1], { tolerance: 1e-14 });
    expect(result.point[0]).toBeCloseTo(1, 4);
    expect(result.point[1]).toBeCloseTo(1, 4);
  });

  it('the grouped likelihood equals the sum of the per-customer ones', () => {
    const data = [
      { x: 0, tx: 0, T: 30 },
      { x: 2, tx: 10.5, T: 40 },
      { x: 2, tx: 3, T: 12 },
      { x: 7, tx: 50, T: 52 },
    ];
    const params = { r: 0.3, alpha: 5, a: 0.8, b: 2.5 };
    const sum = data.reduce((s, d) => s + bgnbdLogLikelihood(params, d), 0);
    expect(bgnbdTotalLogLikelihood(data)(params)).toBeCloseTo(sum, 10);
  });

  it('hyp2f1 agrees with closed forms', () => {
    // 2F1(1, 1; 2; z) = -ln(1 - z) / z
    expect(hyp2f1(1, 1, 2, 0.5)).toBeCloseTo(-Math.log(0.5) / 0.5, 12);
    // 2F1(a, b; b; z) = (1 - z)^-a
    expect(hyp2f1(2.5, 3, 3, 0.3)).toBeCloseTo(0.7 ** -2.5, 12);
  });
});

describe.skipIf(!existsSync(CDNOW))('CDNOW sample (Fader, Hardie & Lee 2005)', () => {
  const rows = existsSync(CDNOW) ? readFileSync(CDNOW, 'utf8') : '';
  const { customers } = summarizeCdnow(rows, '1997-09-30');

  it('has the published sample', () => {
    expect(customers.length).toBe(2357);
    expect(customers.filter((c) => c.x > 0).length).toBe(946);
  });

  it('BG/NBD parameters match the published ones within 1%', () => {
    const fit = fitBgNbd(customers);
    const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    for (const [key, value] of Object.entries(published)) {
      expect(Math.abs(fit.params[key as keyof typeof published] / value - 1), `${key} = ${fit.params[key as keyof typeof published]}`).toBeLessThan(0.01);
    }
    expect(Math.abs(fit.logLikelihood / -9582.4 - 1)).toBeLessThan(0.001);
    // The paper's worked example: a customer with x = 2, tx = 30.43, T = 38.86 is expected to make
    // 1.226 purchases in the next 39 weeks.
    expect(expectedPurchases(fit.params, { x: 2, tx: 30.43, T: 38.86 }, 39)).toBeCloseTo(1.226, 2);
    expect(probabilityAlive(fit.params, { x: 0, tx: 0, T: 10 })).toBe(1);
  });

  it('Gamma-Gamma parameters match the published ones within 1%', () => {
    const fit = fitGammaGamma(customers.filter((c) => c.x > 0).map((c) => ({ x: c.x, m: c.m })));
    expect(fit.customers).toBe(946);
    const published = { p: 6.25, q: 3.74, gamma: 15.44 };
    for (const [key, value] of Object.entries(published)) {
      expect(Math.abs(fit.params[key as keyof typeof published] / value - 1), `${key} = ${fit.params[key as keyof typeof published]}`).toBeLessThan(0.01);
    }
  });
});
