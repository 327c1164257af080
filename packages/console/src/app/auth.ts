const KEY = 'kokyaku.console.token';

/** The staff token of this tab (sessionStorage: gone when the tab closes). */
export function readToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}
