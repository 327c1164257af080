/**
 * `pnpm analytics:cdnow`: fits BG/NBD and Gamma-Gamma to the CDNOW sample (Fader, Hardie & Lee
 * 2005) with the paper's conventions and prints them beside the published parameters.
 * Reads ../shared/datasets/cdnow_sample.txt, or the file given as the first argument.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fitBgNbd, fitGammaGamma } from '@kokyaku/core';
import { summarizeCdnow } from '../packages/core/src/analytics/clv/cdnow.js';

const file = process.argv[2] ?? path.resolve(import.meta.dirname, '../../shared/datasets/cdnow_sample.txt');
if (!existsSync(file)) {
  process.stderr.write(`No CDNOW sample at ${file}; pass its path: pnpm analytics:cdnow <file>\n`);
  process.exit(1);
}
const { customers } = summarizeCdnow(readFileSync(file, 'utf8'), '1997-09-30');
const bgnbd = fitBgNbd(customers);
const gg = fitGammaGamma(customers.filter((c) => c.x > 0));
const row = (name: string, fitted: number, published: number) =>
  `  ${name.padEnd(14)} ${fitted.toFixed(4).padStart(10)} ${published.toFixed(3).padStart(10)} ${((fitted / published - 1) * 100).toFixed(2).padStart(7)}%`;
process.stdout.write(
  [
    `CDNOW sample: ${customers.length} customers, ${customers.filter((c) => c.x > 0).length} with repeat purchases (calibration to 1997-09-30)`,
    '  parameter          fitted  published     diff',
    row('BG/NBD r', bgnbd.params.r, 0.243),
    row('BG/NBD alpha', bgnbd.params.alpha, 4.414),
    row('BG/NBD a', bgnbd.params.a, 0.793),
    row('BG/NBD b', bgnbd.params.b, 2.426),
    row('log-lik.', bgnbd.logLikelihood, -9582.4),
    row('GG p', gg.params.p, 6.25),
    row('GG q', gg.params.q, 3.74),
    row('GG gamma', gg.params.gamma, 15.44),
    '',
  ].join('\n'),
);
