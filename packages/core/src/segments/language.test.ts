import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { SEGMENT_ATTRIBUTES as ATTRIBUTES, SEGMENT_FUNCTIONS as FUNCTIONS, compileSegmentQuery } from '../modules.js';
import { CALLS } from './language.js';

const options = { timeZone: 'UTC', currency: 'USD', today: '2026-11-22' };

it('every attribute, function and argument is documented in docs/segments.md', async () => {
  const docs = await readFile(new URL('../../../../docs/segments.md', import.meta.url), 'utf8');
  for (const attribute of ATTRIBUTES) expect(docs, attribute.name).toContain(`| \`${attribute.name}\` |`);
  for (const fn of FUNCTIONS) {
    expect(docs, fn.name).toContain(`### \`${fn.name} MATCHES (...)\``);
    for (const arg of fn.args) expect(docs, `${fn.name}.${arg.name}`).toMatch(new RegExp(`\\| \`${arg.name}[ \`]`));
  }
  for (const call of Object.keys(CALLS)) expect(docs).toContain(`\`${call}(`);
});

it('every example in the catalog compiles', () => {
  for (const example of [...ATTRIBUTES.map((a) => a.example), ...FUNCTIONS.map((f) => f.example), ...Object.values(CALLS).map((c) => c.example)]) {
    expect(() => compileSegmentQuery(example, options), example).not.toThrow();
  }
});

it('every example in docs/segments.md compiles', async () => {
  const docs = await readFile(new URL('../../../../docs/segments.md', import.meta.url), 'utf8');
  const blocks = [...docs.matchAll(/```(\w*)\n([\s\S]*?)```/g)].filter((m) => m[1] === '').flatMap((m) => m[2]!.split('\n').filter((line) => line.trim()));
  expect(blocks.length).toBeGreaterThan(10);
  for (const line of blocks) expect(() => compileSegmentQuery(line, options), line).not.toThrow();
});
