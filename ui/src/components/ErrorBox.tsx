import type { BackendError } from '../backend';

interface ErrorBoxProps {
  /** What the user was trying to see or do, e.g. "Could not load the local catalog". */
  title: string;
  error: BackendError;
  onRetry?: () => void;
}

/** A failed backend call, shown on screen with the backend's own message. */
export function ErrorBox({ title, error, onRetry }: ErrorBoxProps) {
  return (
    <div className="error-box" role="alert">
      <div className="error-box__text">
        <p className="error-box__title">{title}</p>
        <p className="error-box__message">{error.message}</p>
        <p className="error-box__code">Error code: {error.code}</p>
      </div>
      {onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
