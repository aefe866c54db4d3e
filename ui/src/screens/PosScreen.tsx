import { CatalogPanel } from '../components/CatalogPanel';

export function PosScreen() {
  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Point of sale</h1>
      </div>
      <CatalogPanel />
      <p className="note">Selling arrives with till sign-in.</p>
    </>
  );
}
