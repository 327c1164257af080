import { type ChildProcess, fork } from 'node:child_process';
import type { ServerKind } from './query.js';

/**
 * The benchmark servers run each in a process of their own (server-process.ts), so that each has
 * its own CPU time and memory: started, asked for their port and peak RSS, stopped.
 */
export interface Running {
  kind: ServerKind;
  name: string;
  child: ChildProcess;
  url: string;
}

export function ask<T>(child: ChildProcess, message: string | null, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Record<string, unknown>) => {
      if (key in reply) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(reply[key] as T);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`the benchmark server exited (code ${code}) before answering "${key}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message) child.send(message);
  });
}

function cpuProfile(kind: ServerKind): string[] {
  const [profiled, dir] = (process.env.BENCH_CPU_PROFILE ?? '').split(':');
  return profiled === kind ? ['--cpu-prof', `--cpu-prof-dir=${dir || '.'}`] : [];
}

export async function startServer(kind: ServerKind, name: string, databaseUrl: string, poolSize: number, replicas: string[] = []): Promise<Running> {
  const child = fork(new URL('./server-process.ts', import.meta.url).pathname, [kind, databaseUrl, String(poolSize), replicas.join(',')], {
    // BENCH_CPU_PROFILE=<kind>:<dir> writes a V8 CPU profile of that server (open it in Chrome DevTools).
    execArgv: ['--conditions=@kokyaku/source', '--import', 'tsx', ...cpuProfile(kind)],
    env: { ...process.env, NODE_ENV: 'production' },
    // Kokyaku logs a JSON line per request to stdout, as in production: written, then dropped.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const port = await ask<number>(child, null, 'port');
    return { kind, name, child, url: `http://127.0.0.1:${port}/graphql` };
  } catch (error) {
    await stopServer(child);
    throw error;
  }
}

/** Asks a server to stop; kills it when it has not exited 10 s later (or cannot be asked). */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    try {
      child.send('stop');
    } catch {
      child.kill('SIGKILL');
    }
  });
}

/** What one server did over the rounds: the median round's throughput and latencies, and all its requests. */
export interface RoundsResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

/**
 * A warm-up per server, then `rounds` rounds in which the servers take turns (the order rotates
 * each round) so that machine noise hits all of them; the median round counts.
 */
export async function interleavedRounds(
  running: readonly Running[],
  load: (server: Running, seconds: number) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number } }>,
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<Map<ServerKind, RoundsResult>> {
  for (const s of running) await load(s, options.warmupSeconds);
  const samples = new Map(running.map((s) => [s.kind, { rps: [] as number[], p50: [] as number[], p99: [] as number[], requests: 0 }]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < running.length; i++) {
      const s = running[(round + i) % running.length]!;
      const r = await load(s, options.seconds);
      const sample = samples.get(s.kind)!;
      sample.rps.push(r.requests.average);
      sample.p50.push(r.latency.p50);
      sample.p99.push(r.latency.p99);
      sample.requests += r.requests.total;
      log(`  round ${round + 1}, ${s.name}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return new Map(
    [...samples].map(([kind, sample]) => [kind, { requestsPerSecond: median(sample.rps), p50Ms: median(sample.p50), p99Ms: median(sample.p99), requests: sample.requests }]),
  );
}

/** An autocannon result, or an error naming the server when any request failed or timed out. */
export function clean<R extends { errors: number; non2xx: number; timeouts: number }>(server: Running, result: R): R {
  if (result.errors || result.non2xx || result.timeouts) {
    throw new Error(`${server.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers, ${result.timeouts} timeouts under load`);
  }
  return result;
}
