//! Plain geometry in millimetres, independent of typst's types.

/// Millimetres per PostScript point (1 pt = 1/72 in = 25.4/72 mm).
pub const MM_PER_PT: f64 = 25.4 / 72.0;

/// An affine map `x' = a·x + c·y + e`, `y' = b·x + d·y + f` (y pointing down, as in OFD and
/// typst). This is the matrix `[a b c d e f]` of an OFD `CTM`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// x scale.
    pub a: f64,
    /// y shear (x → y).
    pub b: f64,
    /// x shear (y → x).
    pub c: f64,
    /// y scale.
    pub d: f64,
    /// x translation.
    pub e: f64,
    /// y translation.
    pub f: f64,
}

impl Default for Affine {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Affine {
    /// The identity.
    pub const IDENTITY: Self = Self {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 1.0,
        e: 0.0,
        f: 0.0,
    };

    /// A translation.
    pub const fn translate(x: f64, y: f64) -> Self {
        Self {
            e: x,
            f: y,
            ..Self::IDENTITY
        }
    }

    /// `self · other`: apply `other` first, then `self`.
    pub fn then_after(&self, other: &Self) -> Self {
        Self {
            a: self.a * other.a + self.c * other.b,
            b: self.b * other.a + self.d * other.b,
            c: self.a * other.c + self.c * other.d,
            d: self.b * other.c + self.d * other.d,
            e: self.a * other.e + self.c * other.f + self.e,
            f: self.b * other.e + self.d * other.f + self.f,
        }
    }

    /// Map a point.
    pub fn apply(&self, p: Point) -> Point {
        Point {
            x: self.a * p.x + self.c * p.y + self.e,
            y: self.b * p.x + self.d * p.y + self.f,
        }
    }

    /// Whether the map only translates (no scale, rotation or shear).
    pub fn is_translation(&self) -> bool {
        self.a == 1.0 && self.b == 0.0 && self.c == 0.0 && self.d == 1.0
    }

    /// The factor by which lengths grow (the square root of the absolute determinant); used
    /// for line widths under a uniform scale.
    pub fn length_scale(&self) -> f64 {
        (self.a * self.d - self.b * self.c).abs().sqrt()
    }

    /// The same map with its translation replaced.
    pub fn with_translation(&self, e: f64, f: f64) -> Self {
        Self { e, f, ..*self }
    }
}

/// A point in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// x, to the right.
    pub x: f64,
    /// y, downwards.
    pub y: f64,
}

impl Point {
    /// A point.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

/// An axis-aligned rectangle in millimetres (x, y of the top left corner, width, height), as
/// an OFD `ST_Box`.
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
    /// A rectangle.
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self { x, y, w, h }
    }

    /// The smallest rectangle holding all the points, or `None` for no points.
    pub fn bounding(points: impl IntoIterator<Item = Point>) -> Option<Self> {
        let mut it = points.into_iter();
        let first = it.next()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
        for p in it {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        Some(Self::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// This rectangle grown by `d` on every side.
    pub fn inflate(&self, d: f64) -> Self {
        Self::new(self.x - d, self.y - d, self.w + 2.0 * d, self.h + 2.0 * d)
    }

    /// The rectangle's corners.
    pub fn corners(&self) -> [Point; 4] {
        [
            Point::new(self.x, self.y),
            Point::new(self.x + self.w, self.y),
            Point::new(self.x + self.w, self.y + self.h),
            Point::new(self.x, self.y + self.h),
        ]
    }

    /// The bounding box of this rectangle mapped by `m`.
    pub fn transformed(&self, m: &Affine) -> Self {
        Self::bounding(self.corners().map(|p| m.apply(p))).unwrap_or(*self)
    }

    /// Whether the two rectangles share interior area (touching edges do not count).
    pub fn overlaps(&self, other: &Self) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_applies_inner_first() {
        let outer = Affine::translate(10.0, 0.0);
        let rot = Affine {
            a: 0.0,
            b: 1.0,
            c: -1.0,
            d: 0.0,
            e: 0.0,
            f: 0.0,
        };
        let m = outer.then_after(&rot);
        let p = m.apply(Point::new(1.0, 0.0));
        assert!(
            (p.x - 10.0).abs() < 1e-12 && (p.y - 1.0).abs() < 1e-12,
            "{p:?}"
        );
    }

    #[test]
    fn overlap_excludes_touching() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert!(!a.overlaps(&Rect::new(10.0, 0.0, 5.0, 5.0)));
        assert!(a.overlaps(&Rect::new(9.9, 9.9, 5.0, 5.0)));
    }
}
