/** Label–value rows, as Settings shows facts about the till. */
export function InfoList({ rows }: { rows: readonly (readonly [string, string])[] }) {
  return (
    <dl className="info-list">
      {rows.map(([term, value]) => (
        <div className="info-list__row" key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
