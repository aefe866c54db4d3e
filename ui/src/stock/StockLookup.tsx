import { type SyntheticEvent, useEffect, useId, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { ProductHit, StockOnHand } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { describeStock } from './stockText';

type Load<T> = { status: 'idle' } | { status: 'loading' } | { status: 'ok'; data: T } | { status: 'error'; error: BackendError };

/** The Stock screen's lookup: search the local catalog, pick a product, see its stock. */
export function StockLookup({ now = () => new Date() }: { now?: () => Date }) {
  const inputId = useId();
  const [text, setText] = useState('');
  const [hits, setHits] = useState<Load<ProductHit[]>>({ status: 'idle' });
  const [chosen, setChosen] = useState<ProductHit | null>(null);

  function search(event: SyntheticEvent) {
    event.preventDefault();
    const query = text.trim();
    if (query === '') return;
    setHits({ status: 'loading' });
    commands.findStockProducts(query).then(
      (data) => {
        setHits({ status: 'ok', data });
      },
      (reason: unknown) => {
        setHits({ status: 'error', error: toBackendError(reason) });
      },
    );
  }

  return (
    <section className="panel" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`} className="panel__title">
        Stock lookup
      </h2>
      <form className="field" role="search" onSubmit={search}>
        <label className="field__label" htmlFor={inputId}>
          Product name or SKU
        </label>
        <input
          id={inputId}
          className="input"
          type="search"
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
          }}
        />
        <button type="submit" className="button button--secondary">
          Search
        </button>
      </form>
      {hits.status === 'loading' && <p className="muted">Searching…</p>}
      {hits.status === 'error' && <ErrorBox title="Could not search the catalog" error={hits.error} />}
      {hits.status === 'ok' && hits.data.length === 0 && <p className="empty-state">No product matches.</p>}
      {hits.status === 'ok' && hits.data.length > 0 && (
        <ul className="stock-hits" aria-label="Products found">
          {hits.data.map((hit) => (
            <li key={hit.productId}>
              <button
                type="button"
                className="button button--ghost"
                aria-pressed={chosen?.productId === hit.productId}
                onClick={() => {
                  setChosen(hit);
                }}
              >
                {hit.name} <span className="muted">{hit.sku}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {chosen && <StockFigure key={chosen.productId} product={chosen} now={now} />}
    </section>
  );
}

function StockFigure({ product, now }: { product: ProductHit; now: () => Date }) {
  const [stock, setStock] = useState<Load<StockOnHand>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let active = true;
    commands.stockOnHand(product.productId).then(
      (data) => {
        if (active) setStock({ status: 'ok', data });
      },
      (reason: unknown) => {
        if (active) setStock({ status: 'error', error: toBackendError(reason) });
      },
    );
    return () => {
      active = false;
    };
  }, [product.productId, attempt]);

  const retry = () => {
    setStock({ status: 'loading' });
    setAttempt((n) => n + 1);
  };

  return (
    <div className="stock-figure" data-testid="stock-figure" aria-live="polite">
      <h3 className="stock-figure__name">{product.name}</h3>
      {stock.status === 'loading' && <p className="muted">Reading the stock figure…</p>}
      {stock.status === 'error' && <ErrorBox title="Could not read the stock figure" error={stock.error} onRetry={retry} />}
      {stock.status === 'ok' && <StockDescription stock={stock.data} product={product} now={now()} />}
    </div>
  );
}

function StockDescription({ stock, product, now }: { stock: StockOnHand; product: ProductHit; now: Date }) {
  const text = describeStock(stock, product.unit, now);
  return (
    <>
      {text.estimate !== null && (
        <p className="metric">
          <span className="metric__label">On hand (estimate):</span>{' '}
          <span className="metric__value" data-testid="stock-estimate">
            {text.estimate}
          </span>
        </p>
      )}
      <p data-testid="stock-detail">{text.detail}</p>
    </>
  );
}
