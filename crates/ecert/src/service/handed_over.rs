//! Sealing a handed-over OFD (R-5.2.1): the business system made the certificate file itself;
//! ecert checks it against the file rules it cannot lay out itself (R-4.1.2, R-4.1.3, R-4.1.4,
//! R-4.1.6, R-4.3.3), adds what an electronic certificate needs without touching what is there
//! — the notice on every page that lacks it (R-4.3.6), the 25 mm Grid Matrix code on page 1 in
//! free space (R-4.3.4), the identifier as a custom tag and in `CustomDatas` (R-4.5.1,
//! R-4.5.2) — then seals it like any certificate (stamp, riding seam; R-4.1.3, R-4.3.5),
//! checks it with our own verifier and stores it (same record and audit entry as normal
//! issuing, with the handed-over file's SM3).
//!
//! The content JSON is the normal schema, checked lighter: the layout is not ours, so the
//! sections only a layout needs (methods, standards, results, conclusion, signatories) may be
//! absent; whatever is given must still be well-formed, and what the record, the file name and
//! the identifier need (type, number, customer, instrument name and serial, dates) is required.

use std::sync::Arc;

use ecert_layout::geom::Rect as LRect;
use ofd::overlay::Overlay;
use ofd::write::{PathStyle, TextStyle};
use ofd::{GraphicObject, OfdFile, Rect, Warning};

use super::seal::{ActiveSeal, Sealed, seal_checked};
use crate::domain::{CertificateTag, CheckCode, Content, ContentErrors, Identifier, VerifyToken};
use crate::service::{
    Actor, Error, Instance, Issued, StaffRole, code_path, internal, seal_kind_for, today_beijing,
};

/// The largest seal picture (`ecert seal create` accepts 20–60 mm).
const MAX_SEAL_MM: f64 = 60.0;
/// Size of the added notice text (9 pt), mm.
pub const NOTICE_SIZE_MM: f64 = 9.0 * 25.4 / 72.0;
/// The code keeps this far from the page edges, mm.
const CODE_MARGIN_MM: f64 = 8.0;
/// … and this far from every other object, mm (its own 25 mm already hold the quiet zone).
const CODE_GAP_MM: f64 = 1.0;
/// The notice keeps this far from the page edges, mm.
const NOTICE_MARGIN_MM: f64 = 5.0;
/// Room under the code for the check-code line ("校验码 XXXX-XXXX", for lookup by number).
const CHECK_LINE_MM: f64 = 5.5;
/// Text size of the check-code line (7 pt).
const CHECK_SIZE_MM: f64 = 7.0 * 25.4 / 72.0;
/// The check-code line is never set smaller than this (5 pt) to fit under the code.
const CHECK_MIN_SIZE_MM: f64 = 5.0 * 25.4 / 72.0;

/// [`Error::HandedOver`]: the handed-over file breaks `clause` or leaves no room for what must
/// be added; the business system has to change the file (the API answers 422
/// `file_refused`, not a server error).
macro_rules! refused {
    ($clause:literal, $($t:tt)*) => {
        Error::HandedOver {
            clause: $clause,
            message: format!($($t)*),
        }
    };
}

/// A `--code-at` / `--seal-at` position that is not `X,Y` in millimetres.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("位置“{0}”应为“X,Y”，单位毫米 (a position is X,Y in millimetres, e.g. 170,20)")]
pub struct BadPosition(pub String);

/// Where to put the code and the seal on page 1 (top-left corners, page mm); `None`: found
/// automatically. A given position is still checked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Placement {
    /// `--code-at X,Y`: the 25 × 25 mm code's top-left corner.
    pub code_at: Option<(f64, f64)>,
    /// `--seal-at X,Y`: the seal's top-left corner (the seal at its own printed size).
    pub seal_at: Option<(f64, f64)>,
}

/// Parses `X,Y` in millimetres (for `--code-at` / `--seal-at`).
pub fn parse_xy(text: &str) -> Result<(f64, f64), BadPosition> {
    let bad = || BadPosition(text.to_owned());
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite() && y.is_finite()) {
        return Err(bad());
    }
    Ok((x, y))
}

/// The sections only our own layout needs: absent in a handed-over file's metadata is fine.
const LAYOUT_SECTIONS: [&str; 5] = [
    "/methods",
    "/standards",
    "/results",
    "/conclusion",
    "/signatories",
];

/// Parses the metadata of a handed-over file: [`Content::validate`] without the requirements
/// that only a layout has (a missing methods/standards/results/conclusion/signatories section,
/// the valid-until a passed verification prints). Everything given is still checked.
pub fn metadata_content(text: &str) -> Result<Content, ContentErrors> {
    let content = Content::from_json(text)?;
    let absent = |pointer: &str| match pointer {
        "/methods" => content.methods.as_deref().is_none_or(|v| v.is_empty()),
        "/standards" => content.standards.as_deref().is_none_or(|v| v.is_empty()),
        "/results" => content.results.as_deref().is_none_or(|v| v.is_empty()),
        "/conclusion" => content.conclusion.is_none(),
        "/signatories" => content.signatories.as_deref().is_none_or(|v| v.is_empty()),
        _ => false,
    };
    match content.validate() {
        Ok(()) => Ok(content),
        Err(ContentErrors(problems)) => {
            let kept: Vec<_> = problems
                .into_iter()
                .filter(|p| {
                    let layout_only =
                        LAYOUT_SECTIONS.contains(&p.pointer.as_str()) && absent(&p.pointer);
                    let valid_until_wanted =
                        p.pointer == "/validUntil" && content.valid_until.is_none();
                    !(layout_only || valid_until_wanted)
                })
                .collect();
            if kept.is_empty() {
                Ok(content)
            } else {
                Err(ContentErrors(kept))
            }
        }
    }
}

fn is_a4(b: &Rect) -> bool {
    let near = |a: f64, b: f64| (a - b).abs() <= 1.0;
    (near(b.w, 210.0) && near(b.h, 297.0)) || (near(b.w, 297.0) && near(b.h, 210.0))
}

fn text_fonts(objs: &[GraphicObject], out: &mut Vec<ofd::Id>) {
    for o in objs {
        match o {
            GraphicObject::Text(t) => out.push(t.font),
            GraphicObject::Block(b) => text_fonts(&b.objects, out),
            _ => {}
        }
    }
}

/// The file rules a handed-over OFD must already keep (we do not change its content).
pub fn check_handed_over(file: &OfdFile) -> Result<(), Error> {
    if file.ofd.docs.len() != 1 {
        return Err(refused!(
            "R-4.1.2",
            "OFD 文件含 {} 个文档，一个文件只能是一份证书 (the file holds {} documents; one file is one certificate, R-4.1.2)",
            file.ofd.docs.len(),
            file.ofd.docs.len()
        ));
    }
    let body = &file.ofd.docs[0];
    if let Some(s) = &body.signatures {
        return Err(refused!(
            "R-4.1.3",
            "OFD 文件已有签章（{s}），不能再次加入内容后签章 (the file is already signed; adding to it would break its signatures, R-4.1.3)"
        ));
    }
    if let Some(Warning::Dynamic { file: part }) = file
        .warnings
        .iter()
        .find(|w| matches!(w, Warning::Dynamic { .. }))
    {
        return Err(refused!(
            "R-4.1.4",
            "OFD 文件含动态元素（{part} 中的 Actions）(the file has dynamic elements — actions in {part}, R-4.1.4)"
        ));
    }
    let doc = &body.document;
    if let Some(m) = doc
        .media
        .iter()
        .find(|m| !m.media_type.eq_ignore_ascii_case("Image"))
    {
        return Err(refused!(
            "R-4.1.4",
            "OFD 文件含多媒体资源（{} {}）(the file has {} multimedia; only images are allowed, R-4.1.4)",
            m.media_type,
            m.file,
            m.media_type
        ));
    }
    if doc.pages.is_empty() {
        return Err(refused!(
            "R-4.1.1",
            "OFD 文件没有页面 (the file has no page, R-4.1.1)"
        ));
    }
    for i in 0..doc.pages.len() {
        let b = doc.page_box(i).unwrap_or(Rect::A4);
        if !is_a4(&b) {
            return Err(refused!(
                "R-4.3.3",
                "第 {} 页不是 A4 纸张（{:.1} × {:.1} mm）(page {} is not A4 but {:.1} × {:.1} mm, R-4.3.3)",
                i + 1,
                b.w,
                b.h,
                i + 1,
                b.w,
                b.h
            ));
        }
    }
    // R-4.1.6: every font a text object uses must be embedded.
    let mut used = Vec::new();
    for t in &doc.templates {
        for l in &t.layers {
            text_fonts(&l.objects, &mut used);
        }
    }
    for p in &doc.pages {
        for l in &p.layers {
            text_fonts(&l.objects, &mut used);
        }
        for a in &p.annotations {
            if let Some(ap) = &a.appearance {
                text_fonts(&ap.objects, &mut used);
            }
        }
    }
    used.sort();
    used.dedup();
    for id in used {
        match doc.font(id) {
            None => {
                return Err(refused!(
                    "R-4.1.6",
                    "文字引用了不存在的字体资源 {id} (text uses font resource {id}, which does not exist, R-4.1.6)"
                ));
            }
            Some(f) if f.data.as_ref().is_none_or(|d| d.is_empty()) => {
                return Err(refused!(
                    "R-4.1.6",
                    "字体“{}”未嵌入文件 (font {:?} is not embedded; the file must carry its fonts, R-4.1.6)",
                    f.font_name,
                    f.font_name
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(Warning::MissingFile { wanted, .. }) = file
        .warnings
        .iter()
        .find(|w| matches!(w, Warning::MissingFile { .. }))
    {
        return Err(refused!(
            "R-4.1.6",
            "文件引用的 {wanted} 不在包内 ({wanted} is referenced but not in the package; the file must be self-contained, R-4.1.6)"
        ));
    }
    for a in &doc.attachments {
        if OfdFile::read(&a.data).is_err() {
            return Err(refused!(
                "R-4.1.5",
                "附件“{}”不是 OFD 文件 (attachment {:?} is not an OFD file, R-4.1.5)",
                a.name,
                a.name
            ));
        }
    }
    if doc.custom_tags.iter().any(crate::domain::tag::is_ours) {
        return Err(refused!(
            "R-4.5.4",
            "OFD 文件已带有电子证书标识的自定义标引 (the file already carries an ecert identifier tag; issue it once, R-4.5.4)"
        ));
    }
    Ok(())
}

fn inflate(r: Rect, d: f64) -> Rect {
    Rect::new(r.x - d, r.y - d, r.w + 2.0 * d, r.h + 2.0 * d)
}

fn inside(page: &Rect, r: &Rect, margin: f64) -> bool {
    r.x >= page.x + margin
        && r.y >= page.y + margin
        && r.x + r.w <= page.x + page.w - margin
        && r.y + r.h <= page.y + page.h - margin
}

fn overlap_area(a: &Rect, b: &Rect) -> f64 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
}

fn free(boxes: &[Rect], r: &Rect) -> bool {
    boxes.iter().all(|b| overlap_area(b, r) == 0.0)
}

/// Finds room for the notice on page `page` (bottom margin first, then the top), returns the
/// baseline origin.
fn notice_spot(
    overlay: &Overlay,
    page: usize,
    font: &ofd::FontSource,
) -> Result<Option<(f64, f64)>, Error> {
    let pb = overlay.page_box(page).unwrap_or(Rect::A4);
    let boxes = overlay.object_boxes(page);
    let probe = ofd::write::text_box(
        font,
        NOTICE_SIZE_MM,
        0.0,
        0.0,
        ecert_layout::ELECTRONIC_NOTICE,
    )
    .map_err(internal("加入内容 (adding to the file)"))?;
    let width = probe.w;
    let xs = [
        pb.x + (pb.w - width) / 2.0,
        pb.x + NOTICE_MARGIN_MM + 10.0,
        pb.x + pb.w - NOTICE_MARGIN_MM - 10.0 - width,
    ];
    // Baselines: from the bottom up to mid-page, then from the top down to mid-page.
    let mut ys = Vec::new();
    let bottom = pb.y + pb.h - NOTICE_MARGIN_MM - (probe.y + probe.h);
    let top = pb.y + NOTICE_MARGIN_MM - probe.y;
    let mid = pb.y + pb.h / 2.0;
    let mut y = bottom;
    while y > mid {
        ys.push(y);
        y -= 1.0;
    }
    let mut y = top;
    while y < mid {
        ys.push(y);
        y += 1.0;
    }
    for y in ys {
        for x in xs {
            let r =
                ofd::write::text_box(font, NOTICE_SIZE_MM, x, y, ecert_layout::ELECTRONIC_NOTICE)
                    .map_err(internal("加入内容 (adding to the file)"))?;
            if inside(&pb, &r, NOTICE_MARGIN_MM - 0.01) && free(&boxes, &inflate(r, 0.5)) {
                return Ok(Some((x, y)));
            }
        }
    }
    Ok(None)
}

/// The area the code needs: its 25 × 25 mm square and the check-code line under it.
fn code_area(code: &Rect) -> Rect {
    Rect::new(code.x, code.y, code.w, code.h + CHECK_LINE_MM)
}

/// Finds a free 25 × 25 mm area on page 1 for the code (with the check-code line under it):
/// top-right quarter first, then the bottom-right, then anywhere (scanning in 1 mm steps).
fn code_spot(boxes: &[Rect], pb: &Rect) -> Option<Rect> {
    let s = ecert_layout::CODE_SLOT_MM;
    let ok = |x: f64, y: f64| {
        let r = code_area(&Rect::new(x, y, s, s));
        inside(pb, &r, CODE_MARGIN_MM - 1e-9) && free(boxes, &inflate(r, CODE_GAP_MM))
    };
    let (x0, x1) = (pb.x + CODE_MARGIN_MM, pb.x + pb.w - CODE_MARGIN_MM - s);
    let (y0, y1) = (
        pb.y + CODE_MARGIN_MM,
        pb.y + pb.h - CODE_MARGIN_MM - s - CHECK_LINE_MM,
    );
    let steps = |a: f64, b: f64| -> Vec<f64> {
        let n = ((b - a).max(0.0)).floor() as usize;
        (0..=n).map(|i| a + i as f64).collect()
    };
    let xs_right_first: Vec<f64> = steps(x0, x1).into_iter().rev().collect();
    let ys_down = steps(y0, y1);
    let mid = pb.y + pb.h / 2.0;
    // Top-right: rows from the top, each row from the right, right half only.
    for &y in ys_down.iter().filter(|y| **y + s <= mid) {
        for &x in xs_right_first.iter().filter(|x| **x >= pb.x + pb.w / 2.0) {
            if ok(x, y) {
                return Some(Rect::new(x, y, s, s));
            }
        }
    }
    // Bottom-right: rows from the bottom.
    for &y in ys_down.iter().rev().filter(|y| **y >= mid) {
        for &x in xs_right_first.iter().filter(|x| **x >= pb.x + pb.w / 2.0) {
            if ok(x, y) {
                return Some(Rect::new(x, y, s, s));
            }
        }
    }
    for &y in &ys_down {
        for &x in &xs_right_first {
            if ok(x, y) {
                return Some(Rect::new(x, y, s, s));
            }
        }
    }
    None
}

/// The box of a seal `size` (mm) on page 1: never over the code; otherwise as little over
/// other objects as possible, and near the lower right (where certificates are sealed).
fn seal_spot(boxes: &[Rect], pb: &Rect, code: &Rect, size: (f64, f64)) -> Option<Rect> {
    let (sw, sh) = size;
    let margin = 10.0;
    let (x0, x1) = (pb.x + margin, pb.x + pb.w - margin - sw);
    let (y0, y1) = (pb.y + margin, pb.y + pb.h - margin - sh);
    let mut best: Option<(f64, Rect)> = None;
    let mut y = y1;
    while y >= y0 {
        let mut x = x1;
        while x >= x0 {
            let r = Rect::new(x, y, sw, sh);
            if overlap_area(&r, &inflate(*code, CODE_GAP_MM)) == 0.0 {
                let covered: f64 = boxes.iter().map(|b| overlap_area(b, &r)).sum();
                let dist = ((x1 - x) + (y1 - y)) * 0.5;
                let score = covered + dist;
                if best.as_ref().is_none_or(|(b, _)| score < *b) {
                    best = Some((score, r));
                }
            }
            x -= 2.0;
        }
        y -= 2.0;
    }
    best.map(|(_, r)| r)
}

fn to_layout(r: Rect) -> LRect {
    LRect::new(r.x, r.y, r.w, r.h)
}

impl Instance {
    /// Seals an OFD the business system made itself (R-5.2.1), with the code and seal placed
    /// automatically. See [`Instance::issue_ofd_at`].
    pub async fn issue_ofd(
        &self,
        ofd_bytes: &[u8],
        content_json: &str,
        actor: &Actor,
    ) -> Result<Issued, Error> {
        self.issue_ofd_at(ofd_bytes, content_json, actor, Placement::default())
            .await
    }

    /// Seals a handed-over OFD (R-5.2.1): checks it ([`check_handed_over`]), adds the notice
    /// where a page lacks it (R-4.3.6), the Grid Matrix code in free space on page 1
    /// (R-4.3.4), the identifier (custom tag and `CustomDatas`, R-4.5.1, R-4.5.2), seals it
    /// (R-4.1.3; riding seam when it has several pages), checks it with our verifier and stores
    /// it. Nothing is stored when any step fails.
    pub async fn issue_ofd_at(
        &self,
        ofd_bytes: &[u8],
        content_json: &str,
        actor: &Actor,
        placement: Placement,
    ) -> Result<Issued, Error> {
        self.authorize(actor, &[StaffRole::Operator], "签发 (issue)")
            .await?;
        let actor = actor.name.as_str();
        let cfg = &self.config;
        let mut content = metadata_content(content_json)?;
        // The customer binding (R-5.2.3); the download password leaves the metadata here
        // (R-6.2f).
        let binding = self.binding_for_issue(&mut content, None).await?;
        let kind = content.kind().ok_or_else(|| {
            Error::content(
                "/typeCode",
                crate::domain::Rule::TypeCode,
                "证书类型代码无效 (invalid type code)".into(),
            )
        })?;
        let number = content.certificate_no.clone().unwrap_or_default();
        // The issuer is the configured institute: metadata may only repeat it.
        let issuer = crate::domain::issuer::Institute::from_config(cfg)
            .resolve(content.issuer.as_ref(), None)?;
        let org_code = issuer.org_code.unwrap_or_default();
        let accreditation = issuer.accreditation.unwrap_or_default();
        let identifier = Identifier::new(
            &cfg.instance.root_oid,
            kind,
            &org_code,
            &accreditation,
            &number,
            0,
        )?;
        identifier.check_root_allowed(cfg.instance.demo)?;
        let issue_date = content.issue_date.clone().unwrap_or_else(today_beijing);
        let file_name = self.file_name_for(kind, &number, &content)?;
        self.refuse_taken_number(&number).await?;
        let verify = self.issuing_options()?;
        // The seal that will be used (its printed size decides where it goes).
        let seal = self.active_seal(seal_kind_for(kind)).await?;
        let token = VerifyToken::generate()?;
        let check_code = CheckCode::generate()?;
        let verify_url = token.url(&cfg.instance.base_url);
        let job = HandedOverJob {
            file: ofd_bytes.to_vec(),
            custom_data: [
                ("电子证书标识", identifier.to_string()),
                ("证书编号", number.clone()),
                ("证书类型", kind.name_zh().to_string()),
            ],
            tag: CertificateTag {
                identifier: identifier.clone(),
                number: number.clone(),
            }
            .spec(),
            placement,
            seal,
            fonts: self.fonts.clone(),
            verify_url: verify_url.clone(),
            check_code: check_code.clone(),
            verify,
        };
        let done = super::cpu(move || job.run()).await?;
        let new = self.new_record(
            &content,
            &identifier,
            &number,
            &issue_date,
            &token,
            &check_code,
            file_name,
            done.sealed.verified(),
        );
        let mut context = done.sealed.audit_context();
        super::request::mark(&mut context);
        for (k, v) in [
            ("source", serde_json::json!("handed-over OFD")),
            (
                "original_sm3",
                serde_json::json!(ecert_store::hex(&ecert_store::sm3(ofd_bytes))),
            ),
            ("original_size", serde_json::json!(ofd_bytes.len())),
            ("notice_added_on_pages", serde_json::json!(done.notices)),
            ("code_at_mm", serde_json::json!([done.code.x, done.code.y])),
            ("seal_at_mm", serde_json::json!([done.seal.x, done.seal.y])),
        ] {
            context[k] = v;
        }
        let pages = done.sealed.pages();
        let file = done.sealed.into_file();
        let record = self
            .store
            .issue_certificate_bound(&new, file.clone().into(), actor, &context, binding.as_ref())
            .await?;
        Ok(Issued {
            record,
            file,
            identifier,
            verify_url,
            check_code,
            pages,
        })
    }
}

/// What the CPU part of sealing a handed-over file needs, owned so that it can move to a
/// blocking thread.
struct HandedOverJob {
    /// The handed-over OFD.
    file: Vec<u8>,
    /// The three `CustomDatas` (R-4.5.2).
    custom_data: [(&'static str, String); 3],
    /// Our custom tag with the identifier (R-4.5.2).
    tag: ofd::write::CustomTagSpec,
    placement: Placement,
    seal: ActiveSeal,
    fonts: Arc<ecert_layout::Fonts>,
    verify_url: String,
    check_code: CheckCode,
    /// The verifier's settings for the self-check.
    verify: Arc<ses::verify::VerifyOptions>,
}

/// The handed-over file sealed, and where things were added.
struct HandedOverSealed {
    sealed: Sealed,
    notices: Vec<usize>,
    code: Rect,
    seal: Rect,
}

impl HandedOverJob {
    /// The CPU part, a plain function between the async fetch of the seal and the async store
    /// write: reads and checks the file, adds the notice, the code with the check code, the tag
    /// and the `CustomDatas`, seals it and checks it ([`seal_checked`]). No store, no runtime.
    fn run(self) -> Result<HandedOverSealed, Error> {
        let HandedOverJob {
            file: ofd_bytes,
            custom_data,
            tag,
            placement,
            seal: active_seal,
            fonts,
            verify_url,
            check_code,
            verify,
        } = self;
        let seal_size = active_seal.size_mm();
        // The handed-over file, read by the strict reader and checked.
        let file = OfdFile::read(&ofd_bytes).map_err(|e| {
            refused!(
                "R-4.1.1",
                "不是可读取的 OFD 文件 (not a readable OFD file, R-4.1.1): {e}"
            )
        })?;
        check_handed_over(&file)?;
        let info = &file.ofd.docs[0].info;
        for (name, value) in &custom_data {
            if let Some((_, old)) = info.custom_data.iter().find(|(n, _)| n == name)
                && old != value
            {
                return Err(refused!(
                    "R-4.5.2",
                    "OFD 文件的 CustomData“{name}”为“{old}”，与内容中的“{value}”不符 (the file's CustomData {name} = {old:?} contradicts the content's {value:?}, R-4.5.2)"
                ));
            }
        }
        let page_count = file.ofd.docs[0].document.pages.len();
        let page_texts: Vec<String> = (0..page_count)
            .map(|i| {
                file.page_text(0, i)
                    .unwrap_or_default()
                    .replace(char::is_whitespace, "")
            })
            .collect();
        let mut overlay = Overlay::from_file(file).map_err(|e| {
            refused!(
                "R-5.2.1",
                "无法在 OFD 文件中加入内容 (cannot add to the file, R-5.2.1): {e}"
            )
        })?;

        // R-4.3.6: the notice on every page that lacks it, in free space.
        let font_src = fonts
            .sans_source()
            .map_err(internal("声明字体 (the notice font)"))?;
        let font = overlay
            .add_font(font_src.clone())
            .map_err(internal("加入内容 (adding to the file)"))?;
        let mut notices = Vec::new();
        for (i, text) in page_texts.iter().enumerate() {
            if text.contains(ecert_layout::ELECTRONIC_NOTICE) {
                continue;
            }
            let (x, y) = notice_spot(&overlay, i, &font_src)?.ok_or_else(|| {
                refused!(
                    "R-4.3.6",
                    "第 {} 页没有空白处可放置“{}”(page {} has no free room for the electronic-certificate notice, R-4.3.6)",
                    i + 1,
                    ecert_layout::ELECTRONIC_NOTICE,
                    i + 1
                )
            })?;
            overlay
                .layer(i)
                .map_err(internal("加入内容 (adding to the file)"))?
                .text(
                    &TextStyle::new(font, NOTICE_SIZE_MM),
                    x,
                    y,
                    ecert_layout::ELECTRONIC_NOTICE,
                )
                .map_err(internal("加入内容 (adding to the file)"))?;
            notices.push(i + 1);
        }

        // R-4.3.4: the code on page 1 in a free 25 mm area.
        let pb = overlay.page_box(0).unwrap_or(Rect::A4);
        let mut boxes = overlay.object_boxes(0);
        if page_count > 1 {
            // The riding-seam slice sealing adds at the right edge, vertically centred (seals
            // are at most 60 mm): the code must not be under it either.
            let slice = MAX_SEAL_MM / page_count as f64;
            boxes.push(Rect::new(
                pb.x + pb.w - slice,
                pb.y + pb.h / 2.0 - MAX_SEAL_MM / 2.0,
                slice,
                MAX_SEAL_MM,
            ));
        }
        let s = ecert_layout::CODE_SLOT_MM;
        let code = match placement.code_at {
            Some((x, y)) => {
                let r = Rect::new(x, y, s, s);
                if !inside(&pb, &code_area(&r), 0.0) {
                    return Err(refused!(
                        "R-4.3.4",
                        "--code-at {x},{y}：25 mm 网格矩阵码及其下方的校验码超出第 1 页 (the 25 mm code at {x},{y} and the check code under it do not fit on page 1, R-4.3.4)"
                    ));
                }
                if !free(&boxes, &inflate(code_area(&r), CODE_GAP_MM)) {
                    return Err(refused!(
                        "R-4.3.4",
                        "--code-at {x},{y}：该处会遮盖第 1 页已有内容或骑缝章 (the code at {x},{y} would cover existing content or the riding-seam seal on page 1, R-4.3.4)"
                    ));
                }
                r
            }
            None => code_spot(&boxes, &pb).ok_or_else(|| {
                refused!(
                    "R-4.3.4",
                    "第 1 页没有 25 × 25 mm 的空白处放置网格矩阵码（可用 --code-at X,Y 指定）(page 1 has no free 25 × 25 mm area for the Grid Matrix code, R-4.3.4)"
                )
            })?,
        };
        let path = code_path(to_layout(code), &verify_url)?;
        overlay
            .layer(0)
            .map_err(internal("加入内容 (adding to the file)"))?
            .path(&path, &PathStyle::filled(ofd::Color::rgb(0, 0, 0)))
            .map_err(internal("加入内容 (adding to the file)"))?;
        // The check code under the code, for lookup by number (R-4.5; our templates print it
        // on page 1 too).
        let line = format!("校验码 {check_code}");
        let (size, probe) = check_line(&font_src, &line, code.w)?;
        overlay
            .layer(0)
            .map_err(internal("加入内容 (adding to the file)"))?
            .text(
                &TextStyle::new(font, size),
                code.x + (code.w - probe.w) / 2.0 - probe.x,
                // The text's Boundary starts just under the 25 mm square (it covers nothing).
                code.y + code.h + 0.3 - probe.y,
                &line,
            )
            .map_err(internal("加入内容 (adding to the file)"))?;

        // The seal on page 1, at its own printed size: never over the code.
        let boxes = overlay.object_boxes(0);
        let seal = match placement.seal_at {
            Some((x, y)) => {
                let r = Rect::new(x, y, seal_size.0, seal_size.1);
                if !inside(&pb, &r, 0.0) {
                    return Err(refused!(
                        "R-4.3.5",
                        "--seal-at {x},{y}：{} × {} mm 的印章超出第 1 页 (the seal at {x},{y} does not fit on page 1, R-4.3.5)",
                        seal_size.0,
                        seal_size.1
                    ));
                }
                if overlap_area(&r, &code) > 0.0 {
                    return Err(refused!(
                        "R-4.3.4",
                        "--seal-at {x},{y}：印章会遮盖网格矩阵码 (the seal would cover the Grid Matrix code, R-4.3.4)"
                    ));
                }
                r
            }
            None => seal_spot(&boxes, &pb, &code, seal_size).ok_or_else(|| {
                refused!(
                    "R-4.3.5",
                    "第 1 页没有放置印章的位置 (no room for the seal on page 1, R-4.3.5)"
                )
            })?,
        };

        // R-4.5.1, R-4.5.2: the identifier in a custom tag and in CustomDatas.
        overlay
            .add_custom_tag(tag)
            .map_err(internal("加入内容 (adding to the file)"))?;
        for (name, value) in &custom_data {
            overlay.set_custom_data(name, value);
        }
        let mut package = overlay.finish().map_err(|e| {
            refused!(
                "R-5.2.1",
                "无法在 OFD 文件中加入内容 (cannot add to the file, R-5.2.1): {e}"
            )
        })?;

        let sealed = seal_checked(
            &mut package,
            &active_seal,
            to_layout(seal),
            page_count,
            &verify,
        )?;
        Ok(HandedOverSealed {
            sealed,
            notices,
            code,
            seal,
        })
    }
}

/// The size and box (at 0,0) of the check-code line under a code `width` mm wide: 7 pt, or
/// smaller when wide letters (`W`, `M`) make the line wider than the code, never below 5 pt.
fn check_line(font: &ofd::FontSource, line: &str, width: f64) -> Result<(f64, Rect), Error> {
    let measure = |size: f64| {
        ofd::write::text_box(font, size, 0.0, 0.0, line)
            .map_err(internal("加入内容 (adding to the file)"))
    };
    let mut size = CHECK_SIZE_MM;
    let mut probe = measure(size)?;
    if probe.w > width {
        // Glyph advances scale with the size; the 0.98 leaves room for rounding.
        size *= 0.98 * width / probe.w;
        probe = measure(size)?;
    }
    if size < CHECK_MIN_SIZE_MM || probe.h > CHECK_LINE_MM - 0.3 || probe.w > width {
        return Err(super::error::bug(
            "校验码 (the check code)",
            "校验码字体过大 (the check-code line does not fit under the code)",
        ));
    }
    Ok((size, probe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_5_2_1_metadata_needs_no_layout_sections() {
        let json = r#"{"typeCode":7,"certificateNo":"JZ-H-1","customer":{"name":"甲公司"},
            "instrument":{"name":"数字多用表","serialNo":"S1"},"performedDate":"2024-03-06","issueDate":"2024-03-08"}"#;
        let c = metadata_content(json).expect("metadata only is enough");
        assert_eq!(c.certificate_no.as_deref(), Some("JZ-H-1"));
        // What the record and the identifier need is still required.
        let err = metadata_content(
            r#"{"typeCode":7,"customer":{"name":"甲"},"instrument":{"name":"x"}}"#,
        )
        .expect_err("number and serial are required");
        let pointers: Vec<_> = err.0.iter().map(|p| p.pointer.as_str()).collect();
        assert!(pointers.contains(&"/certificateNo"), "{pointers:?}");
        assert!(pointers.contains(&"/instrument/serialNo"), "{pointers:?}");
        assert!(!pointers.contains(&"/results"), "{pointers:?}");
        // Given sections are still checked.
        let err = metadata_content(
            r#"{"typeCode":7,"certificateNo":"A","customer":{"name":"甲"},"instrument":{"name":"x","serialNo":"1"},"signatories":[{"name":"李"}]}"#,
        )
        .expect_err("a given signatory list must be complete");
        assert!(err.0.iter().any(|p| p.pointer.starts_with("/signatories")));
    }

    #[test]
    fn positions_parse() {
        assert_eq!(parse_xy("170, 20.5").expect("x,y"), (170.0, 20.5));
        assert!(parse_xy("170").is_err());
        assert!(parse_xy("a,b").is_err());
        assert!(parse_xy("inf,1").is_err());
    }

    #[test]
    fn r_4_3_4_code_spot_avoids_objects_and_prefers_the_top_right() {
        let pb = Rect::A4;
        let spot = code_spot(&[], &pb).expect("free page");
        assert_eq!((spot.x, spot.y), (210.0 - 8.0 - 25.0, 8.0));
        let blocker = Rect::new(100.0, 0.0, 110.0, 60.0);
        let spot = code_spot(&[blocker], &pb).expect("room below");
        assert_eq!(overlap_area(&spot, &blocker), 0.0);
        assert!(spot.y > 60.0 && spot.x >= 105.0, "{spot:?}");
        let full = Rect::new(0.0, 0.0, 210.0, 297.0);
        assert!(code_spot(&[full], &pb).is_none());
        let seal =
            seal_spot(&[], &pb, &Rect::new(170.0, 255.0, 25.0, 25.0), (42.0, 42.0)).expect("seal");
        assert_eq!(
            overlap_area(&seal, &Rect::new(169.0, 254.0, 27.0, 27.0)),
            0.0
        );
    }

    /// Every check code fits under the 25 mm code: eight `W`s at 7 pt are wider than the code,
    /// so the line is set smaller for them (not refused as an internal error), and a narrow
    /// code keeps 7 pt.
    #[test]
    fn r_4_3_4_every_check_code_line_fits_under_the_code() {
        let src = ecert_layout::Fonts::builtin()
            .sans_source()
            .expect("bundled sans");
        let mut sizes = Vec::new();
        for &c in crate::domain::token::CHECK_ALPHABET {
            let code = CheckCode::parse(&String::from(char::from(c)).repeat(8)).expect("code");
            let line = format!("校验码 {code}");
            let (size, probe) = check_line(&src, &line, ecert_layout::CODE_SLOT_MM).expect("fits");
            assert!(probe.w <= ecert_layout::CODE_SLOT_MM, "{line}: {probe:?}");
            assert!(probe.h <= CHECK_LINE_MM - 0.3, "{line}: {probe:?}");
            assert!(
                (CHECK_MIN_SIZE_MM..=CHECK_SIZE_MM).contains(&size),
                "{line}: {size}"
            );
            sizes.push(size);
        }
        assert!(
            sizes.iter().any(|&s| s < CHECK_SIZE_MM),
            "some codes need a smaller size"
        );
        assert!(sizes.contains(&CHECK_SIZE_MM), "narrow codes keep 7 pt");
    }

    /// The seal's box has the seal's own printed size, inside the page's margins.
    #[test]
    fn seal_spot_has_the_seal_s_size() {
        let pb = Rect::A4;
        let code = Rect::new(177.0, 8.0, 25.0, 25.0);
        for size in [(38.0, 38.0), (42.0, 42.0), (58.0, 40.0)] {
            let seal = seal_spot(&[], &pb, &code, size).expect("room");
            assert_eq!((seal.w, seal.h), size);
            assert!(inside(&pb, &seal, 10.0), "{seal:?}");
        }
    }
}
