import { useEffect, useState } from 'react';
import { listen } from '../backend';
import type { CatalogProgress as Progress } from '../bindings';

/** Subscribes with `subscribe` for the component's life, ignoring failures to listen. */
function useSubscription(subscribe: () => Promise<() => void>): void {
  useEffect(() => {
    let stop: (() => void) | null = null;
    let gone = false;
    subscribe().then(
      (unlisten) => {
        if (gone) unlisten();
        else stop = unlisten;
      },
      () => undefined,
    );
    return () => {
      gone = true;
      stop?.();
    };
    // The subscription is made once, for the life of the component.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}

/**
 * A large catalog arriving (a till's first pull of a big catalog takes a while): how much has
 * been stored and, when the server says, how much is still to come. Selling goes on meanwhile
 * with what has arrived, so this is a quiet bar in the header, never a blocking screen.
 */
export function CatalogProgress() {
  const [progress, setProgress] = useState<Progress | null>(null);
  useSubscription(() =>
    listen.catalogProgress((p) => {
      setProgress(p.more ? p : null);
    }),
  );
  useSubscription(() =>
    listen.catalogSynced(() => {
      setProgress(null);
    }),
  );
  if (progress === null) return null;
  const total = progress.remaining === null ? null : progress.records + progress.remaining;
  const received = progress.records.toLocaleString();
  return (
    <div className="catalog-progress" role="status" data-testid="catalog-progress">
      <span>
        Catalog: {received}
        {total === null ? ' received' : ` of ${total.toLocaleString()}`}
      </span>
      {total === null ? (
        <progress aria-label="Catalog arriving" />
      ) : (
        <progress aria-label="Catalog arriving" value={progress.records} max={total} />
      )}
    </div>
  );
}
