import { commands } from '../backend';
import { useCommand } from '../useCommand';
import { ErrorBox } from './ErrorBox';

/** "Local catalog": how many products this till holds, straight from the local store. */
export function CatalogPanel() {
  const [count, retry] = useCommand(commands.localProductCount);

  return (
    <section className="panel" aria-labelledby="catalog-heading" aria-busy={count.status === 'loading'}>
      <h2 id="catalog-heading" className="panel__title">
        Local catalog
      </h2>
      {count.status === 'loading' && <p className="muted">Reading the local store…</p>}
      {count.status === 'error' && (
        <ErrorBox title="Could not read the local catalog" error={count.error} onRetry={retry} />
      )}
      {count.status === 'ok' && (
        <>
          <p className="metric">
            <span className="metric__value" data-testid="product-count">
              {count.data}
            </span>
            <span className="metric__label">{count.data === 1 ? 'product' : 'products'}</span>
          </p>
          {count.data === 0 && (
            <p className="empty-state">
              No products on this till yet. The catalog arrives when the till syncs with the server.
            </p>
          )}
        </>
      )}
    </section>
  );
}
