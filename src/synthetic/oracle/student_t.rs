//! Student's t density and cdf, in closed form for integer degrees of freedom.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::gamma::ln_gamma;

/// Student's t with `nu` degrees of freedom (location 0, scale 1).
#[derive(Debug, Clone)]
pub(super) struct StudentT {
    nu: f64,
    /// `Γ((ν+1)/2) / (√(νπ) Γ(ν/2))`, the density at 0.
    norm: f64,
    /// The closed form applies (ν a small positive integer); else statrs.
    integer: Option<u32>,
    fallback: Option<StudentsT>,
}

impl StudentT {
    /// `nu >= 1` (checked by the caller).
    pub(super) fn new(nu: f64) -> Self {
        let norm = (ln_gamma((nu + 1.0) / 2.0)
            - ln_gamma(nu / 2.0)
            - 0.5 * (nu * std::f64::consts::PI).ln())
        .exp();
        let integer = (nu.fract() == 0.0 && nu <= 400.0).then_some(nu as u32);
        let fallback = match integer {
            Some(_) => None,
            None => StudentsT::new(0.0, 1.0, nu).ok(),
        };
        Self {
            nu,
            norm,
            integer,
            fallback,
        }
    }

    pub(super) fn nu(&self) -> f64 {
        self.nu
    }

    /// `Γ((ν+1)/2) / (√(νπ) Γ(ν/2))`.
    pub(super) fn norm(&self) -> f64 {
        self.norm
    }

    #[cfg(test)]
    pub(super) fn pdf(&self, t: f64) -> f64 {
        self.norm * (1.0 + t * t / self.nu).powf(-(self.nu + 1.0) / 2.0)
    }

    /// The cdf, accurate to about 1e-16 absolute.
    ///
    /// For integer ν (Abramowitz & Stegun 26.7.3–4), with `θ = atan(t/√ν)`:
    /// ```text
    /// ν even:  2F - 1 = sin θ Σ_{j<ν/2} c_j cos^{2j} θ,      c_0 = 1, c_j = c_{j-1} (2j-1)/(2j)
    /// ν odd:   2F - 1 = (2/π) [θ + sin θ cos θ Σ_{j<(ν-1)/2} d_j cos^{2j} θ],  d_0 = 1, d_j = d_{j-1} 2j/(2j+1)
    /// ```
    pub(super) fn cdf(&self, t: f64) -> f64 {
        if t.is_nan() {
            return f64::NAN;
        }
        if t == f64::INFINITY {
            return 1.0;
        }
        if t == f64::NEG_INFINITY {
            return 0.0;
        }
        let Some(nu) = self.integer else {
            return self.fallback.as_ref().map_or(f64::NAN, |d| d.cdf(t));
        };
        let r = (self.nu + t * t).sqrt();
        let sin = t / r;
        let cos2 = self.nu / (r * r);
        let a = if nu % 2 == 0 {
            let (mut term, mut sum) = (1.0, 1.0);
            for j in 1..nu / 2 {
                term *= cos2 * (2 * j - 1) as f64 / (2 * j) as f64;
                sum += term;
            }
            sin * sum
        } else {
            let theta = (t / self.nu.sqrt()).atan();
            let mut extra = 0.0;
            if nu >= 3 {
                let (mut term, mut sum) = (1.0, 1.0);
                for j in 1..(nu - 1) / 2 {
                    term *= cos2 * (2 * j) as f64 / (2 * j + 1) as f64;
                    sum += term;
                }
                extra = sin * cos2.sqrt() * sum;
            }
            2.0 / std::f64::consts::PI * (theta + extra)
        };
        (0.5 + 0.5 * a).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scipy.stats.t.cdf(t, nu)` (scipy 1.17.1) at `T_POINTS`.
    const T_POINTS: [f64; 8] = [-50.0, -3.0, -1.0, -0.2, 0.0, 0.7, 2.5, 12.0];
    #[rustfmt::skip]
    const SCIPY_CDF: [(f64, [f64; 8]); 8] = [
        (1.0, [0.006365349100972797, 0.10241638234956672, 0.25000000000000006, 0.4371670418109989, 0.5, 0.6944001122142147, 0.8788810584091566, 0.9735353239404101]),
        (2.0, [0.00019988007994404028, 0.04773298313335456, 0.2113248654051871, 0.42998599579859953, 0.5, 0.7218034876835673, 0.9351941398892446, 0.9965635331614208]),
        (3.0, [8.808576020635984e-06, 0.02883444281121865, 0.19550110947788524, 0.4271351646231395, 0.5, 0.7328365008476182, 0.9561466764959672, 0.9993774920996054]),
        (4.0, [4.787226828484845e-07, 0.019970984035859413, 0.18695048315002943, 0.4256185070684612, 0.5, 0.7387499172032749, 0.966616727594006, 0.9998617857257485]),
        (5.0, [3.0238788133006125e-08, 0.015049623948731293, 0.18160873382456144, 0.4246802569979144, 0.5, 0.7424255258425918, 0.9727549503288119, 0.9999645525374142]),
        (10.0, [1.23715516465134e-13, 0.006671827511284785, 0.17044656615103, 0.4227445956901727, 0.5, 0.7500562149135578, 0.9842765778816955, 0.9999998539295588]),
        (11.0, [1.2579580853788205e-14, 0.006039919735960685, 0.1694003480981008, 0.4225650044439715, 0.5, 0.7507677671528018, 0.9852468129563179, 0.9999999418357974]),
        (30.0, [9.357708829611355e-31, 0.0026949820328259727, 0.1626543077130151, 0.42141507852966237, 0.5, 0.7553397782501642, 0.9909421754659666, 0.999999999999721]),
    ];

    #[test]
    fn closed_form_matches_scipy() {
        for (nu, expected) in SCIPY_CDF {
            let ours = StudentT::new(nu);
            for (t, e) in T_POINTS.into_iter().zip(expected) {
                let a = ours.cdf(t);
                assert!((a - e).abs() < 1e-15, "nu={nu} t={t}: {a} vs {e}");
            }
        }
    }

    #[test]
    fn density_matches_statrs() {
        for nu in [1.0, 2.0, 3.0, 10.0, 11.0, 30.0] {
            let ours = StudentT::new(nu);
            let reference = StudentsT::new(0.0, 1.0, nu).unwrap();
            for t in T_POINTS {
                let (p, q) = (
                    ours.pdf(t),
                    statrs::distribution::Continuous::pdf(&reference, t),
                );
                assert!((p - q).abs() < 1e-13 * q, "nu={nu} t={t}: {p} vs {q}");
            }
        }
    }

    #[test]
    fn fractional_dof_uses_statrs() {
        let t = StudentT::new(2.5);
        let reference = StudentsT::new(0.0, 1.0, 2.5).unwrap();
        assert_eq!(t.cdf(1.3), reference.cdf(1.3));
    }
}
