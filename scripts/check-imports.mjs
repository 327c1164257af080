// The import rules of the packages (docs/architecture.md), part of `pnpm test`:
// - no cycle among the folders of @kokyaku/core (type imports count: a cycle through types is
//   still a cycle in the design); the files directly in src/ are one folder, the top;
// - core never imports another package of ours (the rules in .dependency-cruiser.cjs).
// Prints the cycles it finds with one import of each step, and exits 1.
import { cruise } from 'dependency-cruiser';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rules = require('../.dependency-cruiser.cjs');
const result = await cruise(['packages/core/src'], { ...rules.options, validate: true, ruleSet: { forbidden: rules.forbidden } });
const { modules, summary } = result.output;

const folderOf = (source) => source.match(/^packages\/core\/src\/([^/]+)\//)?.[1] ?? '(top)';
const edges = new Map();
for (const m of modules) {
  if (!m.source.startsWith('packages/core/src/')) continue;
  const from = folderOf(m.source);
  for (const d of m.dependencies) {
    if (!d.resolved.startsWith('packages/core/src/')) continue;
    const to = folderOf(d.resolved);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} -> ${d.resolved}`);
  }
}

// Tarjan's strongly connected components: every component of more than one folder is a cycle.
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function visit(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!state.has(w)) {
      visit(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component);
  }
}
for (const v of edges.keys()) if (!state.has(v)) visit(v);

let failed = false;
for (const component of cycles) {
  failed = true;
  console.error(`core: the folders ${component.sort().join(', ')} import each other:`);
  for (const from of component) {
    for (const [to, example] of edges.get(from) ?? []) if (component.includes(to)) console.error(`  ${from} -> ${to}  (${example})`);
  }
}
for (const v of summary.violations) {
  failed = true;
  console.error(`${v.rule.name}: ${v.from} -> ${v.to}`);
}
if (failed) process.exit(1);
const folders = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
console.log(`core: ${folders.size} folders, ${[...edges.values()].reduce((n, m) => n + m.size, 0)} folder imports, no cycle; core imports no other package of ours.`);
