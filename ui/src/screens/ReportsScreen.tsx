export function ReportsScreen() {
  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Reports</h1>
      </div>
      <section className="panel">
        <p className="empty-state">Reports are not in this build yet.</p>
      </section>
    </>
  );
}
