import { CatalogPanel } from '../components/CatalogPanel';
import { StockLookup } from '../stock/StockLookup';

export function StockScreen() {
  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Stock</h1>
      </div>
      <StockLookup />
      <CatalogPanel />
      <p className="note">Stock operations are not in this build yet.</p>
    </>
  );
}
