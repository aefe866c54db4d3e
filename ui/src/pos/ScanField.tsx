import { type KeyboardEvent, type RefObject, useEffect, useId, useRef, useState } from 'react';
import { commands, toBackendError } from '../backend';
import type { ProductHit } from '../bindings';
import { Kbd } from './Kbd';
import { formatMoney } from './money';

/** How long typing must pause before the catalog is searched. */
export const SEARCH_DEBOUNCE_MS = 120;

/** Digits only: what a barcode scanner types (then Enter). */
const BARCODE = /^\d+$/;

interface ScanFieldProps {
  inputRef: RefObject<HTMLInputElement | null>;
  /** A barcode was entered. */
  onScan: (code: string) => void;
  /** A product was picked from the search results. */
  onPick: (hit: ProductHit) => void;
  /** ↑/↓ in an empty field move the cart's selected line. */
  onMoveSelection: (step: 1 | -1) => void;
  /** Shown next to the field, e.g. "Unknown barcode 123". */
  notice: string | null;
  /** The cashier typed again: the notice is stale. */
  onClearNotice: () => void;
  disabled?: boolean;
}

/**
 * The one field the cashier types and scans into. Digits + Enter is a barcode; anything else
 * searches the catalog by name or SKU as it is typed, and ↑/↓ + Enter (or a click) adds a hit.
 */
export function ScanField({
  inputRef,
  onScan,
  onPick,
  onMoveSelection,
  notice,
  onClearNotice,
  disabled = false,
}: ScanFieldProps) {
  const listId = useId();
  const [text, setText] = useState('');
  const [hits, setHits] = useState<ProductHit[]>([]);
  const [highlight, setHighlight] = useState(0);
  const [searchError, setSearchError] = useState<string | null>(null);
  /** The query the shown hits answer. */
  const [answered, setAnswered] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Only the answer to the latest query may show: an older one can arrive after it.
  const latestQuery = useRef(0);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      latestQuery.current += 1;
    },
    [],
  );

  function cancelSearch() {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    latestQuery.current += 1;
  }

  function search(query: string) {
    const id = ++latestQuery.current;
    commands.findProducts(query).then(
      (found) => {
        if (id !== latestQuery.current) return;
        setHits(found);
        setAnswered(query);
        setHighlight(0);
        setSearchError(null);
      },
      (reason: unknown) => {
        if (id !== latestQuery.current) return;
        setHits([]);
        setSearchError(toBackendError(reason).message);
      },
    );
  }

  function change(next: string) {
    setText(next);
    if (notice !== null) onClearNotice();
    cancelSearch();
    const query = next.trim();
    if (query === '' || BARCODE.test(query)) {
      setHits([]);
      setSearchError(null);
      return;
    }
    timer.current = setTimeout(() => {
      timer.current = null;
      search(query);
    }, SEARCH_DEBOUNCE_MS);
  }

  function reset() {
    cancelSearch();
    setText('');
    setHits([]);
    setAnswered(null);
    setSearchError(null);
  }

  function pick(hit: ProductHit) {
    reset();
    onPick(hit);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    const query = text.trim();
    switch (event.key) {
      case 'Enter': {
        event.preventDefault();
        if (BARCODE.test(query)) {
          reset();
          onScan(query);
          return;
        }
        const hit = hits[highlight];
        if (hit) pick(hit);
        else if (query !== '') {
          // Enter before the pause: search now rather than wait.
          cancelSearch();
          search(query);
        }
        return;
      }
      case 'ArrowDown':
      case 'ArrowUp': {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        if (hits.length > 0) setHighlight((h) => (h + step + hits.length) % hits.length);
        else if (query === '') onMoveSelection(step);
        return;
      }
      case 'Escape':
        if (text !== '') {
          event.preventDefault();
          reset();
        }
        return;
    }
  }

  const open = hits.length > 0;
  const active = open ? `${listId}-${highlight}` : undefined;

  return (
    <div className="scan">
      <label className="scan__label" htmlFor={`${listId}-input`}>
        Scan or search <Kbd>F2</Kbd>
      </label>
      <div className="scan__box">
        <input
          id={`${listId}-input`}
          ref={inputRef}
          className="input scan__input"
          data-testid="pos-scan"
          type="text"
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={active}
          aria-autocomplete="list"
          aria-keyshortcuts="F2"
          autoComplete="off"
          spellCheck={false}
          placeholder="Scan a barcode, or type a name or SKU"
          disabled={disabled}
          value={text}
          onChange={(e) => {
            change(e.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        {open && (
          <ul className="scan__hits" id={listId} role="listbox" aria-label="Products found">
            {hits.map((hit, i) => (
              <li
                key={hit.productId}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === highlight}
                className="scan__hit"
                // Keep the keyboard in the field: the click adds, it does not move focus.
                onMouseDown={(e) => {
                  e.preventDefault();
                }}
                onClick={() => {
                  pick(hit);
                }}
              >
                <span className="scan__hit-name">{hit.name}</span>
                <span className="scan__hit-sku">
                  {hit.sku}
                  {hit.unit === 'kg' ? ' · per kg' : ''}
                </span>
                <span className="scan__hit-price">{formatMoney(hit.priceMinor, hit.minorUnits, hit.currency)}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      {notice !== null && (
        <p className="scan__notice" role="alert" data-testid="scan-notice">
          {notice}
        </p>
      )}
      {searchError !== null && (
        <p className="scan__notice" role="alert">
          Search failed: {searchError}
        </p>
      )}
      {!open && searchError === null && answered !== null && answered === text.trim() && (
        <p className="scan__hint muted" role="status">
          No product matches “{answered}”.
        </p>
      )}
    </div>
  );
}
