//! SVG, PNG and millimetre output (R-4.3.4: a 25 mm symbol with its 6-module quiet zone):
//! each rendering is read back to the module matrix and compared.
use gridmatrix::{Error, Options, QUIET_ZONE_MODULES, Symbol};

fn sample() -> Symbol {
    gridmatrix::encode(
        "https://cert.example.cn/v/Ab3dEf7Gh9Jk2Lm4Np6Qr8St0Uv1Wx5Yz3A",
        &Options::default(),
    )
    .expect("encode")
}

fn matrix(sym: &Symbol) -> Vec<Vec<bool>> {
    (0..sym.size())
        .map(|y| (0..sym.size()).map(|x| sym.is_dark(x, y)).collect())
        .collect()
}

#[test]
fn rows_match_is_dark_and_outside_is_light() {
    let sym = sample();
    let rows = sym.rows();
    assert_eq!(rows.len(), sym.size());
    for (y, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), sym.size());
        for (x, c) in r.chars().enumerate() {
            assert_eq!(c == '1', sym.is_dark(x, y));
        }
    }
    assert_eq!(
        sym.to_matrix_text(),
        rows.iter().map(|r| format!("{r}\n")).collect::<String>()
    );
    assert!(!sym.is_dark(sym.size(), 0));
    assert!(!sym.is_dark(0, sym.size()));
    // Corners are dark macromodule frames.
    assert!(sym.is_dark(0, 0) && sym.is_dark(sym.size() - 1, sym.size() - 1));
}

#[test]
fn svg_path_redraws_the_matrix() {
    let sym = sample();
    let q = QUIET_ZONE_MODULES as usize;
    let svg = sym.to_svg(3, QUIET_ZONE_MODULES);
    let n = sym.size() + 2 * q;
    assert!(
        svg.contains(&format!(
            "width=\"{}\" height=\"{}\" viewBox=\"0 0 {n} {n}\"",
            3 * n,
            3 * n
        )),
        "{svg:.200}"
    );
    let d = svg
        .split(" d=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("path data");
    let mut drawn = vec![vec![false; sym.size()]; sym.size()];
    for sub in d.split('M').filter(|s| !s.is_empty()) {
        // "x yhLENv1h-LENz"
        let (xy, rest) = sub.split_once('h').expect("h");
        let (x, y) = xy.split_once(' ').expect("x y");
        let len: usize = rest
            .split('v')
            .next()
            .expect("len")
            .parse()
            .expect("number");
        let (x, y): (usize, usize) = (x.parse().expect("x"), y.parse().expect("y"));
        assert!(x >= q && y >= q, "run inside the quiet zone");
        for cell in &mut drawn[y - q][x - q..x - q + len] {
            assert!(!*cell, "overlapping runs");
            *cell = true;
        }
    }
    assert_eq!(drawn, matrix(&sym));
}

#[test]
fn png_decodes_to_the_matrix_with_quiet_zone() {
    let sym = sample();
    let px = 4usize;
    let q = QUIET_ZONE_MODULES as usize;
    let bytes = sym.to_png(px as u32, QUIET_ZONE_MODULES).expect("png");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let side = (sym.size() + 2 * q) * px;
    assert_eq!((info.width as usize, info.height as usize), (side, side));
    assert_eq!(info.bit_depth, png::BitDepth::One);
    let dark = |x: usize, y: usize| buf[y * info.line_size + x / 8] & (0x80 >> (x % 8)) == 0;
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / px, y / px);
            let expect = mx >= q
                && my >= q
                && mx < q + sym.size()
                && my < q + sym.size()
                && sym.is_dark(mx - q, my - q);
            assert_eq!(dark(x, y), expect, "pixel ({x}, {y})");
        }
    }
}

#[test]
fn png_rejects_zero_and_huge_module_sizes() {
    let sym = sample();
    assert!(matches!(sym.to_png(0, 6), Err(Error::BadImageSize { .. })));
    assert!(matches!(
        sym.to_png(100_000, 6),
        Err(Error::BadImageSize { .. })
    ));
}

#[test]
fn r_4_3_4_rects_fill_25mm_with_quiet_zone() {
    let sym = sample();
    let q = QUIET_ZONE_MODULES as f64;
    let rects = sym.dark_rects_mm(25.0, QUIET_ZONE_MODULES);
    let m = 25.0 / (sym.size() as f64 + 2.0 * q);
    let dark = matrix(&sym).iter().flatten().filter(|&&d| d).count();
    let area: f64 = rects.iter().map(|r| r.width * r.height).sum();
    assert!((area - dark as f64 * m * m).abs() < 1e-9);
    let mut drawn = vec![vec![false; sym.size()]; sym.size()];
    for r in &rects {
        assert!(r.x >= q * m - 1e-9 && r.y >= q * m - 1e-9);
        assert!(r.x + r.width <= 25.0 - q * m + 1e-9 && r.y + r.height <= 25.0 - q * m + 1e-9);
        assert!((r.height - m).abs() < 1e-12);
        let (x0, y) = (
            (r.x / m - q).round() as usize,
            (r.y / m - q).round() as usize,
        );
        let len = (r.width / m).round() as usize;
        for cell in &mut drawn[y][x0..x0 + len] {
            *cell = true;
        }
    }
    assert_eq!(drawn, matrix(&sym));
    // Horizontal runs are merged: fewer rectangles than dark modules.
    assert!(rects.len() < dark);
}

#[test]
fn path_data_is_ofd_abbreviated_data() {
    let sym = sample();
    let d = sym.path_data_mm(25.0, QUIET_ZONE_MODULES);
    let rects = sym.dark_rects_mm(25.0, QUIET_ZONE_MODULES);
    assert_eq!(d.matches('M').count(), rects.len());
    assert_eq!(d.matches('C').count(), rects.len());
    for tok in d.split(' ') {
        assert!(
            matches!(tok, "M" | "L" | "C") || tok.parse::<f64>().is_ok(),
            "token {tok:?}"
        );
    }
    let first: Vec<f64> = d
        .split(' ')
        .skip(1)
        .take(2)
        .map(|t| t.parse().expect("num"))
        .collect();
    assert!((first[0] - rects[0].x).abs() < 1e-4 && (first[1] - rects[0].y).abs() < 1e-4);
}
