//! Writes every target's seeds (`tillpoint_fuzz_targets::seeds`) to `fuzz/corpus/<target>/`.
//! Run from anywhere: `cargo run -p tillpoint-fuzz-targets --example write_seeds`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for seed in tillpoint_fuzz_targets::seeds::all() {
        let dir = corpus.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{}", seed.name)), &seed.bytes)?;
    }
    println!("seeds written to {}", corpus.display());
    Ok(())
}
