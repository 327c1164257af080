import { useCustomerSearchQuery } from '@kokyaku/client/react';
import { keepPreviousData } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useState } from 'react';
import { useLocation, useSearch } from 'wouter';
import { useI18n } from '../i18n.js';
import { customerName, ErrorNote } from '../ui.js';

/** A fragment that is a whole phone number: the caller, not a search. */
function looksLikePhone(query: string): boolean {
  const text = query.normalize('NFKC').trim();
  return /^[\d\s()+.\-ー]+$/.test(text) && text.replace(/\D/g, '').length >= 10;
}

export function Find() {
  const { t, language } = useI18n();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const [query, setQuery] = useState(params.get('q') ?? '');
  const [debounced, setDebounced] = useState(query.trim());
  const [active, setActive] = useState(0);
  // Only a number typed here opens the caller: coming back to /?q=<number> shows the results.
  const [typed, setTyped] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(query.trim()), 120);
    return () => clearTimeout(timer);
  }, [query]);
  // The query is kept in the address: back from a profile returns to the same results.
  useEffect(() => {
    const url = debounced ? `/?q=${encodeURIComponent(debounced)}` : '/';
    navigate(url, { replace: true });
  }, [debounced, navigate]);
  const search = useCustomerSearchQuery({ query: debounced, first: 10 }, { enabled: debounced.length > 0, placeholderData: keepPreviousData, staleTime: 5_000 });
  const hits = debounced ? (search.data?.searchCustomers.nodes ?? []) : [];
  const customers = [...new Map(hits.map((h) => [h.customer.id, h])).values()];

  // An incoming call: a whole phone number that names exactly one customer opens them.
  const phoneHit =
    typed && debounced === query.trim() && looksLikePhone(debounced) && !search.isPlaceholderData && customers.length === 1 && customers[0]!.field === 'PHONE'
      ? customers[0]
      : undefined;
  useEffect(() => {
    if (phoneHit) navigate(`/customers/${phoneHit.customer.id}`);
  }, [phoneHit, navigate]);
  useEffect(() => setActive(0), [debounced]);

  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((a) => Math.min(a + 1, customers.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (event.key === 'Enter' && debounced !== query.trim()) {
      // Results of an older text are on screen: look the current one up now instead.
      event.preventDefault();
      setDebounced(query.trim());
    } else if (event.key === 'Enter' && customers[active]) {
      event.preventDefault();
      navigate(`/customers/${customers[active]!.customer.id}`);
    }
  };
  const fields: Record<string, string> = { NAME: 'name', KANA: 'kana', EMAIL: t('profile.email'), PHONE: t('profile.phone'), EXTERNAL_ID: t('profile.shopId') };
  return (
    <div className="find">
      <h1>{t('find.title')}</h1>
      <div className="search-box">
        <label htmlFor="find-input">{t('find.label')}</label>
        <input
          id="find-input"
          type="search"
          role="combobox"
          aria-expanded={customers.length > 0}
          aria-controls="find-results"
          aria-activedescendant={customers[active] ? `hit-${customers[active]!.customer.id}` : undefined}
          aria-autocomplete="list"
          aria-describedby="find-hint"
          autoComplete="off"
          autoFocus
          placeholder={t('find.placeholder')}
          value={query}
          onChange={(e) => (setTyped(true), setQuery(e.target.value))}
          onKeyDown={onKey}
        />
        <p id="find-hint" className="muted">
          {t('find.hint')}
        </p>
      </div>
      {search.error ? <ErrorNote error={search.error} /> : null}
      <ul id="find-results" role="listbox" aria-label={t('find.results')} className="results">
        {customers.map((hit, index) => (
          <li
            key={hit.customer.id}
            id={`hit-${hit.customer.id}`}
            role="option"
            aria-selected={index === active}
            className={index === active ? 'active' : undefined}
            onClick={() => navigate(`/customers/${hit.customer.id}`)}
          >
            <strong>{customerName(hit.customer, language)}</strong>
            {hit.customer.lastNameKana || hit.customer.firstNameKana ? (
              <span className="muted"> {[hit.customer.lastNameKana, hit.customer.firstNameKana].filter(Boolean).join(' ')}</span>
            ) : null}
            <span className="hit-detail">{[hit.customer.email, hit.customer.phone, hit.customer.externalId].filter(Boolean).join(' · ')}</span>
            <span className="tag">{t('find.matched', { field: fields[hit.field] ?? hit.field })}</span>
          </li>
        ))}
      </ul>
      {debounced && search.isSuccess && !search.isPlaceholderData && customers.length === 0 ? <p role="status">{t('find.none', { q: debounced })}</p> : null}
    </div>
  );
}
