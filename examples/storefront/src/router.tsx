import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';

const BASE = '/storefront';

/** The path under /storefront, kept in step with the browser's history. */
export function usePath(): string {
  const [path, setPath] = useState(() => location.pathname.slice(BASE.length) || '/');
  useEffect(() => {
    const onPop = () => setPath(location.pathname.slice(BASE.length) || '/');
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return path;
}

export function navigate(path: string): void {
  history.pushState(null, '', `${BASE}${path}`);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={`${BASE}${to}`} onClick={onClick} className={className}>
      {children}
    </a>
  );
}
