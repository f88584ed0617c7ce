//! The stream libspot's SPOT detector is benchmarked on (`synthetic::spot_stream`:
//! a sine, small uniform noise and 10 % Lomax spikes of tail index 2 that are
//! normal data), 1,000,000 points through the default detector at risk 1e-3: about
//! 1,000 alarms are expected. `cargo run --release --example spot_stream` prints the
//! whole table (windows 100 to 10,000, hard and decaying, with and without
//! imputation of excluded points).
//!
//! Measured (hard windows): 897 alarms at window 1,000 and 615 at 10,000 (1,375 and
//! 879 before excluded observations entered the window at the exclusion cut; with
//! a half-life of half the window, 1,010 and 619). Not met:
//! window 100 (about 31,000 alarms): 5 exceedances per tail cannot tell a tail of
//! index 2, and the spikes that are kept out of the window make it lighter still.
//! Before the bound on the excluded share (see `AnomalyDetector`'s *Lock-out*) the
//! window lost every spike and about 100,000 points were flagged.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::Check;
use tailcast::{AnomalyDetector, DetectorConfig};

#[test]
fn alarms_are_near_the_risk_level_at_windows_1000_and_10000() {
    let ys = tailcast::synthetic::spot_stream(1_000_000, &mut StdRng::seed_from_u64(7));
    for window in [1_000, 10_000] {
        let forecaster = DetectorConfig::default()
            .check()
            .unwrap()
            .forecaster()
            .into_config()
            .window(window);
        let mut d = AnomalyDetector::new(DetectorConfig::default().forecaster(forecaster)).unwrap();
        let (mut alarms, mut scored) = (0usize, 0usize);
        for &y in &ys {
            let v = d.update(y).unwrap();
            alarms += usize::from(v.is_anomaly);
            scored += usize::from(!v.warming_up);
        }
        let ratio = alarms as f64 / (1e-3 * scored as f64);
        eprintln!("window {window}: {alarms} alarms, {ratio:.2} x the risk level");
        assert!((0.5..=1.5).contains(&ratio), "window {window}: {ratio}");
    }
}

/// Spikes too frequent for a window of 100 to hold once the first ones are kept
/// out: the bound on the excluded share lets them in (about 32 alarms per 1,000
/// points; without the bound the window holds no spike and about 100 are flagged).
#[test]
fn frequent_normal_spikes_do_not_lock_a_small_window_out() {
    let ys = tailcast::synthetic::spot_stream(200_000, &mut StdRng::seed_from_u64(7));
    let forecaster = DetectorConfig::default()
        .check()
        .unwrap()
        .forecaster()
        .into_config()
        .window(100);
    let mut d = AnomalyDetector::new(DetectorConfig::default().forecaster(forecaster)).unwrap();
    let (mut alarms, mut excluded, mut scored) = (0usize, 0usize, 0usize);
    for &y in &ys {
        let v = d.update(y).unwrap();
        alarms += usize::from(v.is_anomaly);
        excluded += usize::from(v.excluded);
        scored += usize::from(!v.warming_up);
    }
    let per_mille = alarms as f64 / (1e-3 * scored as f64);
    let excluded_share = excluded as f64 / scored as f64;
    eprintln!("window 100: {per_mille:.1} alarms per 1,000, {excluded_share:.3} excluded");
    assert!(per_mille < 50.0, "{per_mille}");
    assert!(excluded_share <= 0.055, "{excluded_share}");
}
