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

export async function startServer(kind: ServerKind, name: string, databaseUrl: string, poolSize: number): Promise<Running> {
  const child = fork(new URL('./server-process.ts', import.meta.url).pathname, [kind, databaseUrl, String(poolSize)], {
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
