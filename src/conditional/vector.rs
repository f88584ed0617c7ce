//! The parameter vector the optimiser works on: a `Vec<f64>` newtype with argmin's
//! vector-space traits, so L-BFGS runs without argmin-math's `vec` feature (which
//! would pull a second `rand`) and without an ndarray version argmin-math supports.

use argmin_math::{
    ArgminAdd, ArgminDot, ArgminL1Norm, ArgminL2Norm, ArgminMinMax, ArgminMul, ArgminScaledAdd,
    ArgminSignum, ArgminSub, ArgminZeroLike,
};

/// A dense parameter (or gradient) vector.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ParamVec(pub(crate) Vec<f64>);

impl ParamVec {
    fn zip_with(&self, other: &Self, f: impl Fn(f64, f64) -> f64) -> Self {
        debug_assert_eq!(self.0.len(), other.0.len());
        Self(
            self.0
                .iter()
                .zip(&other.0)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        )
    }

    fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Self(self.0.iter().map(|&a| f(a)).collect())
    }
}

impl ArgminAdd<ParamVec, ParamVec> for ParamVec {
    fn add(&self, other: &ParamVec) -> ParamVec {
        self.zip_with(other, |a, b| a + b)
    }
}

impl ArgminAdd<f64, ParamVec> for ParamVec {
    fn add(&self, other: &f64) -> ParamVec {
        self.map(|a| a + other)
    }
}

impl ArgminSub<ParamVec, ParamVec> for ParamVec {
    fn sub(&self, other: &ParamVec) -> ParamVec {
        self.zip_with(other, |a, b| a - b)
    }
}

impl ArgminSub<f64, ParamVec> for ParamVec {
    fn sub(&self, other: &f64) -> ParamVec {
        self.map(|a| a - other)
    }
}

impl ArgminMul<f64, ParamVec> for ParamVec {
    fn mul(&self, other: &f64) -> ParamVec {
        self.map(|a| a * other)
    }
}

impl ArgminMul<ParamVec, ParamVec> for ParamVec {
    fn mul(&self, other: &ParamVec) -> ParamVec {
        self.zip_with(other, |a, b| a * b)
    }
}

impl ArgminDot<ParamVec, f64> for ParamVec {
    fn dot(&self, other: &ParamVec) -> f64 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

impl ArgminScaledAdd<ParamVec, f64, ParamVec> for ParamVec {
    fn scaled_add(&self, factor: &f64, vec: &ParamVec) -> ParamVec {
        self.zip_with(vec, |a, b| a + factor * b)
    }
}

impl ArgminL1Norm<f64> for ParamVec {
    fn l1_norm(&self) -> f64 {
        self.0.iter().map(|a| a.abs()).sum()
    }
}

impl ArgminL2Norm<f64> for ParamVec {
    fn l2_norm(&self) -> f64 {
        self.0.iter().map(|a| a * a).sum::<f64>().sqrt()
    }
}

impl ArgminSignum for ParamVec {
    fn signum(self) -> ParamVec {
        self.map(f64::signum)
    }
}

impl ArgminZeroLike for ParamVec {
    fn zero_like(&self) -> ParamVec {
        Self(vec![0.0; self.0.len()])
    }
}

impl ArgminMinMax for ParamVec {
    fn min(x: &Self, y: &Self) -> Self {
        x.zip_with(y, f64::min)
    }

    fn max(x: &Self, y: &Self) -> Self {
        x.zip_with(y, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_space_operations() {
        let a = ParamVec(vec![1.0, -2.0]);
        let b = ParamVec(vec![3.0, 4.0]);
        assert_eq!(ArgminAdd::add(&a, &b).0, vec![4.0, 2.0]);
        assert_eq!(ArgminSub::sub(&a, &b).0, vec![-2.0, -6.0]);
        assert_eq!(ArgminSub::sub(&a, &1.0).0, vec![0.0, -3.0]);
        assert_eq!(ArgminMul::mul(&a, &b).0, vec![3.0, -8.0]);
        assert_eq!(ArgminDot::dot(&a, &b), -5.0);
        assert_eq!(a.scaled_add(&2.0, &b).0, vec![7.0, 6.0]);
        assert_eq!(a.l1_norm(), 3.0);
        assert_eq!(b.l2_norm(), 5.0);
        assert_eq!(a.clone().signum().0, vec![1.0, -1.0]);
        assert_eq!(a.zero_like().0, vec![0.0, 0.0]);
        assert_eq!(<ParamVec as ArgminMinMax>::min(&a, &b).0, vec![1.0, -2.0]);
        assert_eq!(<ParamVec as ArgminMinMax>::max(&a, &b).0, vec![3.0, 4.0]);
    }
}
