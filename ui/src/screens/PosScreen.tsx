import { PosWorkspace } from '../pos/PosWorkspace';
import { useSignedIn } from '../session';

export function PosScreen() {
  const signedIn = useSignedIn();
  // Offline, the grant is the only proof of who is selling: once it has run out, nobody may.
  const grantExpired = signedIn?.session.mode === 'offline' && signedIn.remainingSecs <= 0;

  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Point of sale</h1>
      </div>
      {grantExpired ? (
        <div className="error-box selling-blocked" role="alert" data-testid="selling-blocked">
          <div className="error-box__text">
            <p className="error-box__title">
              Offline access has expired: selling is blocked until you sign in online.
            </p>
            <p className="error-box__message">
              Lock the till (Alt+L), then sign in once the server can be reached.
            </p>
          </div>
        </div>
      ) : (
        <PosWorkspace />
      )}
    </>
  );
}
