//! The stream libspot's SPOT detector is benchmarked on (`synthetic::spot_stream`:
//! a sine, small uniform noise and 10 % Lomax spikes of tail index 2 that are
//! normal data), 1,000,000 points through the default detector at risk 1e-3: about
//! 1,000 alarms are expected. `cargo run --release --example spot_stream` prints the
//! whole table (windows 100 to 10,000, hard and decaying, with and without
//! imputation of excluded points).
//!
//! Measured (hard windows): 1,390 alarms at window 1,000 and 879 at 10,000. Not met:
//! window 100 (about 51,000 alarms). Its warm-up of 100 points is one period of
//! the sine, too short to find the season, so the location is a level that lags
//! the sine, and 5 exceedances per tail cannot tell a tail of index 2.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::{AnomalyDetector, DetectorConfig};

#[test]
fn alarms_are_near_the_risk_level_at_windows_1000_and_10000() {
    let ys = tailcast::synthetic::spot_stream(1_000_000, &mut StdRng::seed_from_u64(7));
    for window in [1_000, 10_000] {
        let forecaster = DetectorConfig::default()
            .forecaster_config()
            .clone()
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
