//! Charts as SVG from the server: horizontal bars, one per value, each with its figure
//! written beside it. A chart is an image with a name (`<title>`) and a description that reads
//! out every bar (`<desc>`), and its figures follow as a table for those who would rather read
//! them or need to copy them.

use maud::{Markup, html};

/// One bar: what it stands for, its size, and the figure written beside it.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub shown: String,
}

const WIDTH: i64 = 640;
const LABEL_WIDTH: i64 = 210;
const BAR_SPACE: i64 = 300;
const ROW: i64 = 30;
const BAR_HEIGHT: i64 = 20;

/// A bar chart named `title`; `id` makes its parts' ids unique on the page.
pub fn bars(id: &str, title: &str, bars: &[Bar]) -> Markup {
    let largest = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as i64 + 10;
    let description = if bars.is_empty() {
        "Ingen tal endnu.".to_owned()
    } else {
        bars.iter()
            .map(|b| format!("{}: {}", b.label, b.shown))
            .collect::<Vec<_>>()
            .join("; ")
    };
    html! {
        figure.chart {
            figcaption id={ (id) "-caption" } { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img"
                aria-labelledby={ (id) "-title " (id) "-desc" }
                viewBox={ "0 0 " (WIDTH) " " (height) } preserveAspectRatio="xMinYMin meet" {
                title id={ (id) "-title" } { (title) }
                desc id={ (id) "-desc" } { (description) }
                @for (i, bar) in bars.iter().enumerate() {
                    @let y = 5 + ROW * i as i64;
                    @let length = (bar.value.max(0) * BAR_SPACE) / largest;
                    text.label x=(LABEL_WIDTH - 10) y=(y + 15) text-anchor="end" { (bar.label) }
                    rect.bar x=(LABEL_WIDTH) y=(y) width=(length) height=(BAR_HEIGHT) {}
                    text.value x=(LABEL_WIDTH + length + 8) y=(y + 15) { (bar.shown) }
                }
                @if bars.is_empty() {
                    text.label x="10" y="20" { "Ingen tal endnu." }
                }
            }
            details {
                summary { "Tallene som tabel" }
                table {
                    caption.visually-hidden { (title) }
                    thead { tr { th scope="col" { "Hvad" } th scope="col" { "Tal" } } }
                    tbody {
                        @for bar in bars {
                            tr { th scope="row" { (bar.label) } td { (bar.shown) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_itself_reads_out_its_bars_and_escapes_what_it_is_given() {
        let chart = bars(
            "x",
            "Aktive <frivillige>",
            &[
                Bar {
                    label: "18-29".into(),
                    value: 10,
                    shown: "10".into(),
                },
                Bar {
                    label: "30-49".into(),
                    value: 5,
                    shown: "5".into(),
                },
            ],
        )
        .into_string();
        assert!(chart.contains(r#"role="img""#));
        assert!(chart.contains(r#"aria-labelledby="x-title x-desc""#));
        assert!(chart.contains("<desc id=\"x-desc\">18-29: 10; 30-49: 5</desc>"));
        assert!(chart.contains("Aktive &lt;frivillige&gt;"));
        assert!(!chart.contains("<frivillige>"));
        // The largest bar fills the space, the others in proportion.
        assert!(chart.contains(&format!(r#"width="{BAR_SPACE}""#)));
        assert!(chart.contains(&format!(r#"width="{}""#, BAR_SPACE / 2)));
    }
}
