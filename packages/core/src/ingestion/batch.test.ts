import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { lastPerKey, validateBatch } from './batch.js';

const schema = z.strictObject({ id: z.string().min(1, 'Must not be empty.'), lines: z.array(z.strictObject({ qty: z.number().int().positive('Must be at least 1.') })) });

describe('validateBatch', () => {
  it('reports every bad field by index and path and keeps the good items', () => {
    const { valid, errors } = validateBatch(
      [
        { id: 'a', lines: [] },
        { id: '', lines: [{ qty: 0 }] },
        { id: 'c', lines: [{ qty: 1 }], extra: true },
      ],
      schema,
      'id',
    );
    expect(valid.map((v) => v.index)).toEqual([0]);
    expect(errors).toEqual([
      { index: 1, field: 'id', message: 'Must not be empty.' },
      { index: 1, field: 'lines[0].qty', message: 'Must be at least 1.' },
      { index: 2, field: 'extra', message: 'Unknown field "extra".', externalId: 'c' },
    ]);
  });

  it('keeps the last item of a repeated key', () => {
    const items = [
      { index: 0, value: { k: 'a', v: 1 } },
      { index: 1, value: { k: 'b', v: 2 } },
      { index: 2, value: { k: 'a', v: 3 } },
    ];
    expect(lastPerKey(items, (x) => x.k).map((i) => i.value)).toEqual([
      { k: 'b', v: 2 },
      { k: 'a', v: 3 },
    ]);
  });
});
