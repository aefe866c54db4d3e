#[path = "../tillpoint-sqlite/build_support/embed_migrations.rs"]
mod embed_migrations;

fn main() {
    embed_migrations::embed_migrations("../../migrations/client", "client_migrations.rs");
}
