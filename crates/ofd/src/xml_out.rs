//! Serialising the [model](crate::model) to OFD XML parts ([`Xml`]: every attribute value and
//! text node escaped as quick-xml escapes them; no indentation, so no whitespace ever enters a
//! `TextCode`). Child elements follow the XSD sequence order of GB/T 33190-2016 Annex A.

use crate::model::*;

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

/// Appends `s` escaped as quick-xml escapes text (`<`, `>`, `&`, `'`, `"` and CR, which XML
/// would turn into LF) or, with `attr`, an attribute value (also LF and TAB, which attribute
/// value normalisation would turn into spaces).
fn push_escaped(buf: &mut Vec<u8>, s: &str, attr: bool) {
    let mut from = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let rep: &[u8] = match b {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'\'' => b"&apos;",
            b'"' => b"&quot;",
            b'\r' => b"&#13;",
            b'\n' if attr => b"&#10;",
            b'\t' if attr => b"&#9;",
            _ => continue,
        };
        buf.extend_from_slice(&s.as_bytes()[from..i]);
        buf.extend_from_slice(rep);
        from = i + 1;
    }
    buf.extend_from_slice(&s.as_bytes()[from..]);
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
