//! The README's bar chart: for every scenario, each client's result relative to hf-inference's
//! (throughput: theirs / ours; memory: ours / theirs), on a log scale, so that one picture holds
//! scenarios measured in different units. Above 1 is better than hf-inference, below is worse.

use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;

use crate::BoxError;

const CLIENTS: [(&str, &str, RGBColor); 4] = [
    ("ours", "hf-inference", RGBColor(255, 153, 0)),
    ("async-openai", "async-openai", RGBColor(66, 133, 244)),
    ("python", "huggingface_hub (Python)", RGBColor(52, 168, 83)),
    ("wrk", "wrk (raw HTTP)", RGBColor(140, 140, 140)),
];

pub fn draw(results: &str, out: &str, font: &str) -> Result<(), BoxError> {
    let font: &'static [u8] = Box::leak(std::fs::read(font)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "cannot load the chart font")?;
    let results: Value = serde_json::from_str(&std::fs::read_to_string(results)?)?;
    let scenarios = results["scenarios"]
        .as_array()
        .ok_or("results.json has no scenarios")?;

    // (scenario index, client index, relative value)
    let mut bars = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        let higher_is_better = scenario["higher_is_better"].as_bool().unwrap_or(true);
        let Some(ours) = scenario["medians"]["ours"].as_f64() else {
            continue;
        };
        for (j, (key, _, _)) in CLIENTS.iter().enumerate() {
            if let Some(theirs) = scenario["medians"][key].as_f64() {
                let relative = if higher_is_better {
                    theirs / ours
                } else {
                    ours / theirs
                };
                if relative.is_finite() && relative > 0.0 {
                    bars.push((i, j, relative));
                }
            }
        }
    }

    let root = BitMapBackend::new(out, (1200, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "Relative to hf-inference (= 1, higher is better) — {}",
        results["date"].as_str().unwrap_or("")
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..scenarios.len() as f64, (0.001f64..10f64).log_scale())?;
    let labels: Vec<String> = scenarios
        .iter()
        .map(|s| s["label"].as_str().unwrap_or("?").to_owned())
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(scenarios.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = (*x - 0.5).round();
            if (*x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("relative result (log scale)")
        .y_label_formatter(&|y| format!("{y}"))
        .label_style(("sans-serif", 15))
        .draw()?;

    let width = 0.8 / CLIENTS.len() as f64;
    for (j, (_, name, color)) in CLIENTS.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(bars.iter().filter(|b| b.1 == j).map(|&(i, j, v)| {
                let x0 = i as f64 + 0.1 + j as f64 * width;
                Rectangle::new([(x0, 0.001), (x0 + width * 0.9, v)], color.filled())
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        chart.draw_series(bars.iter().filter(|b| b.1 == j).map(|&(i, j, v)| {
            let x0 = i as f64 + 0.1 + j as f64 * width;
            let text = if v >= 10.0 {
                format!("{v:.0}")
            } else if v >= 0.1 {
                format!("{v:.2}")
            } else {
                format!("{v:.3}")
            };
            Text::new(text, (x0, v * 1.15), ("sans-serif", 12))
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}
