/** What the server that mounts the console tells it, in a JSON script of index.html. */
export interface ConsoleConfig {
  /** The GraphQL endpoint, e.g. /crm/graphql. */
  graphql: string;
  /** The console's own path, e.g. /crm/console. */
  base: string;
  /** Where the host's own sign-in page is, if it has one (else the console asks for a token). */
  signInUrl: string | null;
  /** Shown in the header. */
  title: string;
}

export function readConfig(): ConsoleConfig {
  const element = document.getElementById('kokyaku-config');
  const given = element?.textContent ? (JSON.parse(element.textContent) as Partial<ConsoleConfig>) : {};
  // `vite dev` without a server in front: the API beside the page.
  return {
    graphql: given.graphql ?? '/graphql',
    base: (given.base ?? '').replace(/\/$/, ''),
    signInUrl: given.signInUrl ?? null,
    title: given.title ?? 'Kokyaku',
  };
}
