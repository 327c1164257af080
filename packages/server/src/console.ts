import type { ConsoleAssets } from '@kokyaku/console';

export interface ConsoleOptions {
  /** The name in the console's header (default "Kokyaku"). */
  title?: string;
  /**
   * The host's own sign-in page, linked from the console's sign-in screen. Without one the console
   * asks for a bearer token (what `kokyaku serve` and the example shop use).
   */
  signInUrl?: string;
}

/** One answer of the console: what a mount writes back. */
export interface ConsoleResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

export interface ConsoleSite {
  /**
   * The answer to a GET of a console path. `file` is the path under the console ('' for its root),
   * `base` the console's absolute path (e.g. /crm/console) and `graphql` the API's.
   */
  answer(request: { file: string; base: string; graphql: string }): ConsoleResponse;
}

/** `/crm/graphql` -> `/crm/console`: the console is served beside the API. */
export function consolePathBeside(graphqlPath: string): string {
  const trimmed = graphqlPath.replace(/\/+$/, '');
  const parent = trimmed.slice(0, trimmed.lastIndexOf('/'));
  return `${parent}/console`;
}

const escapeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

// The console is a same-origin app: its scripts and styles are its own files, it talks only to the
// API beside it, and no other site may frame it. CodeMirror writes its styles at run time.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

async function loadAssets(): Promise<ConsoleAssets> {
  let module: typeof import('@kokyaku/console');
  try {
    module = await import('@kokyaku/console');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error('The staff console needs the package @kokyaku/console: install it (npm install @kokyaku/console) or leave the console option off.');
  }
  return module.loadConsoleAssets();
}

/**
 * The staff console (@kokyaku/console) for a mount: its static files from memory, and its
 * index.html (told where the API is) for every other path under it: the console's own routes.
 */
export async function consoleSite(options: ConsoleOptions): Promise<ConsoleSite> {
  const assets = await loadAssets();
  const template = assets.get('index.html')!.body.toString('utf8');
  const pages = new Map<string, string>();
  const page = (base: string, graphql: string) => {
    const key = `${base}\n${graphql}`;
    let html = pages.get(key);
    if (!html) {
      const config = { graphql, base, signInUrl: options.signInUrl ?? null, title: options.title ?? 'Kokyaku' };
      html = template
        .replace('<!--kokyaku-config-->', `<base href="${escapeAttribute(`${base}/`)}">\n    <script id="kokyaku-config" type="application/json">${escapeJson(config)}</script>`)
        .replace('<title>Kokyaku</title>', `<title>${escapeAttribute(config.title)}</title>`);
      if (pages.size < 16) pages.set(key, html);
    }
    return html;
  };
  return {
    answer({ file, base, graphql }) {
      const asset = file && file !== 'index.html' ? assets.get(file) : undefined;
      if (asset) {
        return {
          status: 200,
          headers: { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache' },
          body: asset.body,
        };
      }
      // A missing hashed file is a page of an older build asking for its scripts: 404, not the app.
      if (file.startsWith('assets/')) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
      return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: page(base, graphql) };
    },
  };
}

/** The console's options from a mount's `console` option, or null when it is off. */
export function consoleOptions(option: boolean | ConsoleOptions | undefined): ConsoleOptions | null {
  return option ? (option === true ? {} : option) : null;
}
