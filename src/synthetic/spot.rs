//! The stream the SPOT detector (libspot) is benchmarked on.

/// `n` points of `sin(2πi/100) + U(0, 0.1) + S_i`, where `S_i` is 0 with probability
/// 0.9 and otherwise a Lomax (Pareto II) spike of shape 0.5 and scale 1, drawn by
/// inversion: `(1 - u)^-2 - 1`. The spikes' tail index is 2 (their mean is
/// infinite) and they are *normal* data: a calibrated detector at risk `r` flags
/// about `r · n` points.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let ys = tailcast::synthetic::spot_stream(1_000, &mut rand::rngs::StdRng::seed_from_u64(7));
/// let spikes = ys.iter().enumerate()
///     .filter(|(i, y)| **y - (std::f64::consts::TAU * *i as f64 / 100.0).sin() > 0.1)
///     .count();
/// assert!((60..140).contains(&spikes), "{spikes}");
/// ```
pub fn spot_stream<R: rand::Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    use rand::RngExt;
    (0..n)
        .map(|i| {
            let base = (std::f64::consts::TAU * i as f64 / 100.0).sin();
            let noise = 0.1 * rng.random::<f64>();
            let spike = if rng.random::<f64>() < 0.1 {
                (1.0 - rng.random::<f64>()).powi(-2) - 1.0
            } else {
                0.0
            };
            base + noise + spike
        })
        .collect()
}
