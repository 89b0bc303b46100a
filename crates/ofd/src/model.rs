//! The typed document model shared by the [reader](crate::read) and the [writer](crate::write).
//!
//! Units are millimetres, the origin is the top-left corner of the page, y grows downwards
//! (GB/T 33190-2016 clause 8.1). Every package path in the model is already resolved (no
//! leading `/`, no `..`), and every referenced file's bytes are loaded (fonts, images, tag
//! files, attachments), so a renderer needs nothing but this model.

/// An object identifier (`ST_ID`, clause 7.2): unique in the document, never 0.
/// `Id::default()` is 0, the "no ID" value of sloppy files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id(pub u32);

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A rectangle (`ST_Box`): `x y w h` in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Rect { x, y, w, h }
    }
    /// ISO A4 portrait, `0 0 210 297`.
    pub const A4: Rect = Rect::new(0.0, 0.0, 210.0, 297.0);
}

/// A transformation matrix (`ST_Array` of 6 numbers, `CTM="a b c d e f"`):
/// `x' = a·x + c·y + e`, `y' = b·x + d·y + f`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matrix {
    /// Scale x.
    pub a: f64,
    /// Shear y.
    pub b: f64,
    /// Shear x.
    pub c: f64,
    /// Scale y.
    pub d: f64,
    /// Translate x.
    pub e: f64,
    /// Translate y.
    pub f: f64,
}

impl Matrix {
    /// The identity.
    pub const IDENTITY: Matrix = Matrix::new(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    /// A matrix from its six numbers in OFD order.
    pub const fn new(a: f64, b: f64, c: f64, d: f64, e: f64, f: f64) -> Self {
        Matrix { a, b, c, d, e, f }
    }
    /// Maps a point.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x + self.c * y + self.e,
            self.b * x + self.d * y + self.f,
        )
    }
    /// `self` then `next` (the result maps `p` to `next.apply(self.apply(p))`).
    pub fn then(&self, next: &Matrix) -> Matrix {
        Matrix {
            a: self.a * next.a + self.b * next.c,
            b: self.a * next.b + self.b * next.d,
            c: self.c * next.a + self.d * next.c,
            d: self.c * next.b + self.d * next.d,
            e: self.e * next.a + self.f * next.c + next.e,
            f: self.e * next.b + self.f * next.d + next.f,
        }
    }
}

/// A colour (`CT_Color`, clause 8.3.2). Components are in the colour space's range (0–255 for
/// 8-bit RGB, the default space).
#[derive(Debug, Clone, PartialEq)]
pub struct Color {
    /// Component values (`Value`). Empty when the colour is given by `Index` or a pattern.
    pub value: Vec<f64>,
    /// `ColorSpace` reference; `None` = the document default (RGB).
    pub color_space: Option<Id>,
    /// `Alpha`, 0–255 (255 opaque).
    pub alpha: u8,
    /// `Index` into the colour space's palette.
    pub index: Option<u32>,
}

impl Color {
    /// An opaque RGB colour.
    pub fn rgb(r: u8, g: u8, b: u8) -> Self {
        Color {
            value: vec![f64::from(r), f64::from(g), f64::from(b)],
            color_space: None,
            alpha: 255,
            index: None,
        }
    }
    /// Black.
    pub fn black() -> Self {
        Color::rgb(0, 0, 0)
    }
    /// Best-effort 8-bit RGB for a renderer: 3 components as RGB, 1 as grey, 4 as CMYK
    /// (naive conversion); `None` when the colour has no value.
    pub fn to_rgb8(&self) -> Option<[u8; 3]> {
        let c = |v: f64| v.clamp(0.0, 255.0).round() as u8;
        match self.value.as_slice() {
            [r, g, b] => Some([c(*r), c(*g), c(*b)]),
            [g] => Some([c(*g); 3]),
            [cy, m, y, k] => {
                let f = |x: f64| 255.0 - (x + *k).min(255.0);
                Some([c(f(*cy)), c(f(*m)), c(f(*y))])
            }
            _ => None,
        }
    }
}

/// A page area (`CT_PageArea`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageArea {
    /// `PhysicalBox`, required.
    pub physical: Rect,
    /// `ApplicationBox`.
    pub application: Option<Rect>,
    /// `ContentBox`.
    pub content: Option<Rect>,
    /// `BleedBox`.
    pub bleed: Option<Rect>,
}

impl PageArea {
    /// A page area with only a physical box.
    pub fn new(physical: Rect) -> Self {
        PageArea {
            physical,
            application: None,
            content: None,
            bleed: None,
        }
    }
}

impl Default for PageArea {
    /// A4.
    fn default() -> Self {
        PageArea::new(Rect::A4)
    }
}

/// A whole OFD package as read: the entry file `OFD.xml` and its documents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ofd {
    /// `Version` attribute of `OFD.xml` (kept as written; we write `1.0`).
    pub version: String,
    /// `DocType` (`OFD`, or `OFD-A` for GB/T 42133).
    pub doc_type: String,
    /// One entry per `DocBody`.
    pub docs: Vec<DocBody>,
}

/// One `DocBody` of `OFD.xml`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocBody {
    /// `DocInfo`.
    pub info: DocInfo,
    /// Resolved path of `DocRoot` (the `Document.xml`).
    pub doc_root: String,
    /// Resolved path of the `Signatures` file, if the body has one (for `crates/ses`).
    pub signatures: Option<String>,
    /// The document itself.
    pub document: Document,
}

/// Document metadata (`CT_DocInfo`, clause 7.4).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocInfo {
    /// `DocID`: 32 hex digits (a UUID without hyphens) by convention.
    pub doc_id: String,
    /// `Title`.
    pub title: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Abstract`.
    pub abstract_: Option<String>,
    /// `CreationDate`, `YYYY-MM-DD`.
    pub creation_date: Option<String>,
    /// `ModDate`, `YYYY-MM-DD`.
    pub mod_date: Option<String>,
    /// `DocUsage`.
    pub doc_usage: Option<String>,
    /// `Keywords/Keyword`.
    pub keywords: Vec<String>,
    /// `Creator` (the application).
    pub creator: Option<String>,
    /// `CreatorVersion`.
    pub creator_version: Option<String>,
    /// `CustomDatas/CustomData`: name → value, in document order.
    pub custom_data: Vec<(String, String)>,
}

/// A document (`Document.xml`) with every resource and page loaded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// `CommonData/MaxUnitID` (lenient: found anywhere in CommonData; `None` if absent).
    pub max_unit_id: Option<u32>,
    /// `CommonData/PageArea`, the default page area (`None` if absent, as in some invoices).
    pub page_area: Option<PageArea>,
    /// Resolved paths of the `PublicRes` files.
    pub public_res: Vec<String>,
    /// Resolved paths of the `DocumentRes` files.
    pub document_res: Vec<String>,
    /// All fonts of all resource files (document and page level).
    pub fonts: Vec<Font>,
    /// All multimedia resources (images).
    pub media: Vec<MultiMedia>,
    /// All drawing parameters.
    pub draw_params: Vec<DrawParam>,
    /// All colour spaces.
    pub color_spaces: Vec<ColorSpace>,
    /// Template pages (`CommonData/TemplatePage`).
    pub templates: Vec<TemplatePage>,
    /// Pages in document order (the order of `Pages/Page`, not of file names).
    pub pages: Vec<Page>,
    /// Resolved path of the annotation index (`Annotations`), if any.
    pub annotations_file: Option<String>,
    /// Resolved path of the custom tag list (`CustomTags`), if any.
    pub custom_tags_file: Option<String>,
    /// Custom tags (clause 16).
    pub custom_tags: Vec<CustomTag>,
    /// Resolved path of the attachment list (`Attachments`), if any.
    pub attachments_file: Option<String>,
    /// Attachments (clause 20).
    pub attachments: Vec<Attachment>,
}

impl Document {
    /// The font with this ID.
    pub fn font(&self, id: Id) -> Option<&Font> {
        self.fonts.iter().find(|f| f.id == id)
    }
    /// The multimedia resource with this ID.
    pub fn media(&self, id: Id) -> Option<&MultiMedia> {
        self.media.iter().find(|m| m.id == id)
    }
    /// The drawing parameter with this ID.
    pub fn draw_param(&self, id: Id) -> Option<&DrawParam> {
        self.draw_params.iter().find(|d| d.id == id)
    }
    /// The template page with this ID.
    pub fn template(&self, id: Id) -> Option<&TemplatePage> {
        self.templates.iter().find(|t| t.id == id)
    }
    /// The physical box of page `index`: the page's own `Area`, else the document's
    /// `PageArea`, else A4.
    pub fn page_box(&self, index: usize) -> Option<Rect> {
        let p = self.pages.get(index)?;
        Some(p.area.or(self.page_area).map_or(Rect::A4, |a| a.physical))
    }
}

/// A font resource (`CT_Font`).
#[derive(Debug, Clone, PartialEq)]
pub struct Font {
    /// Resource ID.
    pub id: Id,
    /// `FontName`.
    pub font_name: String,
    /// `FamilyName`.
    pub family_name: Option<String>,
    /// `Charset` (default `unicode`).
    pub charset: Option<String>,
    /// `Bold`.
    pub bold: bool,
    /// `Italic`.
    pub italic: bool,
    /// `Serif`.
    pub serif: bool,
    /// `FixedWidth`.
    pub fixed_width: bool,
    /// Resolved path of `FontFile`, if the font is embedded.
    pub file: Option<String>,
    /// The embedded font file's bytes (TrueType/OpenType), if embedded and present.
    pub data: Option<Vec<u8>>,
}

/// Image formats of `CT_MultiMedia/@Format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// BMP.
    Bmp,
    /// TIFF (single page).
    Tiff,
    /// GIF.
    Gif,
    /// JBIG2 (seen in the wild).
    Jbig2,
    /// Anything else, as written.
    Other(String),
}

impl ImageFormat {
    /// Guesses the format from the first bytes of the file.
    pub fn sniff(data: &[u8]) -> Option<ImageFormat> {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if data.starts_with(b"BM") {
            Some(ImageFormat::Bmp)
        } else if data.starts_with(b"II*\0") || data.starts_with(b"MM\0*") {
            Some(ImageFormat::Tiff)
        } else if data.starts_with(b"GIF8") {
            Some(ImageFormat::Gif)
        } else if data.starts_with(b"\x97JB2\r\n\x1a\n") {
            Some(ImageFormat::Jbig2)
        } else {
            None
        }
    }
    /// Parses the `Format` attribute (case-insensitive; `JPG` = JPEG).
    pub fn from_attr(s: &str) -> ImageFormat {
        match s.trim().to_ascii_uppercase().as_str() {
            "PNG" => ImageFormat::Png,
            "JPEG" | "JPG" => ImageFormat::Jpeg,
            "BMP" => ImageFormat::Bmp,
            "TIFF" | "TIF" => ImageFormat::Tiff,
            "GIF" => ImageFormat::Gif,
            "JB2" | "JBIG2" => ImageFormat::Jbig2,
            _ => ImageFormat::Other(s.to_string()),
        }
    }
    /// The `Format` attribute value we write.
    pub fn as_attr(&self) -> &str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Bmp => "BMP",
            ImageFormat::Tiff => "TIFF",
            ImageFormat::Gif => "GIF",
            ImageFormat::Jbig2 => "JBIG2",
            ImageFormat::Other(s) => s,
        }
    }
}

/// A multimedia resource (`CT_MultiMedia`); for us always an image.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiMedia {
    /// Resource ID.
    pub id: Id,
    /// `Type` (`Image`, `Audio`, `Video`).
    pub media_type: String,
    /// The format: the `Format` attribute, or sniffed from the bytes when absent.
    pub format: Option<ImageFormat>,
    /// Resolved path of `MediaFile`.
    pub file: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// A drawing parameter resource (`CT_DrawParam`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrawParam {
    /// Resource ID.
    pub id: Id,
    /// `Relative`: the parameter this one inherits from.
    pub relative: Option<Id>,
    /// `LineWidth`.
    pub line_width: Option<f64>,
    /// `Join`.
    pub join: Option<LineJoin>,
    /// `Cap`.
    pub cap: Option<LineCap>,
    /// `DashOffset`.
    pub dash_offset: Option<f64>,
    /// `DashPattern`.
    pub dash_pattern: Vec<f64>,
    /// `MiterLimit`.
    pub miter_limit: Option<f64>,
    /// `FillColor`.
    pub fill_color: Option<Color>,
    /// `StrokeColor`.
    pub stroke_color: Option<Color>,
}

/// A colour space resource (`CT_ColorSpace`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColorSpace {
    /// Resource ID.
    pub id: Id,
    /// `Type`: `GRAY`, `RGB` or `CMYK`.
    pub space_type: String,
    /// `BitsPerComponent` (default 8).
    pub bits_per_component: u8,
}

/// A template page (`CommonData/TemplatePage`) with its content.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePage {
    /// ID.
    pub id: Id,
    /// `Name`.
    pub name: Option<String>,
    /// `ZOrder` (`Background` default, or `Foreground`).
    pub z_order: Option<String>,
    /// Resolved path of the template's content file.
    pub content_path: String,
    /// The template's own `Area`, if any.
    pub area: Option<PageArea>,
    /// Its layers.
    pub layers: Vec<Layer>,
}

/// A page's use of a template (`Page/Template`).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRef {
    /// `TemplateID`.
    pub template_id: Id,
    /// `ZOrder` override.
    pub z_order: Option<String>,
}

/// A page (`Pages/Page` plus its `Content.xml`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// ID from `Document.xml` (`None` only in sloppy files).
    pub id: Option<Id>,
    /// Resolved path of the page's content file.
    pub content_path: String,
    /// The page's own `Area` (overrides the document's `PageArea`).
    pub area: Option<PageArea>,
    /// Templates drawn with this page.
    pub templates: Vec<TemplateRef>,
    /// Resolved paths of `PageRes` files.
    pub page_res: Vec<String>,
    /// Layers in drawing order.
    pub layers: Vec<Layer>,
    /// Annotations of this page (from the document's annotation index).
    pub annotations: Vec<Annotation>,
}

/// Layer kinds (`Layer/@Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerType {
    /// `Body` (default).
    #[default]
    Body,
    /// `Background`.
    Background,
    /// `Foreground`.
    Foreground,
    /// `Custom`.
    Custom,
}

impl LayerType {
    /// The attribute value.
    pub fn as_attr(self) -> &'static str {
        match self {
            LayerType::Body => "Body",
            LayerType::Background => "Background",
            LayerType::Foreground => "Foreground",
            LayerType::Custom => "Custom",
        }
    }
    /// Parses the attribute value (unknown → `Body`).
    pub fn from_attr(s: &str) -> Self {
        match s {
            "Background" => LayerType::Background,
            "Foreground" => LayerType::Foreground,
            "Custom" => LayerType::Custom,
            _ => LayerType::Body,
        }
    }
}

/// A layer (`CT_Layer`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layer {
    /// ID.
    pub id: Option<Id>,
    /// `Type`.
    pub layer_type: LayerType,
    /// `DrawParam` reference.
    pub draw_param: Option<Id>,
    /// Graphic objects in drawing order.
    pub objects: Vec<GraphicObject>,
}

/// A graphic object (the children of a layer or page block).
#[derive(Debug, Clone, PartialEq)]
pub enum GraphicObject {
    /// `TextObject`.
    Text(TextObject),
    /// `PathObject`.
    Path(PathObject),
    /// `ImageObject`.
    Image(ImageObject),
    /// `CompositeObject` (a reference to a composite graphic unit resource; not expanded).
    Composite(CompositeObject),
    /// `PageBlock`: a group of objects.
    Block(PageBlock),
}

impl GraphicObject {
    /// The common attributes, for blocks `None`.
    pub fn common(&self) -> Option<&GraphicCommon> {
        match self {
            GraphicObject::Text(t) => Some(&t.common),
            GraphicObject::Path(p) => Some(&p.common),
            GraphicObject::Image(i) => Some(&i.common),
            GraphicObject::Composite(c) => Some(&c.common),
            GraphicObject::Block(_) => None,
        }
    }
}

/// Attributes every graphic unit has (`CT_GraphicUnit`, clause 8.5).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphicCommon {
    /// ID (real files sometimes omit it).
    pub id: Option<Id>,
    /// `Name`.
    pub name: Option<String>,
    /// `Visible` (default true).
    pub visible: bool,
    /// `Boundary` in the containing space; content outside is clipped.
    pub boundary: Rect,
    /// `CTM`: object space → boundary space.
    pub ctm: Option<Matrix>,
    /// `DrawParam` reference.
    pub draw_param: Option<Id>,
    /// `LineWidth` (default 0.353 mm).
    pub line_width: Option<f64>,
    /// `Cap`.
    pub cap: Option<LineCap>,
    /// `Join`.
    pub join: Option<LineJoin>,
    /// `MiterLimit`.
    pub miter_limit: Option<f64>,
    /// `DashOffset`.
    pub dash_offset: Option<f64>,
    /// `DashPattern`.
    pub dash_pattern: Vec<f64>,
    /// `Alpha`, 0–255 (default 255).
    pub alpha: Option<u8>,
    /// `Clips/Clip`: the object is drawn only inside the intersection of all clips; each
    /// clip is the union of its areas.
    pub clips: Vec<Clip>,
}

/// One `Clip` (union of its areas).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Clip {
    /// `Area` elements.
    pub areas: Vec<ClipArea>,
}

/// One clip `Area`: a path in the object's space.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipArea {
    /// `CTM` of the area.
    pub ctm: Option<Matrix>,
    /// The area's `Path` (its own Boundary and AbbreviatedData); text clips are not supported
    /// and are skipped by the reader.
    pub path: PathObject,
}

/// A text object (`CT_Text`, clause 11).
#[derive(Debug, Clone, PartialEq)]
pub struct TextObject {
    /// Common attributes.
    pub common: GraphicCommon,
    /// `Font` reference.
    pub font: Id,
    /// `Size`: em size in mm.
    pub size: f64,
    /// `Stroke` (default false).
    pub stroke: bool,
    /// `Fill` (default true).
    pub fill: bool,
    /// `HScale` (default 1).
    pub hscale: f64,
    /// `ReadDirection` (0, 90, 180, 270).
    pub read_direction: u32,
    /// `CharDirection`.
    pub char_direction: u32,
    /// `Weight` (default 400).
    pub weight: u32,
    /// `Italic`.
    pub italic: bool,
    /// `FillColor` (default black).
    pub fill_color: Option<Color>,
    /// `StrokeColor`.
    pub stroke_color: Option<Color>,
    /// Text codes in order.
    pub codes: Vec<TextCode>,
}

/// A `TextCode` with the `CGTransform`s that precede it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextCode {
    /// `X` of the first character's origin (object space); inherited when absent.
    pub x: f64,
    /// `Y` (baseline) of the first character's origin.
    pub y: f64,
    /// `DeltaX`: offset from each character to the next (expanded; `g N v` becomes N copies).
    /// May be shorter than `text.chars().count() - 1` in real files.
    pub delta_x: Vec<f64>,
    /// `DeltaY`, like `delta_x`.
    pub delta_y: Vec<f64>,
    /// The characters.
    pub text: String,
    /// Glyph mappings for characters that do not follow the font's cmap.
    pub cg_transforms: Vec<CgTransform>,
}

impl TextCode {
    /// The origin of each character in object space. A short `DeltaX`/`DeltaY` is padded with
    /// its last value (ofdrw's rule); an absent one means 0 (characters stacked).
    pub fn positions(&self) -> Vec<(char, f64, f64)> {
        let mut out = Vec::with_capacity(self.text.len());
        let (mut x, mut y) = (self.x, self.y);
        for (i, ch) in self.text.chars().enumerate() {
            if i > 0 {
                x += self
                    .delta_x
                    .get(i - 1)
                    .or(self.delta_x.last())
                    .copied()
                    .unwrap_or(0.0);
                y += self
                    .delta_y
                    .get(i - 1)
                    .or(self.delta_y.last())
                    .copied()
                    .unwrap_or(0.0);
            }
            out.push((ch, x, y));
        }
        out
    }
}

/// `CGTransform` (clause 11.4): characters `code_position .. code_position + code_count` of
/// the following `TextCode` are drawn with the listed glyph indices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CgTransform {
    /// `CodePosition`.
    pub code_position: u32,
    /// `CodeCount` (default 1).
    pub code_count: u32,
    /// `GlyphCount` (default 1).
    pub glyph_count: u32,
    /// `Glyphs`: glyph indices in the embedded font.
    pub glyphs: Vec<u16>,
}

/// Fill rule of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillRule {
    /// `NonZero` (default).
    #[default]
    NonZero,
    /// `Even-Odd`.
    EvenOdd,
}

/// A path object (`CT_Path`, clause 9).
#[derive(Debug, Clone, PartialEq)]
pub struct PathObject {
    /// Common attributes.
    pub common: GraphicCommon,
    /// `Stroke` (default true).
    pub stroke: bool,
    /// `Fill` (default false).
    pub fill: bool,
    /// `Rule`.
    pub rule: FillRule,
    /// `StrokeColor`.
    pub stroke_color: Option<Color>,
    /// `FillColor`.
    pub fill_color: Option<Color>,
    /// `AbbreviatedData`, parsed; coordinates in object space.
    pub data: Vec<PathOp>,
}

/// One operator of `AbbreviatedData` (clause 9.3.2, table 39).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PathOp {
    /// `S x y`: start a subpath.
    Start(f64, f64),
    /// `M x y`: move.
    Move(f64, f64),
    /// `L x y`: line.
    Line(f64, f64),
    /// `Q x1 y1 x y`: quadratic Bézier.
    Quad(f64, f64, f64, f64),
    /// `B x1 y1 x2 y2 x y`: cubic Bézier.
    Cubic(f64, f64, f64, f64, f64, f64),
    /// `A rx ry angle large sweep x y`: elliptical arc.
    Arc {
        /// Radius x.
        rx: f64,
        /// Radius y.
        ry: f64,
        /// Rotation of the ellipse, degrees.
        angle: f64,
        /// Large-arc flag.
        large: bool,
        /// Sweep flag.
        sweep: bool,
        /// End x.
        x: f64,
        /// End y.
        y: f64,
    },
    /// `C`: close the subpath.
    Close,
}

/// An image object (`CT_Image`, clause 10): the image fills the unit square of its object
/// space, so `CTM` scales it (`w 0 0 h 0 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageObject {
    /// Common attributes.
    pub common: GraphicCommon,
    /// `ResourceID` of the `MultiMedia`.
    pub resource_id: Id,
    /// `Substitution` image.
    pub substitution: Option<Id>,
    /// `ImageMask`.
    pub image_mask: Option<Id>,
}

/// A composite object (`CT_Composite`): a reference to a composite graphic unit.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeObject {
    /// Common attributes.
    pub common: GraphicCommon,
    /// `ResourceID`.
    pub resource_id: Id,
}

/// A page block (`CT_PageBlock`): a group of objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageBlock {
    /// ID.
    pub id: Option<Id>,
    /// The objects.
    pub objects: Vec<GraphicObject>,
}

/// An annotation (`Annot`, clause 15).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotation {
    /// ID.
    pub id: Option<Id>,
    /// `Type` (`Link`, `Path`, `Highlight`, `Stamp`, `Watermark`).
    pub annot_type: String,
    /// `Subtype`.
    pub subtype: Option<String>,
    /// `Creator`.
    pub creator: Option<String>,
    /// `LastModDate`.
    pub last_mod_date: Option<String>,
    /// `Visible` (default true).
    pub visible: bool,
    /// `Print` (default true).
    pub print: bool,
    /// `Remark`.
    pub remark: Option<String>,
    /// `Parameters/Parameter`: name → value.
    pub parameters: Vec<(String, String)>,
    /// `Appearance`: its boundary and objects.
    pub appearance: Option<Appearance>,
    /// Resolved path of the annotation file this came from.
    pub file: String,
}

/// An annotation's appearance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Appearance {
    /// `Boundary` on the page.
    pub boundary: Rect,
    /// The objects, in the appearance's space.
    pub objects: Vec<GraphicObject>,
}

/// A custom tag (clause 16): a tag file in its own namespace that refers to content by ID.
///
/// the reader keeps the tag file's bytes exactly as stored, so identifiers
/// kept there survive any exchange unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTag {
    /// `TypeID` (the name in the standard's table 63).
    pub type_id: Option<String>,
    /// `NameSpace` (the name in the Annex A XSD).
    pub namespace: Option<String>,
    /// Resolved path of `SchemaLoc`.
    pub schema_loc: Option<String>,
    /// Resolved path of `FileLoc`.
    pub file: String,
    /// The tag file's bytes, unchanged.
    pub data: Vec<u8>,
}

/// An attachment (clause 20).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attachment {
    /// `ID` (xs:ID; real files omit it or use digits).
    pub id: Option<String>,
    /// `Name`.
    pub name: String,
    /// `Format` (e.g. `ofd`, `xml`).
    pub format: Option<String>,
    /// `CreationDate` as written.
    pub creation_date: Option<String>,
    /// `ModDate` as written.
    pub mod_date: Option<String>,
    /// `Size` in KB as written.
    pub size_kb: Option<f64>,
    /// `Visible` (default true).
    pub visible: bool,
    /// `Usage` (default `none`).
    pub usage: Option<String>,
    /// Resolved path of `FileLoc`.
    pub file: String,
    /// The attached file's bytes.
    pub data: Vec<u8>,
}

/// Leniencies the reader applied, so that a verifier or `inspect` can report them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A reference matched an entry only up to case (v4signed.ofd's `TPLS/…` for `Tpls/…`).
    CaseMismatch {
        /// The file holding the reference.
        file: String,
        /// The path the reference resolves to.
        wanted: String,
        /// The entry used instead.
        used: String,
    },
    /// A referenced file is missing; the object was kept without its data.
    MissingFile {
        /// The file holding the reference.
        file: String,
        /// The missing path.
        wanted: String,
    },
    /// A value could not be parsed and was skipped or defaulted.
    BadValue {
        /// The file.
        file: String,
        /// Element and attribute.
        what: String,
        /// The value.
        value: String,
    },
    /// An element used a namespace other than `http://www.ofdspec.org/2016` (or none).
    ForeignNamespace {
        /// The file.
        file: String,
        /// The namespace URI (empty = none).
        namespace: String,
    },
    /// The same ID is used by two objects.
    DuplicateId {
        /// The ID.
        id: u32,
    },
    /// Dynamic content (`Actions`) is present (R-4.1.4 forbids it in certificates; the reader
    /// never executes it).
    Dynamic {
        /// The file.
        file: String,
    },
    /// Something the standard requires is absent (e.g. `MaxUnitID`, `BaseLoc`).
    MissingRequired {
        /// The file.
        file: String,
        /// What is missing.
        what: String,
    },
}

/// Line cap (`Cap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCap {
    /// `Butt` (default).
    Butt,
    /// `Round`.
    Round,
    /// `Square`.
    Square,
}

impl LineCap {
    /// The attribute value.
    pub fn as_attr(self) -> &'static str {
        match self {
            LineCap::Butt => "Butt",
            LineCap::Round => "Round",
            LineCap::Square => "Square",
        }
    }
    /// Parses the attribute value.
    pub fn from_attr(s: &str) -> Option<Self> {
        match s {
            "Butt" => Some(LineCap::Butt),
            "Round" => Some(LineCap::Round),
            "Square" => Some(LineCap::Square),
            _ => None,
        }
    }
}

/// Line join (`Join`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineJoin {
    /// `Miter` (default).
    Miter,
    /// `Round`.
    Round,
    /// `Bevel`.
    Bevel,
}

impl LineJoin {
    /// The attribute value.
    pub fn as_attr(self) -> &'static str {
        match self {
            LineJoin::Miter => "Miter",
            LineJoin::Round => "Round",
            LineJoin::Bevel => "Bevel",
        }
    }
    /// Parses the attribute value.
    pub fn from_attr(s: &str) -> Option<Self> {
        match s {
            "Miter" => Some(LineJoin::Miter),
            "Round" => Some(LineJoin::Round),
            "Bevel" => Some(LineJoin::Bevel),
            _ => None,
        }
    }
}
