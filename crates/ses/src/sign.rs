//! Sealing an OFD package (GB/T 33190-2016 clause 18, GB/T 38540-2020 clause 7, R-7.1a).
//!
//! What [`seal_package`] writes, in this order (the order ofdrw uses, so the file reads the same
//! in ofdrw's verifier):
//! 1. `OFD.xml` gets `<ofd:Signatures>/Doc_0/Signs/Signatures.xml</ofd:Signatures>` if it has none;
//! 2. `Signatures.xml` gets a record `Signature ID=… Type="Seal" BaseLoc=…/Sign_N/Signature.xml`
//!    and an updated `MaxSignId` (signature and stamp IDs share that counter);
//! 3. `Sign_N/Seal.esl` = the seal (DER SES_Seal);
//! 4. `Sign_N/Signature.xml` lists a `Reference` (SM3, base64) for **every file in the package**
//!    — in continue mode all but `Signatures.xml` — plus the stamp annotations and the seal;
//! 5. `Sign_N/SignedValue.dat` = SES_Signature v4 with `dataHash = SM3(Signature.xml bytes)`,
//!    `propertyInfo = "/…/Sign_N/Signature.xml"`, signed by the signer over DER(TBS_Sign).
//!
//! Whole-protected mode (the default) covers `Signatures.xml`, so nobody can strip or add a
//! signature record unnoticed; a package that already carries a whole-protecting signature is
//! refused. Continue mode leaves `Signatures.xml` out so that another signature may follow.
//!
//! Before signing, the seal's maker signature, the signer's binding to the seal, and the validity
//! of seal and signer certificate at the signing time are checked: we never produce a file our
//! own verifier rejects. Every sealing is reported to an [`AuditSink`] (R-7.2.2b).

use crate::error::{Error, Result};
use crate::pki::{Cert, UnixTime};
use crate::seal::{self, TimeStampHook};
use crate::sm::SealSigner;
use crate::xmlsig::{self, SignatureRecord};
use ofd::package::Package;
use ofd::xml_out::{escape_attr, escape_text};
use serde::Serialize;

/// `CheckMethod` written: the SM3 OID (as the tax-system files; ofdrw accepts it and "SM3").
pub const CHECK_METHOD: &str = "1.2.156.10197.1.401";
/// `SignatureMethod` written: SM3withSM2.
pub const SIGNATURE_METHOD: &str = "1.2.156.10197.1.501";

/// Whether later signatures are allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum SignMode {
    /// `Signatures.xml` is covered: no signature can be added or removed unnoticed (default).
    #[default]
    WholeProtected,
    /// `Signatures.xml` is not covered, so that a further signature may follow (GB/T 33190 §18.1).
    Continue,
}

/// A rectangle in mm, page space (origin top-left, y down).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BoxMm {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// A seal impression on one page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stamp {
    /// Page index in document order (0-based).
    pub page: usize,
    /// Where the seal picture goes.
    pub boundary: BoxMm,
}

/// A riding-seam seal (骑缝章, R-4.2.2): the seal picture cut into as many vertical slices as
/// there are pages, slice *i* shown at the right edge of page *i*, so that the pages laid side by
/// side show the whole seal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RidingSeam {
    /// Top of the seal picture in mm; `None` centres it vertically.
    pub y: Option<f64>,
}

/// The signing software named in `Signature.xml/SignedInfo/Provider`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// `ProviderName`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Company`.
    pub company: String,
}

impl Default for Provider {
    fn default() -> Self {
        Self {
            name: "ecert-ses".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            company: "ecert".into(),
        }
    }
}

/// Options of [`seal_package`].
#[derive(Clone, Debug, Default)]
pub struct SealOptions {
    /// Which `DocBody` (0 = first).
    pub doc_index: usize,
    /// Normal seal impressions.
    pub stamps: Vec<Stamp>,
    /// A riding-seam seal over all pages.
    pub riding_seam: Option<RidingSeam>,
    /// Protection mode.
    pub mode: SignMode,
    /// Provider.
    pub provider: Provider,
}

/// Where the signing time comes from (the system clock by default; a trusted, NTSC-traceable
/// source later, R-7.2.2a).
pub trait Clock {
    /// Seconds since the Unix epoch.
    fn now(&self) -> Result<UnixTime>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Result<UnixTime> {
        Ok(crate::pki::now())
    }
}

/// A fixed time (tests, re-sealing with a given time).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> Result<UnixTime> {
        Ok(self.0)
    }
}

/// What is logged for each sealing (R-7.2.2b).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SealEvent {
    /// Signing time (UTC, RFC 3339).
    pub time: String,
    /// `Signature/@ID` in Signatures.xml.
    pub signature_id: String,
    /// Package path of the new Signature.xml.
    pub signature_path: String,
    /// Seal esID.
    pub seal_es_id: String,
    /// Seal name.
    pub seal_name: String,
    /// Signer certificate subject.
    pub signer_subject: String,
    /// Signer certificate serial (hex).
    pub signer_serial: String,
    /// Number of files referenced.
    pub references: usize,
    /// SM3 of Signature.xml (the signed dataHash), hex.
    pub data_hash: String,
    /// Pages carrying a stamp (0-based).
    pub pages: Vec<usize>,
    /// Protection mode.
    pub mode: SignMode,
}

/// Receives a [`SealEvent`] after every successful sealing (R-7.2.2b). The application writes it
/// to its audit log.
pub trait AuditSink {
    /// Called once per signature added.
    fn sealed(&self, event: &SealEvent);
}

/// Optional plug-ins.
#[derive(Clone, Copy, Default)]
pub struct Hooks<'a> {
    /// Time source (system clock when `None`).
    pub clock: Option<&'a dyn Clock>,
    /// RFC 3161 time-stamp authority.
    pub tsa: Option<&'a dyn TimeStampHook>,
    /// Audit log.
    pub audit: Option<&'a dyn AuditSink>,
}

/// What [`seal_package`] did.
#[derive(Clone, Debug, Serialize)]
pub struct SealOutcome {
    /// The audit record (also passed to the hook).
    pub event: SealEvent,
    /// What sealing computed (the SM3 of every referenced part, the seal's maker signature
    /// checked), for the verification of the file just written: [`crate::verify::verify_bytes_known`].
    #[serde(skip)]
    pub known: crate::verify::Known,
}

fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn box_str(b: &BoxMm) -> String {
    format!("{} {} {} {}", num(b.x), num(b.y), num(b.w), num(b.h))
}

/// Seals the OFD file `bytes` and returns the new file.
pub fn seal_bytes(
    bytes: &[u8],
    seal_der: &[u8],
    signer: &(impl SealSigner + ?Sized),
    opts: &SealOptions,
    hooks: &Hooks<'_>,
) -> Result<Vec<u8>> {
    let mut pkg = Package::from_zip(bytes, &ofd::Limits::default())
        .map_err(|e| Error::Package(e.to_string()))?;
    seal_package(&mut pkg, seal_der, signer, opts, hooks)?;
    pkg.to_zip().map_err(|e| Error::Package(e.to_string()))
}

/// A seal checked once for a signer certificate, owned (no borrows), so that a long-running
/// issuer can keep it for many documents: the seal is a v4 seal, its maker's signature
/// verifies, and the signer certificate is in its certificate list. What depends on the time
/// (validity windows) is checked at every sealing.
#[derive(Debug, Clone)]
pub struct CheckedSeal {
    seal_der: Vec<u8>,
    seal: seal::SealView,
    signer_cert_der: Vec<u8>,
    signer_cert: Cert,
}

impl CheckedSeal {
    /// Runs the document-independent checks of `seal_der` for the signer certificate
    /// `signer_cert_der`.
    pub fn new(seal_der: &[u8], signer_cert_der: &[u8]) -> Result<Self> {
        let seal = seal::parse_seal(seal_der)?;
        if seal.version != seal::SesVersion::V4 {
            return Err(Error::Invalid(
                "only GB/T 38540-2020 (v4) seals are used for sealing".into(),
            ));
        }
        seal.verify_maker().map_err(|e| {
            Error::Invalid(format!("the seal's maker signature does not verify: {e}"))
        })?;
        let signer_cert = Cert::from_der(signer_cert_der)?;
        if !seal.binds_signer(signer_cert_der) {
            return Err(Error::Invalid(format!(
                "signer \"{}\" is not in the seal's certificate list",
                signer_cert.subject()
            )));
        }
        Ok(Self {
            seal_der: seal_der.to_vec(),
            seal,
            signer_cert_der: signer_cert_der.to_vec(),
            signer_cert,
        })
    }

    /// The seal (DER) as checked.
    pub fn seal_der(&self) -> &[u8] {
        &self.seal_der
    }

    /// The seal's name.
    pub fn seal_name(&self) -> &str {
        &self.seal.name
    }

    /// The seal picture's display size in mm (width, height; GB/T 38540 `SES_ESPictrueInfo`):
    /// the size a stamp of this seal is printed at.
    pub fn size_mm(&self) -> (f64, f64) {
        (
            f64::from(self.seal.width_mm),
            f64::from(self.seal.height_mm),
        )
    }
}

/// A seal and a signer checked once for use on many documents (batch sealing): a
/// [`CheckedSeal`] with the signer that holds the checked certificate's key.
pub struct PreparedSeal<'a, S: SealSigner + ?Sized> {
    checked: CheckedSeal,
    signer: &'a S,
}

impl<'a, S: SealSigner + ?Sized> PreparedSeal<'a, S> {
    /// Runs the document-independent checks.
    pub fn new(seal_der: &[u8], signer: &'a S) -> Result<Self> {
        Ok(Self {
            checked: CheckedSeal::new(seal_der, signer.certificate_der())?,
            signer,
        })
    }
}

/// Adds one electronic signature (Type="Seal") to document `opts.doc_index` of `pkg`.
pub fn seal_package(
    pkg: &mut Package,
    seal_der: &[u8],
    signer: &(impl SealSigner + ?Sized),
    opts: &SealOptions,
    hooks: &Hooks<'_>,
) -> Result<SealOutcome> {
    seal_package_prepared(pkg, &PreparedSeal::new(seal_der, signer)?, opts, hooks)
}

/// [`seal_package`] with the document-independent checks already done.
pub fn seal_package_prepared<S: SealSigner + ?Sized>(
    pkg: &mut Package,
    prepared: &PreparedSeal<'_, S>,
    opts: &SealOptions,
    hooks: &Hooks<'_>,
) -> Result<SealOutcome> {
    seal_package_checked(pkg, &prepared.checked, prepared.signer, opts, hooks)
}

/// [`seal_package`] with a seal checked in advance ([`CheckedSeal`]); `signer` must hold the
/// certificate the seal was checked for.
pub fn seal_package_checked<S: SealSigner + ?Sized>(
    pkg: &mut Package,
    checked: &CheckedSeal,
    signer: &S,
    opts: &SealOptions,
    hooks: &Hooks<'_>,
) -> Result<SealOutcome> {
    if signer.certificate_der() != checked.signer_cert_der.as_slice() {
        return Err(Error::Invalid(
            "the signer's certificate is not the one the seal was checked for".into(),
        ));
    }
    let time = match hooks.clock {
        Some(c) => c.now()?,
        None => crate::pki::now(),
    };
    let (seal_der, seal, signer_cert) = (
        checked.seal_der.as_slice(),
        &checked.seal,
        &checked.signer_cert,
    );
    // Pre-checks: never produce a signature our verifier rejects.
    if !(seal.valid_start <= time && time <= seal.valid_end) {
        return Err(Error::Invalid(format!(
            "the seal is valid {} .. {}, not at {}",
            crate::pki::format_time(seal.valid_start),
            crate::pki::format_time(seal.valid_end),
            crate::pki::format_time(time)
        )));
    }
    if !signer_cert.valid_at(time) {
        return Err(Error::Invalid(format!(
            "the signer certificate is not valid at {}",
            crate::pki::format_time(time)
        )));
    }

    let geo = geometry(pkg, opts.doc_index)?;
    // Stamp annotations (page ID and physical box per page).
    let page_info = |i: usize| -> Result<(u32, BoxMm)> {
        let p = geo
            .pages
            .get(i)
            .ok_or_else(|| Error::Invalid(format!("no page #{i}")))?;
        let area = match &p.content_path {
            Some(c) => page_area(pkg, c)?.or(geo.page_area),
            None => geo.page_area,
        };
        Ok((
            p.id,
            area.ok_or_else(|| Error::Invalid(format!("page #{i} has no page area")))?,
        ))
    };
    let mut annots: Vec<(u32, BoxMm, Option<BoxMm>, usize)> = Vec::new();
    for s in &opts.stamps {
        let (id, _) = page_info(s.page)?;
        annots.push((id, s.boundary, None, s.page));
    }
    if let Some(r) = opts.riding_seam {
        let n = geo.pages.len();
        if n < 2 {
            return Err(Error::Invalid(
                "a riding-seam seal needs at least two pages".into(),
            ));
        }
        let (w, h) = (f64::from(seal.width_mm), f64::from(seal.height_mm));
        let slice = w / n as f64;
        for i in 0..n {
            let (id, page) = page_info(i)?;
            let y = r.y.unwrap_or(page.y + page.h / 2.0 - h / 2.0);
            // Boundary: the whole picture, placed so that slice i falls on the page's right edge;
            // Clip (in Boundary space, as ofdrw reads it): just that slice.
            let boundary = BoxMm {
                x: page.x + page.w - slice * (i as f64 + 1.0),
                y,
                w,
                h,
            };
            let clip = BoxMm {
                x: slice * i as f64,
                y: 0.0,
                w: slice,
                h,
            };
            annots.push((id, boundary, Some(clip), i));
        }
    }

    // Signatures.xml: where, existing records, mode checks.
    let doc_dir = ofd::loc::dir_of(&geo.doc_root).to_string();
    let sigs_path = match &geo.signatures {
        Some(p) => p.clone(),
        None => {
            let p = if doc_dir.is_empty() {
                "Signs/Signatures.xml".to_string()
            } else {
                format!("{doc_dir}/Signs/Signatures.xml")
            };
            ofd::set_signatures_loc(pkg, opts.doc_index, &format!("/{p}"))
                .map_err(|e| Error::Package(e.to_string()))?;
            p
        }
    };
    let existing = match pkg.get(&sigs_path) {
        Some(b) => xmlsig::parse_signatures(&sigs_path, b)?,
        None => xmlsig::SignaturesFile::default(),
    };
    let mut max_id: u64 = existing
        .max_sign_id
        .as_deref()
        .and_then(digits)
        .unwrap_or(0);
    for r in &existing.records {
        max_id = max_id.max(digits(&r.id).unwrap_or(0));
        if let Some(b) = pkg.get(&r.path) {
            let x = xmlsig::parse_signature_xml(&r.path, b)?;
            if x.references
                .iter()
                .any(|rf| rf.path.as_deref() == Some(sigs_path.as_str()))
            {
                return Err(Error::Invalid(format!(
                    "signature {} protects {sigs_path} (whole-protected mode): no further signature can be added",
                    r.id
                )));
            }
            for s in &x.stamps {
                max_id = max_id.max(digits(&s.id).unwrap_or(0));
            }
        }
    }
    let signs_dir = ofd::loc::dir_of(&sigs_path).to_string();
    let join = |name: &str| {
        if signs_dir.is_empty() {
            name.to_string()
        } else {
            format!("{signs_dir}/{name}")
        }
    };
    let mut k = 0usize;
    while pkg
        .paths()
        .any(|p| p.starts_with(&format!("{}/", join(&format!("Sign_{k}")))))
    {
        k += 1;
    }
    let sign_dir = join(&format!("Sign_{k}"));
    let sig_xml_path = format!("{sign_dir}/Signature.xml");
    let seal_path = format!("{sign_dir}/Seal.esl");
    let sv_path = format!("{sign_dir}/SignedValue.dat");
    let sig_id = max_id + 1;
    let mut next = sig_id;
    let mut records = existing.records.clone();
    records.push(SignatureRecord {
        id: sig_id.to_string(),
        sig_type: "Seal".into(),
        base_loc: format!("/{sig_xml_path}"),
        path: sig_xml_path.clone(),
    });
    let mut stamp_xml = String::new();
    for (page_id, b, clip, _) in &annots {
        next += 1;
        stamp_xml.push_str(&format!(
            "<ofd:StampAnnot ID=\"{next}\" PageRef=\"{page_id}\" Boundary=\"{}\"",
            box_str(b)
        ));
        if let Some(c) = clip {
            stamp_xml.push_str(&format!(" Clip=\"{}\"", box_str(c)));
        }
        stamp_xml.push_str("/>");
    }
    pkg.insert(
        &sigs_path,
        xmlsig::write_signatures(&next.to_string(), &records),
    )
    .map_err(|e| Error::Package(e.to_string()))?;
    pkg.insert(&seal_path, seal_der.to_vec())
        .map_err(|e| Error::Package(e.to_string()))?;

    // References: every file now in the package (continue mode: all but Signatures.xml).
    let mut known = crate::verify::Known::default();
    known.seal_verified(seal_der);
    let mut refs = String::new();
    let mut n_refs = 0usize;
    for (path, data) in pkg.entries() {
        if opts.mode == SignMode::Continue && path == sigs_path {
            continue;
        }
        n_refs += 1;
        refs.push_str(&format!(
            "<ofd:Reference FileRef=\"/{}\"><ofd:CheckValue>{}</ofd:CheckValue></ofd:Reference>",
            escape_attr(path),
            xmlsig::b64(&known.hash(path, data))
        ));
    }
    let p = &opts.provider;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Signature xmlns:ofd=\"{ns}\"><ofd:SignedInfo><ofd:Provider ProviderName=\"{pn}\" Version=\"{pv}\" Company=\"{pc}\"/><ofd:SignatureMethod>{SIGNATURE_METHOD}</ofd:SignatureMethod><ofd:SignatureDateTime>{dt}</ofd:SignatureDateTime><ofd:References CheckMethod=\"{CHECK_METHOD}\">{refs}</ofd:References>{stamp_xml}<ofd:Seal><ofd:BaseLoc>/{seal_loc}</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo><ofd:SignedValue>/{sv_loc}</ofd:SignedValue></ofd:Signature>",
        ns = xmlsig::OFD_NS,
        seal_loc = escape_text(&seal_path),
        sv_loc = escape_text(&sv_path),
        pn = escape_attr(&p.name),
        pv = escape_attr(&p.version),
        pc = escape_attr(&p.company),
        dt = crate::pki::format_time(time),
    )
    .into_bytes();
    let data_hash = known.hash(&sig_xml_path, &xml);
    let signed_value = seal::make_signature_v4(
        seal_der,
        &data_hash,
        &format!("/{sig_xml_path}"),
        time,
        signer,
        hooks.tsa,
    )?;
    pkg.insert(&sig_xml_path, xml)
        .map_err(|e| Error::Package(e.to_string()))?;
    pkg.insert(&sv_path, signed_value)
        .map_err(|e| Error::Package(e.to_string()))?;

    let event = SealEvent {
        time: crate::pki::format_time(time),
        signature_id: sig_id.to_string(),
        signature_path: sig_xml_path,
        seal_es_id: seal.es_id.clone(),
        seal_name: seal.name.clone(),
        signer_subject: signer_cert.subject(),
        signer_serial: signer_cert.serial_hex(),
        references: n_refs,
        data_hash: crate::pki::hex(&data_hash),
        pages: annots.iter().map(|a| a.3).collect(),
        mode: opts.mode,
    };
    if let Some(a) = hooks.audit {
        a.sealed(&event);
    }
    Ok(SealOutcome { event, known })
}

fn digits(s: &str) -> Option<u64> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    d.parse().ok()
}

/// What sealing needs to know about the document (read directly, without the full reader, to
/// keep sealing close to the cost of SM3 + one SM2 signature).
struct Geometry {
    doc_root: String,
    signatures: Option<String>,
    page_area: Option<BoxMm>,
    pages: Vec<PageGeo>,
}

struct PageGeo {
    id: u32,
    content_path: Option<String>,
}

fn xml_of<'a>(pkg: &'a Package, path: &str) -> Result<(String, &'a [u8])> {
    let (p, b) = match pkg.get(path) {
        Some(b) => (path.to_string(), b),
        None => {
            let other = pkg
                .case_variant_of(path)
                .ok_or_else(|| Error::Invalid(format!("{path} is missing")))?;
            (other.to_string(), pkg.get(other).unwrap_or_default())
        }
    };
    Ok((p, b))
}

fn parse_xml<'a>(path: &str, b: &'a [u8]) -> Result<roxmltree::Document<'a>> {
    let text = std::str::from_utf8(b).map_err(|e| Error::Xml {
        path: path.into(),
        message: e.to_string(),
    })?;
    roxmltree::Document::parse(text.strip_prefix('\u{feff}').unwrap_or(text)).map_err(|e| {
        Error::Xml {
            path: path.into(),
            message: e.to_string(),
        }
    })
}

fn kid<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn parse_box(path: &str, s: &str) -> Result<BoxMm> {
    let v: Vec<f64> = s
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::Xml {
            path: path.into(),
            message: format!("bad box {s:?}"),
        })?;
    match v.as_slice() {
        [x, y, w, h] if w.is_finite() && h.is_finite() && *w > 0.0 && *h > 0.0 => Ok(BoxMm {
            x: *x,
            y: *y,
            w: *w,
            h: *h,
        }),
        _ => Err(Error::Xml {
            path: path.into(),
            message: format!("bad box {s:?}"),
        }),
    }
}

fn area_of(path: &str, n: roxmltree::Node<'_, '_>) -> Result<Option<BoxMm>> {
    match kid(n, "PhysicalBox") {
        Some(b) => Ok(Some(parse_box(path, b.text().unwrap_or_default())?)),
        None => Ok(None),
    }
}

/// The page's own `Area/PhysicalBox`. Read as a stream that stops there: a page's content can
/// be large and sealing needs only its box (the whole page is read by the verifier).
fn page_area(pkg: &Package, content: &str) -> Result<Option<BoxMm>> {
    use quick_xml::events::Event;
    let (p, b) = xml_of(pkg, content)?;
    let bad = |message: String| Error::Xml {
        path: p.clone(),
        message,
    };
    let text = std::str::from_utf8(b).map_err(|e| bad(e.to_string()))?;
    let mut r = quick_xml::Reader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    // Depth of the element being read: 1 = the root (Page), 2 = its children, 3 = Area's.
    let mut depth = 0usize;
    let (mut in_area, mut in_box) = (false, false);
    let mut physical = String::new();
    loop {
        match r.read_event().map_err(|e| bad(e.to_string()))? {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                if depth == 2 && name.into_inner() == "Area" {
                    in_area = true;
                } else if in_area && depth == 3 && name.into_inner() == "PhysicalBox" {
                    in_box = true;
                }
            }
            Event::Empty(e) => {
                let name = e.local_name();
                if depth == 1 && name.into_inner() == "Area" {
                    return Ok(None);
                }
                if in_area && depth == 2 && name.into_inner() == "PhysicalBox" {
                    return parse_box(&p, "").map(Some);
                }
            }
            Event::Text(t) if in_box => physical.push_str(&t.xml10_content()),
            Event::End(_) => {
                if in_box {
                    return parse_box(&p, &physical).map(Some);
                }
                if in_area && depth == 2 {
                    return Ok(None);
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(None);
                }
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

fn geometry(pkg: &Package, doc_index: usize) -> Result<Geometry> {
    let (op, ob) = xml_of(pkg, "OFD.xml")?;
    let od = parse_xml(&op, ob)?;
    let body = od
        .root_element()
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "DocBody")
        .nth(doc_index)
        .ok_or_else(|| Error::Invalid(format!("the package has no DocBody #{doc_index}")))?;
    let loc = |n: Option<roxmltree::Node<'_, '_>>| -> Result<Option<String>> {
        match n {
            Some(n) => ofd::loc::resolve("OFD.xml", n.text().unwrap_or_default().trim())
                .map(Some)
                .map_err(|e| Error::Xml {
                    path: "OFD.xml".into(),
                    message: e.to_string(),
                }),
            None => Ok(None),
        }
    };
    let doc_root = loc(kid(body, "DocRoot"))?.ok_or_else(|| Error::Xml {
        path: "OFD.xml".into(),
        message: "DocBody without DocRoot".into(),
    })?;
    let signatures = loc(kid(body, "Signatures"))?;
    let (dp, db) = xml_of(pkg, &doc_root)?;
    let dd = parse_xml(&dp, db)?;
    let root = dd.root_element();
    let page_area = match kid(root, "CommonData").and_then(|c| kid(c, "PageArea")) {
        Some(a) => area_of(&dp, a)?,
        None => None,
    };
    let mut pages = Vec::new();
    if let Some(ps) = kid(root, "Pages") {
        for p in ps
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "Page")
        {
            let id = p
                .attribute("ID")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|v| *v != 0)
                .ok_or_else(|| Error::Invalid(format!("{dp}: a page has no valid ID")))?;
            let content_path = match p.attribute("BaseLoc") {
                Some(l) => Some(ofd::loc::resolve(&dp, l).map_err(|e| Error::Xml {
                    path: dp.clone(),
                    message: e.to_string(),
                })?),
                None => None,
            };
            pages.push(PageGeo { id, content_path });
        }
    }
    Ok(Geometry {
        doc_root,
        signatures,
        page_area,
        pages,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn area(xml: &str) -> Result<Option<BoxMm>> {
        let mut pkg = Package::default();
        pkg.insert("Doc_0/Pages/Page_0/Content.xml", xml.as_bytes().to_vec())
            .unwrap();
        page_area(&pkg, "Doc_0/Pages/Page_0/Content.xml")
    }

    /// The page's own box is read from `Page/Area/PhysicalBox` only, whatever precedes it, and
    /// nothing after it is needed.
    #[test]
    fn page_area_reads_the_page_box_and_stops_there() {
        let b = area(
            "\u{feff}<?xml version=\"1.0\"?><!-- c --><ofd:Page xmlns:ofd=\"http://www.ofdspec.org/2016\">\
             <ofd:Template TemplateID=\"3\"/><ofd:Area><!-- x --><ofd:PhysicalBox> 0 0 210 297 </ofd:PhysicalBox>\
             </ofd:Area><ofd:Content><ofd:Layer><unclosed>",
        )
        .unwrap()
        .unwrap();
        assert_eq!((b.x, b.y, b.w, b.h), (0.0, 0.0, 210.0, 297.0));
        // A PhysicalBox deeper down (in the content) is not the page's.
        let none = area(
            "<Page><Content><Layer><Area><PhysicalBox>0 0 1 1</PhysicalBox></Area></Layer></Content></Page>",
        )
        .unwrap();
        assert!(none.is_none());
        assert!(area("<Page/>").unwrap().is_none());
        assert!(area("<Page><Area/></Page>").unwrap().is_none());
        assert!(
            area("<Page><Area><ApplicationBox>0 0 1 1</ApplicationBox></Area></Page>")
                .unwrap()
                .is_none()
        );
        let e = area("<Page><Area><PhysicalBox>0 0 -5 1</PhysicalBox></Area></Page>").unwrap_err();
        assert!(e.to_string().contains("bad box"), "{e}");
        let e = area("<Page><Area><PhysicalBox/></Area></Page>").unwrap_err();
        assert!(e.to_string().contains("bad box"), "{e}");
        let e = area("<Page><Area></Page>").unwrap_err();
        assert!(e.to_string().contains("Content.xml"), "{e}");
    }
}
