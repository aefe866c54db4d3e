import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { type BackendError, commands, listen, toBackendError } from '../backend';
import type { CartLineView, CartView, PosState, PrintedReceipt, SaleDone } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { beep } from './beep';
import { BlockedSelling } from './BlockedSelling';
import { CartTable } from './CartTable';
import { Kbd } from './Kbd';
import { OpenTillPanel } from './OpenTillPanel';
import { ConfirmVoidDialog, ParkDialog, ParkedDialog } from './ParkDialogs';
import { ReceiptDialog } from './ReceiptDialog';
import { RefundDialog } from './RefundDialog';
import { ScanField } from './ScanField';
import { TenderDialog } from './TenderDialog';
import { CloseTillDialog, XReportDialog } from './TillReportDialogs';
import { TotalsPanel } from './TotalsPanel';

/** What is open over the selling screen; null while selling. */
type Overlay =
  | { kind: 'tender' }
  | { kind: 'receipt'; saleId: string; printed: PrintedReceipt }
  | { kind: 'refund' }
  | { kind: 'x-report' }
  | { kind: 'close-till' }
  | { kind: 'park' }
  | { kind: 'parked' }
  | { kind: 'void' };

type How = 'enter' | 'blur' | 'click';

/**
 * The till at work: opening it, selling (scan, search, edit the cart, park, void), paying,
 * receipts, refunds and the session's reports. The backend holds the cart; this keeps the
 * last view of it and sends each change in the order the cashier made it.
 */
export function PosWorkspace() {
  const [state, setState] = useState<PosState | null>(null);
  const [loadError, setLoadError] = useState<BackendError | null>(null);
  const [overlay, setOverlay] = useState<Overlay | null>(null);
  const [actionError, setActionError] = useState<{ title: string; error: BackendError } | null>(null);
  const [scanNotice, setScanNotice] = useState<string | null>(null);
  const [selectedLineId, setSelectedLineId] = useState<number | null>(null);
  const scanRef = useRef<HTMLInputElement>(null);
  // Cart changes go one after another, so a slow answer never overwrites a newer cart.
  const queue = useRef<Promise<void>>(Promise.resolve());
  const overlayOpen = useRef(false);
  // Layout effect: up to date as soon as the screen shows, before a key can reach it.
  useLayoutEffect(() => {
    overlayOpen.current = overlay !== null;
  });

  const fetchState = useCallback(() => {
    commands.posState().then(setState, (reason: unknown) => {
      setLoadError(toBackendError(reason));
    });
  }, []);

  useEffect(() => {
    fetchState();
  }, [fetchState]);

  // A catalog pull can bring the organisation, its currencies and rates: read the state again.
  useEffect(() => {
    let stop: (() => void) | null = null;
    let gone = false;
    listen
      .catalogSynced(() => {
        fetchState();
      })
      .then(
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
  }, [fetchState]);

  const load = useCallback(() => {
    setLoadError(null);
    fetchState();
  }, [fetchState]);

  const focusScan = useCallback(() => {
    scanRef.current?.focus();
  }, []);

  // Back to the scan field whenever a dialog closes (and once the screen is ready).
  const ready = state?.selling.maySell === true;
  useEffect(() => {
    if (overlay === null && ready) focusScan();
  }, [overlay, ready, focusScan]);

  // The scanner types into whatever has focus: when focus falls to nothing, take it back.
  useEffect(() => {
    function onFocusOut() {
      setTimeout(() => {
        const active = document.activeElement;
        if (!overlayOpen.current && (active === null || active === document.body)) focusScan();
      }, 0);
    }
    document.addEventListener('focusout', onFocusOut);
    return () => {
      document.removeEventListener('focusout', onFocusOut);
    };
  }, [focusScan]);

  const setCart = useCallback((cart: CartView) => {
    setState((s) => (s ? { ...s, cart } : s));
  }, []);

  /** Runs a cart change after the ones before it; shows its error under `title`. */
  const change = useCallback(
    <T,>(title: string, run: () => Promise<T>, apply: (value: T) => void, how: How = 'click') => {
      queue.current = queue.current.then(async () => {
        try {
          apply(await run());
          setActionError(null);
        } catch (reason: unknown) {
          const error = toBackendError(reason);
          if (error.code === 'unknown_barcode') {
            beep();
            setScanNotice(error.message);
          } else {
            setActionError({ title, error });
          }
        }
        if (how !== 'blur' && !overlayOpen.current) focusScan();
      });
    },
    [focusScan],
  );

  const lines = state?.cart.lines ?? [];
  const selected: CartLineView | undefined = lines.find((l) => l.lineId === selectedLineId) ?? lines.at(-1);

  const scan = useCallback(
    (code: string) => {
      setScanNotice(null);
      change(
        'Could not add that item',
        () => commands.scanBarcode(code),
        (cart) => {
          setCart(cart);
          setSelectedLineId(null);
        },
      );
    },
    [change, setCart],
  );

  const removeLine = useCallback(
    (line: CartLineView) => {
      change('Could not remove the line', () => commands.cartRemoveLine(line.lineId), setCart);
    },
    [change, setCart],
  );

  const canPay = state !== null && state.cart.lines.length > 0;

  // What the shortcuts act on, as of the last render (read by the one key listener below).
  const keys = useRef({ ready, canPay, selected, removeLine });
  useLayoutEffect(() => {
    keys.current = { ready, canPay, selected, removeLine };
  });

  // Keyboard-first: F2 search, F12 pay, F4 park, F9 refunds, Ctrl+Delete removes the selected line.
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      const now = keys.current;
      if (overlayOpen.current || !now.ready) return;
      const target = event.target;
      const typing = target instanceof HTMLInputElement && target.value !== '';
      if (event.key === 'F2') {
        event.preventDefault();
        focusScan();
      } else if (event.key === 'F12') {
        event.preventDefault();
        if (now.canPay) setOverlay({ kind: 'tender' });
      } else if (event.key === 'F4') {
        event.preventDefault();
        if (now.canPay) setOverlay({ kind: 'park' });
      } else if (event.key === 'F9') {
        event.preventDefault();
        setOverlay({ kind: 'refund' });
      } else if (event.ctrlKey && (event.key === 'Delete' || (event.key === 'Backspace' && !typing))) {
        if (now.selected) {
          event.preventDefault();
          now.removeLine(now.selected);
        }
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
    };
  }, [focusScan]);

  if (loadError) {
    return <ErrorBox title="Could not read the till" error={loadError} onRetry={load} />;
  }
  if (!state) {
    return <p className="muted">Reading the till…</p>;
  }
  // What the core says stops a sale here: the till not open (the form opens it), the catalog
  // not arrived (nothing to sell in yet), or a reason about the person (shown as it gave it).
  const blocked = state.selling.blocked;
  const tillSession = state.tillSession;
  if (blocked?.reason === 'till_not_open' || tillSession === null) {
    return <OpenTillPanel currencies={state.currencies} onOpened={setState} />;
  }
  if (blocked?.reason === 'no_catalog') {
    return (
      <p className="notice notice--info" role="status" data-testid="catalog-coming">
        The shop&apos;s currencies are on their way from the server: selling starts as soon as they arrive.
      </p>
    );
  }
  if (blocked) {
    return <BlockedSelling blocked={blocked} />;
  }

  const { cart, currencies } = state;
  const close = () => {
    setOverlay(null);
  };
  const applyState = (next: PosState) => {
    setState(next);
    setSelectedLineId(null);
  };
  const sold = (done: SaleDone) => {
    setOverlay({ kind: 'receipt', saleId: done.saleId, printed: done });
    // The sale emptied the cart (and may have changed what is parked or allowed).
    load();
  };

  return (
    <div className="pos">
      <div className="pos__toolbar">
        <p className="pos__session muted" data-testid="till-session">
          {state.shopName !== null && <strong>{state.shopName} · </strong>}
          Till opened by {tillSession.openedByName}
        </p>
        <div className="pos__toolbar-actions">
          <button
            type="button"
            className="button button--secondary"
            onClick={() => {
              setOverlay({ kind: 'refund' });
            }}
          >
            Refunds <Kbd>F9</Kbd>
          </button>
          <button
            type="button"
            className="button button--secondary"
            onClick={() => {
              setOverlay({ kind: 'x-report' });
            }}
          >
            X report
          </button>
          <button
            type="button"
            className="button button--secondary"
            onClick={() => {
              setOverlay({ kind: 'close-till' });
            }}
          >
            Close till
          </button>
        </div>
      </div>

      <div className="pos__grid">
        <div className="pos__main">
          <section className="panel pos__scan">
            <ScanField
              inputRef={scanRef}
              notice={scanNotice}
              onClearNotice={() => {
                setScanNotice(null);
              }}
              onScan={scan}
              onPick={(hit) => {
                change(
                  'Could not add that item',
                  () => commands.cartAdd(hit.productId, null),
                  (next) => {
                    setCart(next);
                    setSelectedLineId(null);
                  },
                );
              }}
              onMoveSelection={(step) => {
                const at = selected ? lines.indexOf(selected) : -1;
                const next = lines[Math.min(lines.length - 1, Math.max(0, at + step))];
                if (next) setSelectedLineId(next.lineId);
              }}
            />
          </section>

          {actionError && <ErrorBox title={actionError.title} error={actionError.error} />}

          <section className="panel pos__cart" aria-label="Sale">
            <CartTable
              cart={cart}
              selectedLineId={selected?.lineId ?? null}
              canDiscount={state.canDiscount}
              canOverridePrice={state.canOverridePrice}
              onSelect={(line) => {
                setSelectedLineId(line.lineId);
              }}
              onQuantity={(line, quantity, how) => {
                change('Could not change the quantity', () => commands.cartSetQuantity(line.lineId, quantity), setCart, how);
              }}
              onDiscount={(line, discount, how) => {
                change('Could not set the discount', () => commands.cartSetLineDiscount(line.lineId, discount), setCart, how);
              }}
              onPrice={(line, price, how) => {
                change('Could not change the price', () => commands.cartSetPrice(line.lineId, price), setCart, how);
              }}
              onRemove={removeLine}
              onDone={focusScan}
            />
            <div className="pos__cart-actions">
              <button
                type="button"
                className="button button--secondary"
                disabled={!canPay}
                onClick={() => {
                  setOverlay({ kind: 'park' });
                }}
              >
                Park <Kbd>F4</Kbd>
              </button>
              <button
                type="button"
                className="button button--secondary"
                data-testid="parked"
                onClick={() => {
                  setOverlay({ kind: 'parked' });
                }}
              >
                Parked ({state.parked.length})
              </button>
              <span className="pos__spacer" />
              <button
                type="button"
                className="button button--danger-outline"
                disabled={!canPay}
                onClick={() => {
                  setOverlay({ kind: 'void' });
                }}
              >
                Void sale
              </button>
            </div>
          </section>
        </div>

        <aside className="pos__side">
          <TotalsPanel
            cart={cart}
            canDiscount={state.canDiscount}
            disabled={false}
            onCartDiscount={(discount, how) => {
              change('Could not set the cart discount', () => commands.cartSetDiscount(discount), setCart, how);
            }}
            onDone={focusScan}
            onPay={() => {
              setOverlay({ kind: 'tender' });
            }}
          />
        </aside>
      </div>

      <p className="shortcuts" aria-label="Keyboard shortcuts">
        <span>
          <Kbd>F2</Kbd> Search
        </span>
        <span>
          <Kbd>↑ ↓</Kbd> Select line
        </span>
        <span>
          <Kbd>Ctrl Del</Kbd> Remove line
        </span>
        <span>
          <Kbd>F4</Kbd> Park
        </span>
        <span>
          <Kbd>F9</Kbd> Refunds
        </span>
        <span>
          <Kbd>F12</Kbd> Pay
        </span>
        <span>
          <Kbd>Esc</Kbd> Close dialog
        </span>
      </p>

      {overlay?.kind === 'tender' && <TenderDialog currencies={currencies} onSold={sold} onClose={close} />}
      {overlay?.kind === 'receipt' && (
        <ReceiptDialog saleId={overlay.saleId} printed={overlay.printed} onNewSale={close} />
      )}
      {overlay?.kind === 'refund' && <RefundDialog canRefund={state.canRefund} onDone={sold} onClose={close} />}
      {overlay?.kind === 'x-report' && <XReportDialog onClose={close} />}
      {overlay?.kind === 'close-till' && (
        <CloseTillDialog
          currencies={currencies}
          onClose={close}
          onClosed={() => {
            close();
            load();
          }}
        />
      )}
      {overlay?.kind === 'park' && (
        <ParkDialog
          onClose={close}
          onPark={(label) => {
            close();
            change('Could not park the sale', () => commands.parkCart(label), applyState);
          }}
        />
      )}
      {overlay?.kind === 'parked' && (
        <ParkedDialog
          parked={state.parked}
          onClose={close}
          onResume={(parked) => {
            close();
            change('Could not resume the parked sale', () => commands.resumeParked(parked.id), applyState);
          }}
        />
      )}
      {overlay?.kind === 'void' && (
        <ConfirmVoidDialog
          onClose={close}
          onConfirm={() => {
            close();
            change('Could not void the sale', commands.cartVoid, (next) => {
              setCart(next);
              setSelectedLineId(null);
            });
          }}
        />
      )}
    </div>
  );
}
