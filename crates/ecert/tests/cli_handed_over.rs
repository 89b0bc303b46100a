//! `ecert issue --ofd FILE.ofd --content META.json` (R-5.2.1): a business system's own OFD is
//! sealed as it is, with the notice (R-4.3.6), the Grid Matrix code (R-4.3.4) and the
//! identifier (R-4.5.1, R-4.5.2) added. Everything is checked by reading the produced file
//! back, not by trusting the writer; refusals leave nothing stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ofd::write::{DocumentWriter, Path as OPath, PathStyle, Stroke, TextStyle};
use ofd::{Color, DocInfo, FontSource, GraphicObject, OfdFile, PathOp, Rect};

const NOTICE: &str = "本证书为电子证书，请到发证机构官网验证";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw/");
const FONT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/fonts/ECertSerifSC-Regular.ttf"
);

struct Instance {
    dir: tempfile::TempDir,
}

impl Instance {
    fn new() -> Instance {
        let dir = tempfile::tempdir().expect("tempdir");
        let i = Instance { dir };
        i.ok(&["init", "--demo"]);
        i
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecert"))
            .arg("--dir")
            .arg(self.path())
            .args(args)
            .output()
            .expect("run ecert")
    }
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ecert {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p.display().to_string()
    }
    /// `issue --ofd` must fail with `needle` in its message, store nothing and keep the audit
    /// chain intact.
    fn refused(&self, ofd: &str, extra: &[&str], number: &str, needle: &str) {
        let meta = self.write(&format!("{number}.json"), meta(number).as_bytes());
        let out_dir = self.path().join("out-refused");
        let mut args = vec!["issue", "--ofd", ofd, "--content", &meta, "-o"];
        let out_s = out_dir.display().to_string();
        args.push(&out_s);
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{ofd} should be refused");
        assert!(
            err.contains(needle),
            "{ofd}: expected {needle:?} in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        let show = self.run(&["show", number]);
        assert!(!show.status.success(), "{number} must not be stored");
        assert!(
            std::fs::read_dir(&out_dir).map_or(true, |mut d| d.next().is_none()),
            "no file written for a refusal"
        );
        assert!(self.ok(&["audit", "verify"]).contains("intact"));
    }
}

fn meta(number: &str) -> String {
    format!(
        r#"{{"typeCode":7,"certificateNo":"{number}","customer":{{"name":"示例电子科技有限公司"}},
        "instrument":{{"name":"数字多用表","model":"87V","serialNo":"12345678"}},
        "performedDate":"2024-03-06","issueDate":"2024-03-08"}}"#
    )
}

fn font() -> FontSource {
    FontSource::from_path(FONT, 0).expect("shipped font")
}

/// A "business system" certificate: A4, fonts embedded, two pages, no notice on page 1 (page
/// 2 has it already), no code, nothing sealed.
fn business_ofd() -> Vec<u8> {
    let mut doc = DocumentWriter::new(DocInfo {
        doc_id: "0123456789abcdef0123456789abcdef".into(),
        title: Some("校准证书 HO2024-0001".into()),
        creator: Some("示例 LIMS".into()),
        ..Default::default()
    })
    .expect("writer");
    let f = doc.add_font(font()).expect("font");
    let title = TextStyle::new(f, 8.0);
    let body = TextStyle::new(f, 3.7);
    {
        let mut page = doc.add_page();
        let mut l = page.body();
        l.text(&title, 70.0, 40.0, "校 准 证 书").expect("text");
        l.text(&body, 25.0, 70.0, "证书编号：HO2024-0001")
            .expect("text");
        l.text(&body, 25.0, 80.0, "委托方：示例电子科技有限公司")
            .expect("text");
        l.text(
            &body,
            25.0,
            90.0,
            "器具名称：数字多用表  出厂编号：12345678",
        )
        .expect("text");
        let mut table = OPath::new();
        for i in 0..6 {
            let y = 110.0 + f64::from(i) * 10.0;
            table.move_to(25.0, y).line_to(185.0, y);
        }
        l.path(
            &table,
            &PathStyle::stroked(Stroke::solid(Color::black(), 0.3)),
        )
        .expect("path");
        l.text(
            &body,
            25.0,
            200.0,
            "校准员：张三    核验员：李四    批准人：王五",
        )
        .expect("text");
    }
    {
        let mut page = doc.add_page();
        let mut l = page.body();
        l.text(&body, 25.0, 40.0, "校准结果（续）").expect("text");
        l.text(&body, 25.0, 287.0, NOTICE).expect("text");
    }
    doc.finish().expect("finish").to_zip().expect("zip")
}

/// A page 1 covered but for a strip at the bottom: room for the notice, none for a code.
fn crowded_ofd() -> Vec<u8> {
    let mut doc = DocumentWriter::new(DocInfo {
        doc_id: "fedcba9876543210fedcba9876543210".into(),
        ..Default::default()
    })
    .expect("writer");
    let f = doc.add_font(font()).expect("font");
    let mut page = doc.add_page();
    let mut l = page.body();
    let mut bg = OPath::new();
    bg.rect(Rect::new(0.0, 0.0, 210.0, 278.0));
    l.path(&bg, &PathStyle::filled(Color::rgb(240, 240, 240)))
        .expect("path");
    l.text(&TextStyle::new(f, 5.0), 30.0, 50.0, "满页内容")
        .expect("text");
    doc.finish().expect("finish").to_zip().expect("zip")
}

/// The business file with an action on page 1 (R-4.1.4 forbids dynamic elements).
fn dynamic_ofd() -> Vec<u8> {
    let mut pkg = ofd::Package::from_zip(&business_ofd(), &ofd::Limits::default()).expect("zip");
    let path = "Doc_0/Pages/Page_0/Content.xml";
    let page = String::from_utf8(pkg.get(path).expect("page").to_vec()).expect("utf-8");
    let page = page.replace(
        "</ofd:Page>",
        "<ofd:Actions><ofd:Action Event=\"CLICK\"><ofd:URI URI=\"https://example.com/\"/></ofd:Action></ofd:Actions></ofd:Page>",
    );
    pkg.insert(path, page.into_bytes()).expect("insert");
    pkg.to_zip().expect("zip")
}

fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.split_once(label).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("{label} not printed:\n{stdout}"))
}

fn rects_of(data: &[PathOp]) -> Vec<(f64, f64, f64, f64)> {
    let mut rects = Vec::new();
    let mut points = Vec::new();
    for op in data {
        match *op {
            PathOp::Move(x, y) | PathOp::Start(x, y) | PathOp::Line(x, y) => points.push((x, y)),
            PathOp::Close => {
                let xs = points.iter().map(|p: &(f64, f64)| p.0);
                let ys = points.iter().map(|p: &(f64, f64)| p.1);
                let (x0, x1) = (
                    xs.clone().fold(f64::MAX, f64::min),
                    xs.fold(f64::MIN, f64::max),
                );
                let (y0, y1) = (
                    ys.clone().fold(f64::MAX, f64::min),
                    ys.fold(f64::MIN, f64::max),
                );
                rects.push((x0, y0, x1 - x0, y1 - y0));
                points.clear();
            }
            _ => panic!("unexpected op in the code path: {op:?}"),
        }
    }
    rects
}

/// The module grid of the code path (the page-1 path with the most rectangles), its size in
/// modules and the module size in mm.
fn decode_code(path: &ofd::PathObject) -> String {
    let rects = rects_of(&path.data);
    let module = rects.iter().map(|r| r.3).fold(f64::MAX, f64::min);
    let n = (path.common.boundary.w / module).round() as usize;
    let (ox, oy) = rects
        .iter()
        .fold((f64::MAX, f64::MAX), |(a, b), r| (a.min(r.0), b.min(r.1)));
    let mut modules = vec![false; n * n];
    for (x, y, w, h) in rects {
        let (c0, r0) = (
            ((x - ox) / module).round() as usize,
            ((y - oy) / module).round() as usize,
        );
        let (cw, rh) = ((w / module).round() as usize, (h / module).round() as usize);
        for r in r0..r0 + rh {
            for c in c0..c0 + cw {
                modules[r * n + c] = true;
            }
        }
    }
    gridmatrix::decode::decode_modules(n, &modules, &Default::default())
        .expect("the code decodes")
        .text()
        .expect("text")
}

fn overlap(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

fn objects(objs: &[GraphicObject], out: &mut Vec<GraphicObject>) {
    for o in objs {
        match o {
            GraphicObject::Block(b) => objects(&b.objects, out),
            other => out.push(other.clone()),
        }
    }
}

/// R-5.2.1 end to end, with R-4.3.6, R-4.3.4, R-4.5.1/R-4.5.2 and R-4.1.3 read back.
#[test]
fn r_5_2_1_handed_over_ofd_is_sealed_with_notice_code_and_identifier() {
    let inst = Instance::new();
    let original = business_ofd();
    let ofd_path = inst.write("business.ofd", &original);
    let meta_path = inst.write("meta.json", meta("HO2024-0001").as_bytes());
    let out_dir = inst.path().join("out");
    let stdout = inst.ok(&[
        "issue",
        "--ofd",
        &ofd_path,
        "--content",
        &meta_path,
        "-o",
        &out_dir.display().to_string(),
    ]);
    let file_path = PathBuf::from(field(&stdout, "文件 (file):"));
    let url = field(&stdout, "验证网址 (verify URL):");
    let identifier = field(&stdout, "电子证书标识 (identifier):");
    assert_eq!(field(&stdout, "证书编号 (number):"), "HO2024-0001");
    assert!(file_path.starts_with(&out_dir));

    // R-4.1.3: our verifier accepts it (the demo's trial root).
    let verify = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .args(["verify", "--json", "--trust"])
        .arg(inst.path().join("trial-ca/root.pem"))
        .arg(&file_path)
        .output()
        .expect("run verify");
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).expect("json");
    assert_eq!(report["indication"], "PASSED", "{report:#}");
    assert_eq!(verify.status.code(), Some(0));
    assert_eq!(
        report["signatures"].as_array().map(Vec::len),
        Some(1),
        "one signature (stamp + riding seam): {report:#}"
    );

    let bytes = std::fs::read(&file_path).expect("produced file");
    let before = OfdFile::read(&original).expect("original");
    let after = OfdFile::read(&bytes).expect("produced file reads");
    let (d0, d1) = (&before.ofd.docs[0].document, &after.ofd.docs[0].document);
    assert_eq!(d1.pages.len(), 2);

    // The business system's objects are unchanged: same objects in the model, and each page's
    // original bytes around the inserted layer.
    for (i, (p0, p1)) in d0.pages.iter().zip(&d1.pages).enumerate() {
        assert_eq!(
            &p1.layers[..p0.layers.len()],
            &p0.layers[..],
            "page {}",
            i + 1
        );
        let old = before.package.get(&p0.content_path).expect("old page");
        let new = after.package.get(&p1.content_path).expect("new page");
        let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let tail = old.len() - head;
        assert!(head > 0 && new.len() >= old.len());
        assert_eq!(&new[new.len() - tail..], &old[head..], "page {}", i + 1);
    }
    for f in &d0.fonts {
        assert_eq!(d1.font(f.id), Some(f), "original font resource kept");
    }

    // R-4.3.6: the notice on every page; page 2 had it and does not get it twice.
    for i in 0..2 {
        let text = after.page_text(0, i).unwrap_or_default();
        assert_eq!(
            text.replace(char::is_whitespace, "")
                .matches(NOTICE)
                .count(),
            1,
            "page {}: {text}",
            i + 1
        );
    }
    // The check code (lookup by number + check code) printed under the code on page 1.
    let check = field(&stdout, "校验码 (check code):");
    let text1 = after
        .page_text(0, 0)
        .unwrap_or_default()
        .replace(char::is_whitespace, "");
    assert!(text1.contains(&format!("校验码{check}")), "{text1}");
    // R-4.1.6: every font embedded.
    for f in &d1.fonts {
        assert!(f.data.as_ref().is_some_and(|d| !d.is_empty()), "{f:?}");
    }

    // R-4.3.4: the code decodes to the verification URL and its 25 mm square (the modules and
    // their six-module quiet zone) overlaps no other object on page 1, nor the seal.
    let mut page1 = Vec::new();
    for l in &d1.pages[0].layers {
        objects(&l.objects, &mut page1);
    }
    let code = page1
        .iter()
        .filter_map(|o| match o {
            GraphicObject::Path(p) => Some(p),
            _ => None,
        })
        .max_by_key(|p| p.data.len())
        .expect("code path");
    assert_eq!(decode_code(code), url);
    let module = rects_of(&code.data)
        .iter()
        .map(|r| r.3)
        .fold(f64::MAX, f64::min);
    let b = code.common.boundary;
    let square = Rect::new(
        b.x - 6.0 * module,
        b.y - 6.0 * module,
        b.w + 12.0 * module,
        b.h + 12.0 * module,
    );
    assert!(
        (square.w - 25.0).abs() < 0.2 && (square.h - 25.0).abs() < 0.2,
        "{square:?}"
    );
    assert!(square.x >= 0.0 && square.y >= 0.0 && square.x + 25.0 <= 210.0);
    for o in &page1 {
        let c = o.common().expect("common");
        if c.id == code.common.id {
            continue;
        }
        assert!(
            !overlap(&c.boundary, &square),
            "the code covers {:?} at {:?}",
            c.id,
            c.boundary
        );
    }
    // R-4.3.5, R-4.2.2: the stamp on page 1 and a riding-seam slice on each page (read from
    // the signature's StampAnnots); none over the code.
    let impressions = ecert::preview::impressions(&after);
    for (i, page) in d1.pages.iter().enumerate() {
        let id = page.id.map(|i| i.to_string()).unwrap_or_default();
        let on_page: Vec<_> = impressions.iter().filter(|s| s.page_id == id).collect();
        assert_eq!(on_page.len(), usize::from(i == 0) + 1, "page {}", i + 1);
        if i == 0 {
            for s in on_page {
                let [x, y, w, h] = s.boundary;
                let r = Rect::new(x, y, w, h);
                assert!(!overlap(&r, &square), "the seal {r:?} covers the code");
            }
        }
    }

    // R-4.5.1, R-4.5.2: the identifier in a custom tag that Document.xml points to, and in
    // CustomDatas.
    assert!(d1.custom_tags_file.is_some());
    let tag = d1
        .custom_tags
        .iter()
        .find(|t| t.namespace.as_deref() == Some("urn:ecert:certificate:1"))
        .expect("ecert tag");
    let tag_xml = String::from_utf8(tag.data.clone()).expect("utf-8");
    assert!(tag_xml.contains(&identifier), "{tag_xml}");
    let info = &after.ofd.docs[0].info;
    assert!(
        info.custom_data
            .contains(&("电子证书标识".to_string(), identifier.clone()))
    );
    assert!(
        info.custom_data
            .contains(&("证书编号".to_string(), "HO2024-0001".to_string()))
    );
    assert_eq!(info.title, before.ofd.docs[0].info.title, "DocInfo kept");

    // Stored like any certificate.
    let shown = inst.ok(&["show", "HO2024-0001"]);
    assert!(shown.contains(&identifier), "{shown}");
    assert!(shown.contains("数字多用表"), "{shown}");
    assert!(inst.ok(&["audit", "verify"]).contains("intact"));

    // The audit entry says where the file came from, with the handed-over file's SM3.
    let details = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let instance = ecert::service::Instance::open(inst.path())
                .await
                .expect("open");
            instance.audit_trail("HO2024-0001").await.expect("audit")
        })
        .into_iter()
        .map(|e| e.details)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(details.contains("handed-over OFD"), "{details}");
    assert!(
        details.contains(&ecert_store::hex(&ecert_store::sm3(&original))),
        "{details}"
    );

    // The same number again is refused.
    let again = inst.run(&["issue", "--ofd", &ofd_path, "--content", &meta_path]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已存在"));
}

/// Refusals (R-4.1.6, R-4.3.3, R-4.1.3, R-4.1.1, R-4.1.4, R-4.3.4): a clear error naming the clause;
/// nothing stored, the audit chain intact.
#[test]
fn r_5_2_1_refuses_files_that_break_the_rules() {
    let inst = Instance::new();
    let fixture = |name: &str| {
        let p = format!("{FIXTURES}{name}");
        assert!(
            Path::new(&p).exists(),
            "缺少测试文件 {p}，它应在本仓库的 fixtures/ofdrw/ 中 (fixture {p} is missing: it belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)"
        );
        p
    };
    inst.refused(&fixture("helloworld.ofd"), &[], "HO-R1", "R-4.1.6");
    inst.refused(&fixture("invoice-suwell.ofd"), &[], "HO-R2", "R-4.3.3");
    inst.refused(&fixture("v4signed.ofd"), &[], "HO-R3", "R-4.1.3");
    inst.refused(&fixture("SESV4SignDoc.ofd"), &[], "HO-R4", "R-4.1.3");
    let not_ofd = inst.write("not.ofd", b"{\"this\": \"is json\"}");
    inst.refused(&not_ofd, &[], "HO-R5", "R-4.1.1");
    let dynamic = inst.write("dynamic.ofd", &dynamic_ofd());
    inst.refused(&dynamic, &[], "HO-R9", "R-4.1.4");
    let crowded = inst.write("crowded.ofd", &crowded_ofd());
    inst.refused(&crowded, &[], "HO-R6", "25 × 25 mm");
    // A code position over existing content is refused even when given by hand.
    let business = inst.write("business.ofd", &business_ofd());
    inst.refused(&business, &["--code-at", "60,30"], "HO-R7", "R-4.3.4");
    inst.refused(&business, &["--code-at", "200,30"], "HO-R8", "R-4.3.4");
}

/// `--code-at` and `--seal-at` are used when they are free of content (R-4.3.4: the code
/// still covers nothing; the seal may lie over text but never over the code).
#[test]
fn r_4_3_4_code_and_seal_positions_can_be_given() {
    let inst = Instance::new();
    let ofd_path = inst.write("business.ofd", &business_ofd());
    let meta_path = inst.write("meta.json", meta("HO2024-0002").as_bytes());
    let out_dir = inst.path().join("out");
    let stdout = inst.ok(&[
        "issue",
        "--ofd",
        &ofd_path,
        "--content",
        &meta_path,
        "--code-at",
        "20,235",
        "--seal-at",
        "120,180",
        "-o",
        &out_dir.display().to_string(),
    ]);
    let file = OfdFile::read(&std::fs::read(field(&stdout, "文件 (file):")).expect("file"))
        .expect("reads");
    let mut page1 = Vec::new();
    for l in &file.ofd.docs[0].document.pages[0].layers {
        objects(&l.objects, &mut page1);
    }
    let code = page1
        .iter()
        .filter_map(|o| match o {
            GraphicObject::Path(p) => Some(p),
            _ => None,
        })
        .max_by_key(|p| p.data.len())
        .expect("code path");
    assert_eq!(decode_code(code), field(&stdout, "验证网址 (verify URL):"));
    let module = rects_of(&code.data)
        .iter()
        .map(|r| r.3)
        .fold(f64::MAX, f64::min);
    let b = code.common.boundary;
    assert!(
        (b.x - 6.0 * module - 20.0).abs() < 0.1 && (b.y - 6.0 * module - 235.0).abs() < 0.1,
        "the code's 25 mm square starts at 20,235: {b:?}"
    );
    let page_id = file.ofd.docs[0].document.pages[0]
        .id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let stamps: Vec<[f64; 4]> = ecert::preview::impressions(&file)
        .into_iter()
        .filter(|s| s.page_id == page_id && s.clip.is_none())
        .map(|s| s.boundary)
        .collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    assert!(
        (stamps[0][0] - 120.0).abs() < 0.01 && (stamps[0][1] - 180.0).abs() < 0.01,
        "{stamps:?}"
    );
    // A seal over the code is refused.
    let meta3 = inst.write("meta3.json", meta("HO2024-0003").as_bytes());
    let out = inst.run(&[
        "issue",
        "--ofd",
        &ofd_path,
        "--content",
        &meta3,
        "--code-at",
        "20,235",
        "--seal-at",
        "10,220",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("R-4.3.4"));
    assert!(!inst.run(&["show", "HO2024-0003"]).status.success());
}
