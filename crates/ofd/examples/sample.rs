//! Writes the three-page sample document: `cargo run -p ofd --example sample -- out.ofd`.
use std::process::ExitCode;

fn main() -> ExitCode {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sample.ofd".into());
    let fonts = match ofd::sample::SampleFonts::system() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = ofd::sample::build(&fonts, &ofd::sample::SampleData::default())
        .and_then(|p| Ok(p.to_zip()?));
    match bytes.map(|b| std::fs::write(&out, &b).map(|()| b.len())) {
        Ok(Ok(n)) => {
            println!("wrote {out} ({n} bytes)");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: writing {out}: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
