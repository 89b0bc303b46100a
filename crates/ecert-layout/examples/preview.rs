//! Development preview: lay out a content JSON, write the OFD, and render each page twice to
//! look at: typst's own SVG (`page-N.typst.svg`) and the OFD as drawn by `ofd`'s renderer
//! (`page-N.png`), plus the OFD file itself.
//!
//! `cargo run -p ecert-layout --example preview -- CONTENT.json OUTDIR [TEMPLATE]`
//! (TEMPLATE: calibration, verification, verification-notice, report; default: by typeCode).
#![allow(clippy::unwrap_used)]

use ecert_layout::{Builtin, Extras, Fonts, Template};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: preview CONTENT.json OUTDIR [TEMPLATE]");
        std::process::exit(2);
    };
    let json = std::fs::read(input)?;
    let v: serde_json::Value = serde_json::from_slice(&json)?;
    let which = match args.get(3) {
        Some(name) => Builtin::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or("unknown template")?,
        None => Builtin::for_type_code(v["typeCode"].as_u64().unwrap_or(8) as u8)
            .ok_or("bad typeCode")?,
    };
    let fonts = Fonts::builtin();
    let extras = Extras {
        identifier: "1.2.156.112563.1·7·123456788·L12345·JZ2024-000123·0".into(),
        check_code: "7K3M-Q9XF".into(),
        issue_date: None,
        doc_info: ofd::DocInfo {
            doc_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            ..Default::default()
        },
    };
    let template = Template::builtin(which);
    std::fs::create_dir_all(out)?;
    let t = std::time::Instant::now();
    let doc = ecert_layout::compile(&template, &json, &extras, &fonts)?;
    eprintln!("compiled in {:?}", t.elapsed());
    for (i, page) in doc.pages().iter().enumerate() {
        let svg = typst_svg::svg(page, &Default::default());
        std::fs::write(format!("{out}/page-{}.typst.svg", i + 1), svg)?;
    }
    let t = std::time::Instant::now();
    let laid = ecert_layout::render_certificate(&template, &json, &extras, &fonts)?;
    eprintln!("laid out and written in {:?}: {laid:?}", t.elapsed());
    let bytes = laid.document.finish()?.to_zip()?;
    std::fs::write(format!("{out}/certificate.ofd"), &bytes)?;
    let file = ofd::OfdFile::read(&bytes)?;
    let mut opts = ofd::render::RenderOptions::default();
    opts.dpi = 110.0;
    for n in 1..=laid.page_count {
        let png = ofd::render::render_file_page_png(&file, n, &opts)?;
        std::fs::write(format!("{out}/page-{n}.png"), png)?;
    }
    eprintln!("{} bytes, {} pages in {out}", bytes.len(), laid.page_count);
    Ok(())
}
