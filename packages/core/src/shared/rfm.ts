/** The named RFM groups. PROSPECTS is for customers without placed orders. */
export const RFM_GROUPS = ['CHAMPIONS', 'LOYAL', 'ACTIVE', 'NEW', 'PROMISING', 'NEEDS_ATTENTION', 'ALMOST_LOST', 'AT_RISK', 'PREVIOUSLY_LOYAL', 'DORMANT', 'PROSPECTS'] as const;
export type RfmGroup = (typeof RFM_GROUPS)[number];

/**
 * Which group each (R, FM) cell belongs to: rows are the recency score R (5 = ordered most
 * recently), columns the FM score 1..5, FM = (F + M) / 2 rounded half up.
 */
export type RfmGrid = Record<'1' | '2' | '3' | '4' | '5', [RfmGroup, RfmGroup, RfmGroup, RfmGroup, RfmGroup]>;

export const DEFAULT_RFM_GRID: RfmGrid = {
  //      FM:  1               2               3                  4            5
  '5': ['NEW', 'ACTIVE', 'ACTIVE', 'CHAMPIONS', 'CHAMPIONS'],
  '4': ['PROMISING', 'ACTIVE', 'ACTIVE', 'LOYAL', 'CHAMPIONS'],
  '3': ['ALMOST_LOST', 'ALMOST_LOST', 'NEEDS_ATTENTION', 'LOYAL', 'LOYAL'],
  '2': ['DORMANT', 'DORMANT', 'AT_RISK', 'AT_RISK', 'PREVIOUSLY_LOYAL'],
  '1': ['DORMANT', 'DORMANT', 'AT_RISK', 'AT_RISK', 'PREVIOUSLY_LOYAL'],
};

/** Checks a grid: five rows of five known groups (PROSPECTS is not a cell: it means no orders). */
export function validateRfmGrid(grid: unknown): string | undefined {
  if (typeof grid !== 'object' || grid === null) return 'analytics.rfmGrid must be an object with rows "1" to "5".';
  for (const r of ['1', '2', '3', '4', '5']) {
    const row = (grid as Record<string, unknown>)[r];
    if (!Array.isArray(row) || row.length !== 5) return `analytics.rfmGrid["${r}"] must list 5 groups, one per FM score 1-5.`;
    for (const group of row) {
      if (!RFM_GROUPS.includes(group as RfmGroup) || group === 'PROSPECTS') {
        return `analytics.rfmGrid["${r}"] has "${String(group)}"; use ${RFM_GROUPS.filter((g) => g !== 'PROSPECTS').join(', ')}.`;
      }
    }
  }
  return undefined;
}

/** FM score from F and M: their mean, rounded half up. */
export const fmScore = (f: number, m: number) => Math.floor((f + m + 1) / 2);
