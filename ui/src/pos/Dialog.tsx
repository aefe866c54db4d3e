import { type ReactNode, useId, useLayoutEffect, useRef } from 'react';
import { Kbd } from './Kbd';

interface DialogProps {
  title: string;
  /** Esc, the close button and the backdrop call this. */
  onClose: () => void;
  children: ReactNode;
  size?: 'normal' | 'wide';
  testId?: string;
}

/**
 * A modal over the POS screen. Esc closes it (and goes no further, so the screen behind does
 * not react too); the field that should take the keyboard says so with `autoFocus`.
 */
export function Dialog({ title, onClose, children, size = 'normal', testId }: DialogProps) {
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  useLayoutEffect(() => {
    onCloseRef.current = onClose;
  });

  useLayoutEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopImmediatePropagation();
      onCloseRef.current();
    }
    window.addEventListener('keydown', onKeyDown, true);
    return () => {
      window.removeEventListener('keydown', onKeyDown, true);
    };
  }, []);

  return (
    <div className="dialog-backdrop">
      <div
        className={`dialog dialog--${size}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testId}
      >
        <header className="dialog__header">
          <h2 id={titleId} className="dialog__title">
            {title}
          </h2>
          <button type="button" className="button button--ghost" onClick={onClose}>
            Close <Kbd>Esc</Kbd>
          </button>
        </header>
        <div className="dialog__body">{children}</div>
      </div>
    </div>
  );
}
