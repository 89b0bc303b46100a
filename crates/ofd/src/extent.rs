//! Where a page's objects may be painted, as the renderer draws them (each object clipped to its
//! `Boundary`, clause 8.5): what [`crate::overlay::Overlay`] avoids when it looks for free room,
//! and what the renderer (feature `render`) clips to. Plain geometry over the
//! [model](crate::model), so it needs no rasteriser.

use crate::model::{Document, GraphicCommon, GraphicObject, Rect};

/// The rectangle an object is clipped to when drawn: its `Boundary` (clause 8.5: content
/// outside it is not shown), in the coordinates of its container (page millimetres for
/// objects of page layers, templates and page blocks). `None` when the Boundary is missing,
/// empty or not finite: the renderer then does not clip the object, so its extent is unknown.
pub fn clip_box(c: &GraphicCommon) -> Option<Rect> {
    let b = c.boundary;
    (b.w > 0.0 && b.h > 0.0 && [b.x, b.y, b.w, b.h].iter().all(|v| v.is_finite())).then_some(b)
}

/// Where something may be painted on page `index` of `doc`, as the renderer draws it: one
/// rectangle (page millimetres) per graphic object of the page's templates and layers
/// ([`clip_box`]; objects inside `PageBlock`s one by one) and one per annotation appearance
/// (its `Boundary`). An object whose extent is unknown (no usable Boundary) is given the whole
/// page box, so that nothing is ever placed over it by mistake. Invisible objects count too.
pub fn page_object_boxes(doc: &Document, index: usize) -> Vec<Rect> {
    fn walk(objs: &[GraphicObject], page: Rect, depth: usize, out: &mut Vec<Rect>) {
        for o in objs {
            match o {
                GraphicObject::Block(b) => {
                    if depth < 64 {
                        walk(&b.objects, page, depth + 1, out);
                    } else {
                        out.push(page);
                    }
                }
                other => {
                    if let Some(c) = other.common() {
                        out.push(clip_box(c).unwrap_or(page));
                    }
                }
            }
        }
    }
    let Some(page) = doc.pages.get(index) else {
        return Vec::new();
    };
    let page_box = doc.page_box(index).unwrap_or(Rect::A4);
    let mut out = Vec::new();
    for t in &page.templates {
        if let Some(tp) = doc.template(t.template_id) {
            for l in &tp.layers {
                walk(&l.objects, page_box, 0, &mut out);
            }
        }
    }
    for l in &page.layers {
        walk(&l.objects, page_box, 0, &mut out);
    }
    for a in &page.annotations {
        if let Some(ap) = &a.appearance {
            let b = ap.boundary;
            if b.w > 0.0 && b.h > 0.0 {
                out.push(b);
            } else if !ap.objects.is_empty() {
                out.push(page_box);
            }
        }
    }
    out
}
