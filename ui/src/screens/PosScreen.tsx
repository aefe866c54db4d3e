import { BlockedSelling, stopsSelling } from '../pos/BlockedSelling';
import { PosWorkspace } from '../pos/PosWorkspace';
import { useSignedIn } from '../session';

export function PosScreen() {
  // The core's answer: shown, never worked out here.
  const blocked = useSignedIn()?.selling.status?.blocked ?? null;

  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Point of sale</h1>
      </div>
      {stopsSelling(blocked) ? <BlockedSelling blocked={blocked} /> : <PosWorkspace />}
    </>
  );
}
