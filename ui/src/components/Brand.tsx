/** The Tillpoint name and mark, as the top bar shows it. */
export function Brand() {
  return (
    <span className="brand">
      <span className="brand__mark" aria-hidden="true" />
      Tillpoint
    </span>
  );
}
