//! Figures as they are measured (one progress line each) and the table at the end. Every
//! figure may name a baseline measured earlier in the same run; its ratio is printed beside it.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Figure {
    pub section: u8,
    /// Lookup key for figures that serve as a baseline.
    pub key: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
    pub note: Option<String>,
    pub ratio: Option<(f64, String)>,
}

impl Figure {
    pub fn new(
        section: u8,
        key: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Self {
            section,
            key,
            name: name.into(),
            value,
            unit,
            p50: None,
            p99: None,
            max: None,
            note: None,
            ratio: None,
        }
    }
    pub fn latency(mut self, p50: Duration, p99: Duration, max: Duration) -> Self {
        self.p50 = Some(p50);
        self.p99 = Some(p99);
        self.max = Some(max);
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Which number of a baseline figure a ratio is taken against.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    Value,
    P99,
}

#[derive(Default)]
pub struct Report {
    figures: Vec<Figure>,
}

impl Report {
    pub fn get(&self, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.key == key)
    }

    /// `value / baseline`, with a label saying what the baseline is; `None` when the baseline
    /// was not measured (its section skipped).
    pub fn ratio(&self, value: f64, key: &str, of: Of) -> Option<(f64, String)> {
        let base = self.get(key)?;
        let (base_value, what) = match of {
            Of::Value => (base.value, String::new()),
            Of::P99 => (ms(base.p99?), " p99".to_string()),
        };
        (base_value > 0.0).then(|| (value / base_value, format!("{}{what}", base.name)))
    }

    pub fn add(&mut self, figure: Figure) {
        println!("  [{}] {}", figure.section, line(&figure));
        self.figures.push(figure);
    }

    pub fn print_table(&self) {
        let headers = [
            "§",
            "figure",
            "result",
            "p50",
            "p99",
            "max",
            "ratio to baseline",
        ];
        let rows: Vec<[String; 7]> = self
            .figures
            .iter()
            .map(|f| {
                [
                    f.section.to_string(),
                    f.name.clone(),
                    format!("{} {}", number(f.value), f.unit),
                    f.p50.map(duration).unwrap_or_default(),
                    f.p99.map(duration).unwrap_or_default(),
                    f.max.map(duration).unwrap_or_default(),
                    f.ratio
                        .as_ref()
                        .map(|(r, base)| format!("{r:.2}x {base}"))
                        .unwrap_or_else(|| "(baseline)".into()),
                ]
            })
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let print_row = |cells: &[String]| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                // Numbers right-aligned, text left-aligned.
                if (2..=5).contains(&i) {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                }
                out.push_str(" | ");
            }
            println!("{}", out.trim_end_matches([' ', '|']));
        };
        print_row(&headers.map(String::from));
        println!("{}", widths.map(|w| "-".repeat(w)).join("-+-"));
        for row in &rows {
            print_row(row);
        }
        let notes: Vec<&Figure> = self.figures.iter().filter(|f| f.note.is_some()).collect();
        if !notes.is_empty() {
            println!();
            for f in notes {
                println!("  {}: {}", f.name, f.note.as_deref().unwrap_or_default());
            }
        }
    }
}

fn line(f: &Figure) -> String {
    let mut out = format!("{}: {} {}", f.name, number(f.value), f.unit);
    if let (Some(p50), Some(p99), Some(max)) = (f.p50, f.p99, f.max) {
        out.push_str(&format!(
            "  p50 {}  p99 {}  max {}",
            duration(p50),
            duration(p99),
            duration(max)
        ));
    }
    if let Some((r, base)) = &f.ratio {
        out.push_str(&format!("  ({r:.2}x {base})"));
    }
    if let Some(note) = &f.note {
        out.push_str(&format!("  [{note}]"));
    }
    out
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn duration(d: Duration) -> String {
    let ms = ms(d);
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn number(v: f64) -> String {
    if v >= 1000.0 {
        // Thousands separated by a thin space-free comma for readability.
        let whole = v.round() as u64;
        let text = whole.to_string();
        let mut out = String::new();
        for (i, c) in text.chars().enumerate() {
            if i > 0 && (text.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
