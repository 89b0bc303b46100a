//! Serialising the [model](crate::model) to OFD XML parts ([`Xml`]: every attribute value and
//! text node escaped as quick-xml escapes them; no indentation, so no whitespace ever enters a
//! `TextCode`). Child elements follow the XSD sequence order of GB/T 33190-2016 Annex A.
//!
//! [`escape_text`] and [`escape_attr`] are the workspace's one XML escaper, for code that
//! writes XML of its own (the signature files of `ses`, custom tags): the same escaping [`Xml`]
//! applies, so what they write reads back, through any conforming parser, as the exact string
//! that was escaped.

use crate::model::*;
use std::borrow::Cow;

/// The OFD namespace (clause 7.1).
pub const OFD_NS: &str = "http://www.ofdspec.org/2016";

/// Formats a number with at most 4 decimals, no trailing zeros, no `-0`.
pub fn num(v: f64) -> String {
    let mut s = String::with_capacity(12);
    push_num(&mut s, v);
    s
}

/// Appends `v` formatted like [`num`] without allocating (fixed point, 4 decimals, integer
/// arithmetic, so the output is the same on every platform).
pub fn push_num(s: &mut String, v: f64) {
    // Beyond ±9e14 mm nothing meaningful is drawn; clamp so the integer maths cannot overflow.
    let scaled = if v.is_finite() {
        (v.clamp(-9e14, 9e14) * 10_000.0).round() as i64
    } else {
        0
    };
    if scaled < 0 {
        s.push('-');
    }
    let a = scaled.unsigned_abs();
    let (int, mut frac) = (a / 10_000, a % 10_000);
    push_digits(s, int, 1);
    if frac != 0 {
        let mut digits = 4;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        s.push('.');
        push_digits(s, frac, digits);
    }
}

/// Appends the decimal digits of `n`, zero-padded to `width` (page content is mostly numbers:
/// this is a good part of writing a page, and `write!` costs several times more).
fn push_digits(s: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    i = i.min(buf.len().saturating_sub(width));
    for &d in &buf[i..] {
        s.push(char::from(d));
    }
}

/// Space-separated numbers.
pub fn nums(v: &[f64]) -> String {
    let mut s = String::with_capacity(v.len() * 7);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        push_num(&mut s, *x);
    }
    s
}

/// `ST_Box`.
pub fn rect(r: &Rect) -> String {
    nums(&[r.x, r.y, r.w, r.h])
}

/// `CTM`.
pub fn matrix(m: &Matrix) -> String {
    nums(&[m.a, m.b, m.c, m.d, m.e, m.f])
}

/// `AbbreviatedData`.
pub fn path_data(ops: &[PathOp]) -> String {
    let mut s = String::new();
    let mut push = |op: &str, v: &[f64]| {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(op);
        for x in v {
            s.push(' ');
            push_num(&mut s, *x);
        }
    };
    for op in ops {
        match *op {
            PathOp::Start(x, y) => push("S", &[x, y]),
            PathOp::Move(x, y) => push("M", &[x, y]),
            PathOp::Line(x, y) => push("L", &[x, y]),
            PathOp::Quad(a, b, x, y) => push("Q", &[a, b, x, y]),
            PathOp::Cubic(a, b, c, d, x, y) => push("B", &[a, b, c, d, x, y]),
            PathOp::Arc {
                rx,
                ry,
                angle,
                large,
                sweep,
                x,
                y,
            } => push(
                "A",
                &[
                    rx,
                    ry,
                    angle,
                    f64::from(u8::from(large)),
                    f64::from(u8::from(sweep)),
                    x,
                    y,
                ],
            ),
            PathOp::Close => push("C", &[]),
        }
    }
    s
}

/// What the byte `b` is written as, when it must be escaped: `<`, `>`, `&`, `'`, `"` always
/// (as quick-xml does; then the text is safe inside either kind of quotes and `]]>` cannot
/// occur), CR always (XML end-of-line handling would read a literal CR, or CR LF, as LF), and in
/// an attribute value (`attr`) also LF and TAB (attribute-value normalisation would read them as
/// spaces). Only ASCII bytes are replaced, so UTF-8 stays intact around them.
fn replacement(b: u8, attr: bool) -> Option<&'static str> {
    Some(match b {
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'&' => "&amp;",
        b'\'' => "&apos;",
        b'"' => "&quot;",
        b'\r' => "&#13;",
        b'\n' if attr => "&#10;",
        b'\t' if attr => "&#9;",
        _ => return None,
    })
}

/// Appends `s` escaped as text or, with `attr`, as an attribute value ([`replacement`]).
fn push_escaped(buf: &mut Vec<u8>, s: &str, attr: bool) {
    let mut from = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let Some(rep) = replacement(b, attr) else {
            continue;
        };
        buf.extend_from_slice(&s.as_bytes()[from..i]);
        buf.extend_from_slice(rep.as_bytes());
        from = i + 1;
    }
    buf.extend_from_slice(&s.as_bytes()[from..]);
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let Some(first) = bytes.iter().position(|&b| replacement(b, attr).is_some()) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if let Some(rep) = replacement(b, attr) {
            // `i` is at an ASCII byte, so both slices end on character boundaries.
            out.push_str(&s[from..i]);
            out.push_str(rep);
            from = i + 1;
        }
    }
    out.push_str(&s[from..]);
    Cow::Owned(out)
}

/// `s` escaped for an element's text content: `&`, `<`, `>`, `'`, `"` as entity references and
/// CR as `&#13;` (a literal CR, or CR LF, would be read back as LF). LF and TAB stay literal.
/// Borrowed when nothing needs escaping.
///
/// The bytes are those [`Xml::text`] and quick-xml's writer give. Characters that XML 1.0 cannot
/// carry at all (C0 controls other than TAB, LF and CR; U+FFFE, U+FFFF) are passed through —
/// no reference can represent them; callers that accept such input must refuse it first.
///
/// ```
/// use ofd::xml_out::escape_text;
/// assert_eq!(escape_text("A&B <1>\r\n"), "A&amp;B &lt;1&gt;&#13;\n");
/// assert!(matches!(escape_text("校准证书"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` escaped for an attribute value in double or single quotes: as [`escape_text`], and LF
/// and TAB as `&#10;` and `&#9;` too (attribute-value normalisation would read them, and CR, as
/// spaces). Borrowed when nothing needs escaping.
///
/// ```
/// use ofd::xml_out::escape_attr;
/// assert_eq!(escape_attr("a\"b'\tc\r\n"), "a&quot;b&apos;&#9;c&#13;&#10;");
/// ```
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// A writer of `ofd:`-prefixed elements straight into the part's bytes, escaping as quick-xml
/// does: the bytes are those quick-xml's `Writer` gives for the same events (test
/// `writes_what_quick_xml_writes`), without its allocations per element — a page holds
/// thousands of elements.
pub struct Xml {
    buf: Vec<u8>,
}

/// Attribute list: (name, value).
pub type Attrs = Vec<(&'static str, String)>;

impl Default for Xml {
    fn default() -> Self {
        Self::new()
    }
}

impl Xml {
    /// A new part with the XML declaration.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
        Xml { buf }
    }
    /// A fragment to splice into an existing part: no XML declaration. Open its first element
    /// with [`Xml::root`] so that it declares the `ofd` prefix itself.
    pub fn fragment() -> Self {
        Xml {
            buf: Vec::with_capacity(4096),
        }
    }
    fn tag(&mut self, name: &str) {
        self.buf.extend_from_slice(b"<ofd:");
        self.buf.extend_from_slice(name.as_bytes());
    }
    fn attr(&mut self, key: &str, value: &str) {
        self.buf.push(b' ');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"=\"");
        push_escaped(&mut self.buf, value, true);
        self.buf.push(b'"');
    }
    fn attrs(&mut self, attrs: &[(&'static str, String)]) {
        for (k, v) in attrs {
            self.attr(k, v);
        }
    }
    fn escaped(&mut self, text: &str) {
        push_escaped(&mut self.buf, text, false);
    }
    /// The root element, with the namespace declaration.
    pub fn root(&mut self, name: &str, attrs: &[(&'static str, String)]) {
        self.tag(name);
        self.attr("xmlns:ofd", OFD_NS);
        self.attrs(attrs);
        self.buf.push(b'>');
    }
    /// `<ofd:name attrs>`.
    pub fn open(&mut self, name: &str, attrs: &[(&'static str, String)]) {
        self.tag(name);
        self.attrs(attrs);
        self.buf.push(b'>');
    }
    /// `</ofd:name>`.
    pub fn close(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</ofd:");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }
    /// `<ofd:name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&'static str, String)]) {
        self.tag(name);
        self.attrs(attrs);
        self.buf.extend_from_slice(b"/>");
    }
    /// `<ofd:name attrs>text</ofd:name>` (text escaped, written exactly).
    pub fn leaf(&mut self, name: &str, attrs: &[(&'static str, String)], text: &str) {
        self.open(name, attrs);
        self.escaped(text);
        self.close(name);
    }
    /// Escaped text content.
    pub fn text(&mut self, text: &str) {
        self.escaped(text);
    }
    /// `leaf` without attributes, skipped when `text` is `None`.
    pub fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, &[], t);
        }
    }
    /// The bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

fn push_opt<T>(a: &mut Attrs, k: &'static str, v: Option<T>, f: impl Fn(T) -> String) {
    if let Some(v) = v {
        a.push((k, f(v)));
    }
}

fn color(x: &mut Xml, name: &str, c: &Color) {
    let mut a: Attrs = Vec::new();
    if !c.value.is_empty() {
        a.push(("Value", nums(&c.value)));
    }
    push_opt(&mut a, "Index", c.index, |i| i.to_string());
    push_opt(&mut a, "ColorSpace", c.color_space, |i| i.to_string());
    if c.alpha != 255 {
        a.push(("Alpha", c.alpha.to_string()));
    }
    x.empty(name, &a);
}

fn common_attrs(c: &GraphicCommon) -> Attrs {
    let mut a: Attrs = Vec::new();
    push_opt(&mut a, "ID", c.id, |i| i.to_string());
    push_opt(&mut a, "Name", c.name.as_ref(), |s| s.clone());
    if !c.visible {
        a.push(("Visible", "false".into()));
    }
    a.push(("Boundary", rect(&c.boundary)));
    push_opt(&mut a, "CTM", c.ctm.as_ref(), matrix);
    push_opt(&mut a, "DrawParam", c.draw_param, |i| i.to_string());
    push_opt(&mut a, "LineWidth", c.line_width, num);
    push_opt(&mut a, "Cap", c.cap, |v| v.as_attr().to_string());
    push_opt(&mut a, "Join", c.join, |v| v.as_attr().to_string());
    push_opt(&mut a, "MiterLimit", c.miter_limit, num);
    push_opt(&mut a, "DashOffset", c.dash_offset, num);
    if !c.dash_pattern.is_empty() {
        a.push(("DashPattern", nums(&c.dash_pattern)));
    }
    push_opt(&mut a, "Alpha", c.alpha, |v| v.to_string());
    a
}

fn clips(x: &mut Xml, c: &GraphicCommon) {
    if c.clips.is_empty() {
        return;
    }
    x.open("Clips", &[]);
    for clip in &c.clips {
        x.open("Clip", &[]);
        for area in &clip.areas {
            let mut a: Attrs = Vec::new();
            push_opt(&mut a, "CTM", area.ctm.as_ref(), matrix);
            x.open("Area", &a);
            path_body(x, "Path", &area.path);
            x.close("Area");
        }
        x.close("Clip");
    }
    x.close("Clips");
}

fn path_body(x: &mut Xml, elem: &str, p: &PathObject) {
    let mut a = common_attrs(&p.common);
    if !p.stroke {
        a.push(("Stroke", "false".into()));
    }
    if p.fill {
        a.push(("Fill", "true".into()));
    }
    if p.rule == FillRule::EvenOdd {
        a.push(("Rule", "Even-Odd".into()));
    }
    x.open(elem, &a);
    clips(x, &p.common);
    if let Some(c) = &p.stroke_color {
        color(x, "StrokeColor", c);
    }
    if let Some(c) = &p.fill_color {
        color(x, "FillColor", c);
    }
    x.leaf("AbbreviatedData", &[], &path_data(&p.data));
    x.close(elem);
}

fn text_obj(x: &mut Xml, t: &TextObject) {
    let mut a = common_attrs(&t.common);
    a.push(("Font", t.font.to_string()));
    a.push(("Size", num(t.size)));
    if t.stroke {
        a.push(("Stroke", "true".into()));
    }
    if !t.fill {
        a.push(("Fill", "false".into()));
    }
    if t.hscale != 1.0 {
        a.push(("HScale", num(t.hscale)));
    }
    if t.read_direction != 0 {
        a.push(("ReadDirection", t.read_direction.to_string()));
    }
    if t.char_direction != 0 {
        a.push(("CharDirection", t.char_direction.to_string()));
    }
    if t.weight != 400 {
        a.push(("Weight", t.weight.to_string()));
    }
    if t.italic {
        a.push(("Italic", "true".into()));
    }
    x.open("TextObject", &a);
    clips(x, &t.common);
    if let Some(c) = &t.fill_color {
        color(x, "FillColor", c);
    }
    if let Some(c) = &t.stroke_color {
        color(x, "StrokeColor", c);
    }
    for code in &t.codes {
        for cg in &code.cg_transforms {
            x.open(
                "CGTransform",
                &[
                    ("CodePosition", cg.code_position.to_string()),
                    ("CodeCount", cg.code_count.to_string()),
                    ("GlyphCount", cg.glyph_count.to_string()),
                ],
            );
            let g: Vec<String> = cg.glyphs.iter().map(u16::to_string).collect();
            x.leaf("Glyphs", &[], &g.join(" "));
            x.close("CGTransform");
        }
        let mut ca: Attrs = vec![("X", num(code.x)), ("Y", num(code.y))];
        if !code.delta_x.is_empty() {
            ca.push(("DeltaX", nums(&code.delta_x)));
        }
        if !code.delta_y.is_empty() {
            ca.push(("DeltaY", nums(&code.delta_y)));
        }
        x.leaf("TextCode", &ca, &code.text);
    }
    x.close("TextObject");
}

/// Writes graphic objects.
pub fn objects(x: &mut Xml, objs: &[GraphicObject]) {
    for o in objs {
        match o {
            GraphicObject::Text(t) => text_obj(x, t),
            GraphicObject::Path(p) => path_body(x, "PathObject", p),
            GraphicObject::Image(i) => {
                let mut a = common_attrs(&i.common);
                a.push(("ResourceID", i.resource_id.to_string()));
                push_opt(&mut a, "Substitution", i.substitution, |v| v.to_string());
                push_opt(&mut a, "ImageMask", i.image_mask, |v| v.to_string());
                if i.common.clips.is_empty() {
                    x.empty("ImageObject", &a);
                } else {
                    x.open("ImageObject", &a);
                    clips(x, &i.common);
                    x.close("ImageObject");
                }
            }
            GraphicObject::Composite(c) => {
                let mut a = common_attrs(&c.common);
                a.push(("ResourceID", c.resource_id.to_string()));
                x.open("CompositeObject", &a);
                clips(x, &c.common);
                x.close("CompositeObject");
            }
            GraphicObject::Block(b) => {
                let mut a: Attrs = Vec::new();
                push_opt(&mut a, "ID", b.id, |i| i.to_string());
                x.open("PageBlock", &a);
                objects(x, &b.objects);
                x.close("PageBlock");
            }
        }
    }
}

/// Writes a `CT_PageArea` body under `name`.
pub fn page_area(x: &mut Xml, name: &str, a: &PageArea) {
    x.open(name, &[]);
    x.leaf("PhysicalBox", &[], &rect(&a.physical));
    if let Some(r) = &a.application {
        x.leaf("ApplicationBox", &[], &rect(r));
    }
    if let Some(r) = &a.content {
        x.leaf("ContentBox", &[], &rect(r));
    }
    if let Some(r) = &a.bleed {
        x.leaf("BleedBox", &[], &rect(r));
    }
    x.close(name);
}

/// A page or template content file (`ofd:Page` root).
pub fn page_content(
    area: Option<&PageArea>,
    templates: &[TemplateRef],
    page_res: &[String],
    layers: &[Layer],
) -> Vec<u8> {
    let mut x = Xml::new();
    x.root("Page", &[]);
    for t in templates {
        let mut a: Attrs = vec![("TemplateID", t.template_id.to_string())];
        push_opt(&mut a, "ZOrder", t.z_order.as_ref(), |s| s.clone());
        x.empty("Template", &a);
    }
    for r in page_res {
        x.leaf("PageRes", &[], r);
    }
    if let Some(a) = area {
        page_area(&mut x, "Area", a);
    }
    if !layers.is_empty() {
        x.open("Content", &[]);
        for l in layers {
            layer(&mut x, l, false);
        }
        x.close("Content");
    }
    x.close("Page");
    x.finish()
}

/// Writes one `Layer` with its objects; `declare_ns`: the element declares the `ofd` prefix
/// (for a layer spliced into a file written by someone else).
pub fn layer(x: &mut Xml, l: &Layer, declare_ns: bool) {
    let mut a: Attrs = Vec::new();
    push_opt(&mut a, "ID", l.id, |i| i.to_string());
    if l.layer_type != LayerType::Body {
        a.push(("Type", l.layer_type.as_attr().into()));
    }
    push_opt(&mut a, "DrawParam", l.draw_param, |i| i.to_string());
    if declare_ns {
        x.root("Layer", &a);
    } else {
        x.open("Layer", &a);
    }
    objects(x, &l.objects);
    x.close("Layer");
}

/// Writes `DrawParam`s, used by the Res file writer.
pub fn draw_param(x: &mut Xml, d: &DrawParam) {
    let mut a: Attrs = vec![("ID", d.id.to_string())];
    push_opt(&mut a, "Relative", d.relative, |i| i.to_string());
    push_opt(&mut a, "LineWidth", d.line_width, num);
    push_opt(&mut a, "Join", d.join, |v| v.as_attr().to_string());
    push_opt(&mut a, "Cap", d.cap, |v| v.as_attr().to_string());
    push_opt(&mut a, "DashOffset", d.dash_offset, num);
    if !d.dash_pattern.is_empty() {
        a.push(("DashPattern", nums(&d.dash_pattern)));
    }
    push_opt(&mut a, "MiterLimit", d.miter_limit, num);
    if d.fill_color.is_none() && d.stroke_color.is_none() {
        x.empty("DrawParam", &a);
        return;
    }
    x.open("DrawParam", &a);
    if let Some(c) = &d.fill_color {
        color(x, "FillColor", c);
    }
    if let Some(c) = &d.stroke_color {
        color(x, "StrokeColor", c);
    }
    x.close("DrawParam");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our writer gives the bytes quick-xml's `Writer` gives for the same events: escaping
    /// (`<>&'"`, CR) in attribute values and text, the declaration, empty elements, fragments.
    #[test]
    fn writes_what_quick_xml_writes() {
        use quick_xml::Writer;
        use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
        let tricky = "a<b>&c'd\"e\r\nf\tg 本证书 &amp; ]]> \u{10FFFF}";
        let attrs: Attrs = vec![
            ("ID", "1".into()),
            ("Name", tricky.into()),
            ("Empty", String::new()),
        ];
        let start = |name: &str, root: bool| {
            let mut b = BytesStart::new(format!("ofd:{name}"));
            if root {
                b.push_attribute(("xmlns:ofd", OFD_NS));
            }
            for (k, v) in &attrs {
                b.push_attribute((*k, v.as_str()));
            }
            b
        };
        for declared in [true, false] {
            let mut w = Writer::new(Vec::new());
            let mut x = if declared {
                Xml::new()
            } else {
                Xml::fragment()
            };
            if declared {
                w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
                    .unwrap();
            }
            w.write_event(Event::Start(start("Page", true))).unwrap();
            x.root("Page", &attrs);
            w.write_event(Event::Empty(start("Area", false))).unwrap();
            x.empty("Area", &attrs);
            w.write_event(Event::Start(start("TextCode", false)))
                .unwrap();
            w.write_event(Event::Text(BytesText::new(tricky))).unwrap();
            w.write_event(Event::End(BytesEnd::new("ofd:TextCode")))
                .unwrap();
            x.leaf("TextCode", &attrs, tricky);
            w.write_event(Event::Start(BytesStart::new("ofd:Layer")))
                .unwrap();
            w.write_event(Event::Text(BytesText::new(""))).unwrap();
            w.write_event(Event::Text(BytesText::new(tricky))).unwrap();
            w.write_event(Event::End(BytesEnd::new("ofd:Layer")))
                .unwrap();
            x.open("Layer", &[]);
            x.opt_leaf("Never", None);
            x.text("");
            x.text(tricky);
            x.close("Layer");
            w.write_event(Event::End(BytesEnd::new("ofd:Page")))
                .unwrap();
            x.close("Page");
            let (ours, theirs) = (x.finish(), w.into_inner());
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    /// Strings that exercise every escape, with neighbours on both sides and non-ASCII text.
    const TRICKY: [&str; 9] = [
        "",
        "plain 校准证书",
        "a<b>&c'd\"e",
        "CR\ralone",
        "CR LF\r\nand LF\nand TAB\tend",
        "\r\r\n\n\t \t",
        "&amp; already escaped &#13; stays literal",
        "]]> <![CDATA[ x ]]>",
        "\u{10FFFF}\u{FEFF}证&书\r",
    ];

    /// `<r a="…">…</r>` with `s` escaped as attribute value and as text.
    fn doc_of(s: &str) -> String {
        format!(
            "<r a=\"{}\" b='{}'>{}</r>",
            escape_attr(s),
            escape_attr(s),
            escape_text(s)
        )
    }

    /// What the reader the crate uses (roxmltree, which applies XML's end-of-line handling and
    /// attribute-value normalisation) gives back: the exact strings escaped, CR included.
    #[test]
    fn escaped_strings_round_trip_through_roxmltree() {
        for s in TRICKY {
            let xml = doc_of(s);
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let r = doc.root_element();
            assert_eq!(r.attribute("a"), Some(s), "{xml:?}");
            assert_eq!(r.attribute("b"), Some(s), "{xml:?}");
            assert_eq!(r.text().unwrap_or_default(), s, "{xml:?}");
        }
        // Why CR (and, in attributes, LF and TAB) are references: written literally, a parser
        // hands back something else.
        let raw = roxmltree::Document::parse("<r a=\"x\ty\nz\">p\r\nq\rr</r>").unwrap();
        assert_eq!(raw.root_element().attribute("a"), Some("x y z"));
        assert_eq!(raw.root_element().text(), Some("p\nq\nr"));
    }

    /// quick-xml (the oracle of `writes_what_quick_xml_writes`), with XML 1.0 end-of-line and
    /// attribute-value normalisation, reads them back the same.
    #[test]
    fn escaped_strings_round_trip_through_quick_xml() {
        use quick_xml::XmlVersion::Implicit1_0 as V;
        use quick_xml::events::Event;
        for s in TRICKY {
            let xml = doc_of(s);
            let mut reader = quick_xml::Reader::from_str(&xml);
            let mut text = String::new();
            let mut attrs = Vec::new();
            loop {
                match reader.read_event().unwrap() {
                    Event::Start(e) => {
                        for a in e.attributes() {
                            attrs.push(a.unwrap().normalized_value(V).unwrap().into_owned());
                        }
                    }
                    Event::Text(t) => text.push_str(&t.xml_content(V)),
                    Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                        Some(c) => text.push(c),
                        None => text.push_str(
                            quick_xml::escape::resolve_predefined_entity(r.as_ref()).unwrap(),
                        ),
                    },
                    Event::Eof => break,
                    _ => {}
                }
            }
            assert_eq!(attrs, [s, s], "{xml:?}");
            assert_eq!(text, s, "{xml:?}");
        }
    }

    /// The public functions write what the part writer writes, and borrow when they can.
    #[test]
    fn public_escapers_agree_with_the_writer() {
        for s in TRICKY {
            let mut x = Xml::fragment();
            x.text(s);
            assert_eq!(x.finish(), escape_text(s).as_bytes());
            let mut x = Xml::fragment();
            x.empty("E", &[("A", s.to_owned())]);
            assert_eq!(
                String::from_utf8(x.finish()).unwrap(),
                format!("<ofd:E A=\"{}\"/>", escape_attr(s))
            );
        }
        assert!(matches!(escape_text("本证书 ok"), Cow::Borrowed(_)));
        assert!(matches!(escape_attr("a\tb"), Cow::Owned(_)));
        assert!(matches!(escape_text("a\tb\n"), Cow::Borrowed(_)));
    }

    proptest::proptest! {
        /// Any string XML can carry round-trips through roxmltree, as text and as attribute.
        #[test]
        fn any_xml_string_round_trips(s in "[\t\n\r\u{20}-\u{7F}&<>\"'\u{A0}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]{0,40}") {
            let xml = doc_of(&s);
            let doc = roxmltree::Document::parse(&xml).unwrap();
            proptest::prop_assert_eq!(doc.root_element().attribute("a"), Some(s.as_str()));
            proptest::prop_assert_eq!(doc.root_element().text().unwrap_or_default(), s.as_str());
        }
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.00001), "0");
        assert_eq!(num(210.0), "210");
        assert_eq!(num(3.175), "3.175");
        assert_eq!(num(1.0 / 3.0), "0.3333");
        assert_eq!(num(-12.0507), "-12.0507");
        assert_eq!(num(100.05), "100.05");
        assert_eq!(num(7.0003), "7.0003");
        assert_eq!(num(9e20), "900000000000000");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(-0.00005), "-0.0001");
        assert_eq!(num(12.00004), "12");
        assert_eq!(num(1e300), "900000000000000");
    }

    #[test]
    fn text_is_escaped_and_not_indented() {
        let t = TextObject {
            common: GraphicCommon {
                id: Some(Id(5)),
                visible: true,
                boundary: Rect::new(1.0, 2.0, 3.0, 4.0),
                ..Default::default()
            },
            font: Id(3),
            size: 3.175,
            stroke: false,
            fill: true,
            hscale: 1.0,
            read_direction: 0,
            char_direction: 0,
            weight: 400,
            italic: false,
            fill_color: Some(Color::black()),
            stroke_color: None,
            codes: vec![TextCode {
                x: 0.0,
                y: 3.0,
                delta_x: vec![1.5, 1.5],
                text: " <&> ".into(),
                ..Default::default()
            }],
        };
        let mut x = Xml::new();
        objects(&mut x, &[GraphicObject::Text(t)]);
        let s = String::from_utf8(x.finish()).unwrap();
        assert!(s.ends_with(
            r#"<ofd:TextObject ID="5" Boundary="1 2 3 4" Font="3" Size="3.175"><ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="3" DeltaX="1.5 1.5"> &lt;&amp;&gt; </ofd:TextCode></ofd:TextObject>"#
        ), "{s}");
    }
}
