import { createRequire } from 'node:module';
import path from 'node:path';

export interface ExplorerOptions {
  /** Headers the explorer starts with, e.g. `{ Authorization: 'Bearer ...' }`. */
  defaultHeaders?: Record<string, string>;
  /** The query shown on first visit. */
  defaultQuery?: string;
}

interface Asset {
  path: string;
  type: string;
}

const require = createRequire(import.meta.url);

/**
 * The explorer is GraphiQL 3 with React 18, served from the installed packages: no CDN, so it
 * works offline. They are optional peer dependencies of @kokyaku/server.
 */
export function explorerAssets(): Map<string, Asset> {
  const resolve = (pkg: string, file: string) => {
    try {
      return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
    } catch {
      throw new Error(
        `The GraphQL explorer needs the packages graphiql@3, react@18 and react-dom@18 (missing: ${pkg}). ` +
          'Install them (pnpm add graphiql@3 react@18 react-dom@18) or turn the explorer off.',
      );
    }
  };
  return new Map([
    ['react.js', { path: resolve('react', 'umd/react.production.min.js'), type: 'js' }],
    ['react-dom.js', { path: resolve('react-dom', 'umd/react-dom.production.min.js'), type: 'js' }],
    ['graphiql.js', { path: resolve('graphiql', 'graphiql.min.js'), type: 'js' }],
    ['graphiql.css', { path: resolve('graphiql', 'graphiql.min.css'), type: 'css' }],
  ]);
}

const escapeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const DEFAULT_QUERY = `# Kokyaku CRM explorer. Press the play button (or Ctrl-Enter) to run.
query Customers {
  customers(first: 5) {
    totalCount
    nodes {
      externalId
      firstName
      lastName
      metrics { ordersCount totalSpent lastOrderAt }
    }
  }
}
`;

export function explorerHtml(endpoint: string, options: ExplorerOptions = {}): string {
  const base = `${endpoint.replace(/\/$/, '')}/__explorer`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kokyaku GraphQL explorer</title>
<link rel="stylesheet" href="${base}/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<script src="${base}/react.js"></script>
<script src="${base}/react-dom.js"></script>
<script src="${base}/graphiql.js"></script>
<script>
  const endpoint = ${escapeJson(endpoint)};
  const fetcher = GraphiQL.createFetcher({ url: endpoint });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: ${escapeJson(options.defaultQuery ?? DEFAULT_QUERY)},
      defaultHeaders: ${escapeJson(JSON.stringify(options.defaultHeaders ?? {}, null, 2))},
      shouldPersistHeaders: true,
    }),
  );
</script>
</body>
</html>`;
}
