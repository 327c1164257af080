import { describe, expect, it } from 'vitest';
import { emptyMeasure, scoreList } from './evaluation.js';

describe('scoreList', () => {
  it('splits what a list finds into repeat and explore items, and the parts add up to the whole', () => {
    const m = emptyMeasure();
    // Held out: a (bought before), b (bought before), x (new). The list finds a first and x third.
    scoreList(m, ['a', 'q', 'x', 'r'], ['a', 'b', 'x'], ['a', 'b', 'c'], 4);
    expect(m.all.hits).toBe(1);
    expect(m.all.recall).toBeCloseTo(2 / 3);
    expect(m.repeat.recall).toBeCloseTo(1 / 3);
    expect(m.explore.recall).toBeCloseTo(1 / 3);
    const ideal = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(m.repeat.ndcg).toBeCloseTo(1 / ideal);
    expect(m.explore.ndcg).toBeCloseTo(1 / Math.log2(4) / ideal);
    expect(m.repeat.ndcg + m.explore.ndcg).toBeCloseTo(m.all.ndcg);
    expect([m.repeat.hits, m.explore.hits]).toEqual([1, 1]);
  });

  it('counts a list that finds only new items as explore, and nothing past k', () => {
    const m = emptyMeasure();
    scoreList(m, ['y', 'z', 'a'], ['a', 'y'], ['a'], 2);
    expect(m.repeat).toEqual({ hits: 0, recall: 0, ndcg: 0 });
    expect(m.explore.recall).toBeCloseTo(1 / 2);
    expect(m.all.recall).toBeCloseTo(m.repeat.recall + m.explore.recall);
  });
});
