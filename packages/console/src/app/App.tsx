import type { KokyakuClientError } from '@kokyaku/client';
import { useViewerQuery } from '@kokyaku/client/react';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, lazy, Suspense, useState } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { readToken, saveToken } from './auth.js';
import type { ConsoleConfig } from './config.js';
import { I18nProvider, type Language, useI18n } from './i18n.js';
import { Dashboard } from './screens/Dashboard.js';
import { Find } from './screens/Find.js';
import { ImportScreen } from './screens/Import.js';
import { JourneyDetail, Journeys } from './screens/Journeys.js';
import { Profile } from './screens/Profile.js';
import { Work } from './screens/Work.js';
import { ErrorNote, Loading } from './ui.js';
import { ViewerContext, type ViewerInfo } from './viewer.js';

// The segment editor (CodeMirror) loads when a segments page is opened: the first page stays small.
const Segments = lazy(() => import('./screens/Segments.js').then((m) => ({ default: m.Segments })));
const SegmentDetail = lazy(() => import('./screens/Segments.js').then((m) => ({ default: m.SegmentDetail })));

const GUEST_SHOP = { currency: 'USD', timeZone: 'UTC' };

export function App({ config }: { config: ConsoleConfig }) {
  const viewer = useViewerQuery(undefined, { staleTime: Infinity });
  const unauthenticated = (viewer.error as KokyakuClientError | null)?.code === 'UNAUTHENTICATED' || (viewer.error as KokyakuClientError | null)?.code === 'FORBIDDEN';
  if (viewer.isPending) {
    return (
      <I18nProvider shop={GUEST_SHOP}>
        <main className="center">
          <Loading />
        </main>
      </I18nProvider>
    );
  }
  if (!viewer.data) {
    return (
      <I18nProvider shop={GUEST_SHOP}>
        {unauthenticated ? (
          <SignIn config={config} rejected={Boolean(readToken())} />
        ) : (
          <main className="center">
            <ErrorNote error={viewer.error} retry={() => void viewer.refetch()} />
          </main>
        )}
      </I18nProvider>
    );
  }
  return (
    <ViewerContext.Provider value={viewer.data.viewer}>
      <I18nProvider shop={viewer.data.viewer.shop}>
        <Router base={config.base}>
          <Shell config={config} viewer={viewer.data.viewer} />
        </Router>
      </I18nProvider>
    </ViewerContext.Provider>
  );
}

function SignIn({ config, rejected }: { config: ConsoleConfig; rejected: boolean }) {
  const { t } = useI18n();
  const queries = useQueryClient();
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    saveToken(token.trim() || null);
    void queries.resetQueries();
  };
  return (
    <main className="center">
      <form className="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t('signin.title')}</h1>
        {rejected ? (
          <p className="error" role="alert">
            {t('signin.wrong')}
          </p>
        ) : null}
        <label htmlFor="token">{t('signin.token')}</label>
        <input id="token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} required />
        <p className="muted">{t('signin.help')}</p>
        <button type="submit" className="primary">
          {t('signin.submit')}
        </button>
        {config.signInUrl ? (
          <p>
            <a href={config.signInUrl}>{t('signin.host')}</a>
          </p>
        ) : null}
        <LanguageSwitch />
      </form>
    </main>
  );
}

function LanguageSwitch() {
  const { t, language, setLanguage } = useI18n();
  return (
    <label className="lang">
      <span className="visually-hidden">{t('lang.label')}</span>
      <select aria-label={t('lang.label')} value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
        <option value="ja">日本語</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

const NAV = [
  ['/', 'nav.find'],
  ['/dashboard', 'nav.dashboard'],
  ['/segments', 'nav.segments'],
  ['/work', 'nav.work'],
  ['/journeys', 'nav.journeys'],
  ['/import', 'nav.import'],
] as const;

function Shell({ config, viewer }: { config: ConsoleConfig; viewer: ViewerInfo }) {
  const { t } = useI18n();
  const [location] = useLocation();
  const [menu, setMenu] = useState(false);
  const queries = useQueryClient();
  const current = (path: string) => (path === '/' ? location === '/' || location.startsWith('/customers') : location.startsWith(path));
  const signOut = () => {
    saveToken(null);
    void queries.resetQueries();
  };
  return (
    <>
      <a className="skip" href="#content">
        {t('app.skip')}
      </a>
      <header className="top">
        <Link href="/" className="brand">
          {config.title}
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menu} aria-controls="main-nav" onClick={() => setMenu(!menu)}>
          {t('nav.menu')}
        </button>
        <nav id="main-nav" aria-label={t('nav.label')} className={menu ? 'open' : undefined}>
          <ul>
            {NAV.filter(([path]) => path !== '/import' || viewer.can.admin).map(([path, key]) => (
              <li key={path}>
                <Link href={path} aria-current={current(path) ? 'page' : undefined} onClick={() => setMenu(false)}>
                  {t(key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted" title={viewer.roles.join(', ')}>
            {viewer.id} · {viewer.roles.join(', ')}
          </span>
          <LanguageSwitch />
          {readToken() ? (
            <button type="button" className="link" onClick={signOut}>
              {t('signout')}
            </button>
          ) : null}
        </div>
      </header>
      {!viewer.can.contactData ? (
        <p className="banner" role="note">
          {t('readonly')}
        </p>
      ) : null}
      <main id="content" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/" component={Find} />
            <Route path="/customers/:id">{(params) => <Profile id={params.id} />}</Route>
            <Route path="/dashboard" component={Dashboard} />
            <Route path="/segments" component={Segments} />
            <Route path="/segments/new" component={Segments} />
            <Route path="/segments/:id">{(params) => <SegmentDetail id={params.id} />}</Route>
            <Route path="/work">
              <Redirect to="/work/tasks" replace />
            </Route>
            <Route path="/work/:tab/:id?">{(params) => <Work tab={params.tab} id={params.id} />}</Route>
            <Route path="/journeys" component={Journeys} />
            <Route path="/journeys/:id">{(params) => <JourneyDetail id={params.id} />}</Route>
            <Route path="/import" component={ImportScreen} />
            <Route>
              <p>404</p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </>
  );
}
