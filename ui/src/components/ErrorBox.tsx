import type { BackendError } from '../backend';

interface ErrorBoxProps {
  /** What the user was trying to see or do, e.g. "Could not load the local catalog". */
  title: string;
  error: BackendError;
  onRetry?: () => void;
}

/** The backend's own message and its error code, as every error box shows them. */
export function ErrorDetails({ error }: { error: BackendError }) {
  return (
    <>
      <p className="error-box__message">{error.message}</p>
      <p className="error-box__code">Error code: {error.code}</p>
    </>
  );
}

/** A failed backend call, shown on screen with the backend's own message. */
export function ErrorBox({ title, error, onRetry }: ErrorBoxProps) {
  return (
    <div className="error-box" role="alert">
      <div className="error-box__text">
        <p className="error-box__title">{title}</p>
        <ErrorDetails error={error} />
      </div>
      {onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
