//! The `A` operator of `AbbreviatedData` (clause 9.3.2): an elliptical arc given by its end
//! points, radii, rotation and flags (the SVG endpoint parameterisation), converted to cubic
//! Béziers through the centre parameterisation (SVG 1.1 implementation notes F.6.5–F.6.6).

use std::f64::consts::PI;

/// Cubic segments `(c1, c2, end)` approximating the arc from `from` to `to`. Degenerate arcs
/// (zero radius) become a straight line; coincident end points give nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn arc_to_cubics(
    from: (f64, f64),
    rx: f64,
    ry: f64,
    angle_deg: f64,
    large: bool,
    sweep: bool,
    to: (f64, f64),
) -> Vec<[(f64, f64); 3]> {
    let (x1, y1) = from;
    let (x2, y2) = to;
    if (x1 - x2).abs() < 1e-12 && (y1 - y2).abs() < 1e-12 {
        return Vec::new();
    }
    let (mut rx, mut ry) = (rx.abs(), ry.abs());
    if rx < 1e-12 || ry < 1e-12 || !rx.is_finite() || !ry.is_finite() {
        return vec![[from, to, to]];
    }
    let phi = (angle_deg % 360.0).to_radians();
    let (sin_p, cos_p) = phi.sin_cos();
    // F.6.5.1: the midpoint in the ellipse's axes.
    let dx = (x1 - x2) / 2.0;
    let dy = (y1 - y2) / 2.0;
    let x1p = cos_p * dx + sin_p * dy;
    let y1p = -sin_p * dx + cos_p * dy;
    // F.6.6: scale radii up if they cannot reach.
    let lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);
    if lambda > 1.0 {
        let s = lambda.sqrt();
        rx *= s;
        ry *= s;
    }
    // F.6.5.2: the centre.
    let num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p;
    let den = rx * rx * y1p * y1p + ry * ry * x1p * x1p;
    let mut coef = if den > 0.0 {
        (num / den).max(0.0).sqrt()
    } else {
        0.0
    };
    if large == sweep {
        coef = -coef;
    }
    let cxp = coef * rx * y1p / ry;
    let cyp = -coef * ry * x1p / rx;
    let cx = cos_p * cxp - sin_p * cyp + (x1 + x2) / 2.0;
    let cy = sin_p * cxp + cos_p * cyp + (y1 + y2) / 2.0;
    // F.6.5.5–6: start angle and sweep.
    let angle = |ux: f64, uy: f64, vx: f64, vy: f64| {
        let a = (ux * vy - uy * vx).atan2(ux * vx + uy * vy);
        if a.is_finite() { a } else { 0.0 }
    };
    let ux = (x1p - cxp) / rx;
    let uy = (y1p - cyp) / ry;
    let vx = (-x1p - cxp) / rx;
    let vy = (-y1p - cyp) / ry;
    let theta1 = angle(1.0, 0.0, ux, uy);
    let mut dtheta = angle(ux, uy, vx, vy);
    if !sweep && dtheta > 0.0 {
        dtheta -= 2.0 * PI;
    } else if sweep && dtheta < 0.0 {
        dtheta += 2.0 * PI;
    }
    if !(cx.is_finite() && cy.is_finite() && theta1.is_finite() && dtheta.is_finite()) {
        return vec![[from, to, to]];
    }
    // At most 90° per segment.
    let n = ((dtheta.abs() / (PI / 2.0)).ceil() as usize).clamp(1, 4);
    let step = dtheta / n as f64;
    let k = 4.0 / 3.0 * (step / 4.0).tan();
    let point = |t: f64| {
        let (s, c) = t.sin_cos();
        (
            cx + rx * c * cos_p - ry * s * sin_p,
            cy + rx * c * sin_p + ry * s * cos_p,
        )
    };
    let deriv = |t: f64| {
        let (s, c) = t.sin_cos();
        (
            -rx * s * cos_p - ry * c * sin_p,
            -rx * s * sin_p + ry * c * cos_p,
        )
    };
    let mut out = Vec::with_capacity(n);
    let mut t = theta1;
    let mut p0 = from;
    for i in 0..n {
        let t1 = t + step;
        let p3 = if i + 1 == n { to } else { point(t1) };
        let d0 = deriv(t);
        let d1 = deriv(t1);
        let c1 = (p0.0 + k * d0.0, p0.1 + k * d0.1);
        let c2 = (p3.0 - k * d1.0, p3.1 - k * d1.1);
        out.push([c1, c2, p3]);
        p0 = p3;
        t = t1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(p0: (f64, f64), s: &[(f64, f64); 3], t: f64) -> (f64, f64) {
        let m = 1.0 - t;
        let [c1, c2, p3] = *s;
        (
            m * m * m * p0.0 + 3.0 * m * m * t * c1.0 + 3.0 * m * t * t * c2.0 + t * t * t * p3.0,
            m * m * m * p0.1 + 3.0 * m * m * t * c1.1 + 3.0 * m * t * t * c2.1 + t * t * t * p3.1,
        )
    }

    #[test]
    fn half_circle_stays_on_the_circle() {
        // From (0,0) to (20,0), radius 10: centre (10,0).
        for sweep in [false, true] {
            let segs = arc_to_cubics((0.0, 0.0), 10.0, 10.0, 0.0, false, sweep, (20.0, 0.0));
            assert_eq!(segs.len(), 2);
            let mut p0 = (0.0, 0.0);
            let mut ys = Vec::new();
            for s in &segs {
                for i in 0..=10 {
                    let (x, y) = eval(p0, s, f64::from(i) / 10.0);
                    let r = ((x - 10.0).powi(2) + y.powi(2)).sqrt();
                    assert!((r - 10.0).abs() < 0.01, "r={r}");
                    ys.push(y);
                }
                p0 = s[2];
            }
            // Sweep 1 is the positive angle direction, clockwise on the y-down page (as in
            // SVG): from the left end it goes up first (y < 0).
            let mid = ys[ys.len() / 2];
            assert!(
                if sweep { mid < -9.9 } else { mid > 9.9 },
                "sweep {sweep}: {mid}"
            );
        }
    }

    #[test]
    fn large_arc_flag_picks_the_long_way_and_radii_scale_up() {
        let short = arc_to_cubics((0.0, 0.0), 10.0, 10.0, 0.0, false, true, (10.0, 10.0));
        let long = arc_to_cubics((0.0, 0.0), 10.0, 10.0, 0.0, true, true, (10.0, 10.0));
        assert_eq!(short.len(), 1);
        assert_eq!(long.len(), 3);
        // Radius too small: scaled to a half circle of radius 5 around (5, 0).
        let s = arc_to_cubics((0.0, 0.0), 1.0, 1.0, 0.0, false, true, (10.0, 0.0));
        assert_eq!(s.last().map(|c| c[2]), Some((10.0, 0.0)));
        let mut p0 = (0.0, 0.0);
        for seg in &s {
            for i in 0..=10 {
                let (x, y) = eval(p0, seg, f64::from(i) / 10.0);
                assert!((((x - 5.0).powi(2) + y * y).sqrt() - 5.0).abs() < 0.01);
            }
            p0 = seg[2];
        }
    }

    #[test]
    fn degenerate_arcs() {
        assert!(arc_to_cubics((1.0, 1.0), 5.0, 5.0, 0.0, false, false, (1.0, 1.0)).is_empty());
        assert_eq!(
            arc_to_cubics((0.0, 0.0), 0.0, 5.0, 0.0, false, false, (3.0, 4.0)).len(),
            1
        );
        let nan = arc_to_cubics((0.0, 0.0), f64::NAN, 5.0, 0.0, false, false, (3.0, 4.0));
        assert_eq!(nan.len(), 1);
    }
}
