/**
 * Nelder-Mead simplex minimisation (Lagarias et al. 1998 coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5). Derivative-free and robust for the few smooth parameters of the
 * CLV models, which are optimised in log space so that every point is a valid parameter set.
 */
export interface NelderMeadOptions {
  /** Stop when the simplex's values differ by less than this (default 1e-10). */
  tolerance?: number;
  maxIterations?: number;
  /** Initial step of each coordinate (default 0.5, i.e. a factor e^0.5 in log space). */
  step?: number;
  /** Each coordinate stays within [-bound, bound]; points outside count as +Infinity. */
  bound?: number;
}

export interface Minimum {
  point: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

export function nelderMead(f: (x: number[]) => number, start: number[], options: NelderMeadOptions = {}): Minimum {
  const n = start.length;
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 2000 * n;
  const step = options.step ?? 0.5;
  const bound = options.bound ?? Infinity;
  const value = (x: number[]) => {
    if (x.some((v) => Math.abs(v) > bound)) return Infinity;
    const y = f(x);
    return Number.isFinite(y) ? y : Infinity;
  };

  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))].map((point) => ({ point, value: value(point) }));
  const combine = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i]! - v));

  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.value - q.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.value - best.value) <= tolerance * (Math.abs(best.value) + tolerance)) {
      const spread = Math.max(...simplex.map((p) => Math.max(...p.point.map((v, i) => Math.abs(v - best.point[i]!)))));
      if (spread < 1e-8 || Math.abs(worst.value - best.value) === 0) return { point: best.point, value: best.value, iterations, converged: true };
    }
    const centroid = start.map((_, i) => simplex.slice(0, n).reduce((s, p) => s + p.point[i]!, 0) / n);
    const reflected = combine(centroid, worst.point, -1);
    const fr = value(reflected);
    if (fr < best.value) {
      const expanded = combine(centroid, worst.point, -2);
      const fe = value(expanded);
      simplex[n] = fe < fr ? { point: expanded, value: fe } : { point: reflected, value: fr };
      continue;
    }
    if (fr < simplex[n - 1]!.value) {
      simplex[n] = { point: reflected, value: fr };
      continue;
    }
    const outside = fr < worst.value;
    const contracted = outside ? combine(centroid, reflected, 0.5) : combine(centroid, worst.point, 0.5);
    const fc = value(contracted);
    if (fc < (outside ? fr : worst.value)) {
      simplex[n] = { point: contracted, value: fc };
      continue;
    }
    simplex = simplex.map((p, i) => (i === 0 ? p : { point: combine(best.point, p.point, 0.5), value: value(combine(best.point, p.point, 0.5)) }));
  }
  simplex.sort((p, q) => p.value - q.value);
  return { point: simplex[0]!.point, value: simplex[0]!.value, iterations, converged: false };
}
