#[path = "../tillpoint-sqlite/build_support/embed_migrations.rs"]
mod embed_migrations;

fn main() {
    embed_migrations::embed_migrations("../../migrations/server", "server_migrations.rs");
    // PostgreSQL's set begins with a baseline at the SQLite version it matches
    // (docs/decisions/server-store.md).
    embed_migrations::embed_migrations_from_baseline(
        "../../migrations/server/postgres",
        "server_postgres_migrations.rs",
    );
}
