/**
 * Why nobody may sell now, as the core said it (`SellingStatus.blocked`): its reason picks the
 * title and what to do, its message says the rest. The window shows this; it never decides it.
 */
import type { NotSelling, SellingBlocked } from '../bindings';

/**
 * The reasons the selling screen itself resolves: the open-till form, and the wait for the
 * catalog's currencies. Any other reason the core gives stops the screen (`BlockedSelling`).
 */
const TILL_REASONS: readonly NotSelling[] = ['till_not_open', 'no_catalog'];

/** Whether `blocked` stops the whole selling screen (rather than asking for the till to be
 * opened or for the catalog to arrive). */
export function stopsSelling(blocked: SellingBlocked | null): blocked is SellingBlocked {
  return blocked !== null && !TILL_REASONS.includes(blocked.reason);
}

/** What the blocked box says first, by the core's reason; its message follows. */
const TITLES: Partial<Record<NotSelling, string>> = {
  grant_expired: 'Offline access has expired: selling is blocked until you sign in online.',
  grant_revoked: 'Your offline access was revoked: selling is blocked until you sign in online.',
  device_revoked: 'This till has been revoked: selling is blocked.',
  user_disabled: 'Your account was disabled: selling is blocked.',
  clock_locked: "The computer's clock was set back: selling is blocked until it is right and the till has reached the server.",
  forbidden: 'You may not sell on this till.',
  not_signed_in: 'Nobody is signed in: selling is blocked.',
};

/** What to do about it, by reason. */
const HINTS: Partial<Record<NotSelling, string>> = {
  grant_expired: 'Lock the till (Alt+L), then sign in once the server can be reached.',
  grant_revoked: 'Lock the till (Alt+L), then sign in once the server can be reached.',
  clock_locked: 'Lock the till (Alt+L), then sign in once the server can be reached.',
  forbidden: 'Lock the till (Alt+L) so someone who may sell can sign in.',
};

/** The core's reason why nobody may sell now, as it gave it. */
export function BlockedSelling({ blocked }: { blocked: SellingBlocked }) {
  const hint = HINTS[blocked.reason];
  return (
    <div className="error-box selling-blocked" role="alert" data-testid="selling-blocked">
      <div className="error-box__text">
        <p className="error-box__title">{TITLES[blocked.reason] ?? 'Selling is blocked.'}</p>
        <p className="error-box__message" data-testid="selling-blocked-message">
          {blocked.message}
        </p>
        {hint !== undefined && <p className="error-box__message">{hint}</p>}
      </div>
    </div>
  );
}

