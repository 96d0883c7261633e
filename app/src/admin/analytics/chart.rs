//! A bar chart drawn as SVG on the server: readable with JavaScript off, named for screen
//! readers, each bar carrying its value as a tooltip (a `<title>`, which browsers show on
//! hover without any script), and the same numbers in a table for screen readers.
//!
//! No charting crate: the well-kept ones that render SVG on the server (plotters) draw text
//! with their own font metrics and write no `<title>` per element or ARIA names, which these
//! few rectangles need more than any feature they offer.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::rcdata_text;

/// One bar: its axis label, its value (minor units or a count) and the value as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// "3 Mar".
    pub label: String,
    /// The full date or name, for the tooltip and the table ("Tue 3 Mar 2026").
    pub long_label: String,
    pub value: i64,
    pub text: String,
}

/// A value marked on the vertical axis, with a grid line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub value: i64,
    pub text: String,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 240;
const LEFT: i64 = 80;
const BOTTOM: i64 = 24;
const TOP: i64 = 12;

/// The chart. Bars below zero (a day of more refunds than sales) hang below the zero line.
#[component]
pub fn BarChart(
    id: String,
    title: String,
    /// What the bars are and what their values are, for the table's headings ("Day",
    /// "Revenue").
    key_label: String,
    value_label: String,
    bars: Vec<Bar>,
    /// The values marked on the vertical axis (zero and a round top, say).
    ticks: Vec<Tick>,
) -> impl IntoView {
    let n = i64::try_from(bars.len()).unwrap_or(1).max(1);
    let values = || {
        bars.iter()
            .map(|b| b.value)
            .chain(ticks.iter().map(|t| t.value))
    };
    let high = values().max().unwrap_or(0).max(1);
    let low = values().min().unwrap_or(0).min(0);
    let plot = HEIGHT - TOP - BOTTOM;
    // Value to y, in whole SVG units (integer arithmetic: no float anywhere near money).
    let y = move |v: i64| TOP + (high - v) * plot / (high - low);
    let slot = (WIDTH - LEFT) / n;
    let bar_width = (slot * 7 / 10).max(1);
    let every = (n + 11) / 12;
    let title_id = format!("{id}-title");
    let caption = title.clone();
    let testid = id.clone();
    let labelled_by = title_id.clone();
    let zero = y(0);
    let table = bars.clone();
    view! {
        <figure class="mt-3" data-testid=testid>
            <svg
                id=id
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                class="h-auto w-full"
                role="img"
                aria-labelledby=labelled_by
            >
                <title id=title_id>{rcdata_text(&title)}</title>
                {ticks
                    .iter()
                    .map(|t| {
                        let at = y(t.value);
                        view! {
                            <line x1=LEFT x2=WIDTH y1=at y2=at class="stroke-stone-200" stroke-width="1" />
                            <text x=LEFT - 6 y=at + 4 text-anchor="end" class="fill-stone-600 text-[11px]">{t.text.clone()}</text>
                        }
                    })
                    .collect_view()}
                <line x1=LEFT x2=WIDTH y1=zero y2=zero class="stroke-stone-400" stroke-width="1" />
                {bars
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let i = i64::try_from(i).unwrap_or(0);
                        let x = LEFT + i * slot + (slot - bar_width) / 2;
                        let (top, bottom) = if b.value >= 0 { (y(b.value), zero) } else { (zero, y(b.value)) };
                        let height = (bottom - top).max(if b.value == 0 { 0 } else { 1 });
                        let label = (i % every == 0).then(|| b.label.clone());
                        let fill = if b.value >= 0 {
                            "fill-stone-800 hover:fill-amber-600"
                        } else {
                            "fill-rose-600 hover:fill-rose-800"
                        };
                        view! {
                            <g>
                                <rect
                                    x=x
                                    y=top
                                    width=bar_width
                                    height=height
                                    class=fill
                                    data-value=b.value
                                >
                                    <title>{rcdata_text(&format!("{}: {}", b.long_label, b.text))}</title>
                                </rect>
                                {label.map(|l| view! {
                                    <text x=x + bar_width / 2 y=HEIGHT - 6 text-anchor="middle" class="fill-stone-600 text-[11px]">{l}</text>
                                })}
                            </g>
                        }
                    })
                    .collect_view()}
            </svg>
            <table class="sr-only">
                <caption>{caption}</caption>
                <thead>
                    <tr><th scope="col">{key_label}</th><th scope="col">{value_label}</th></tr>
                </thead>
                <tbody>
                    {table
                        .into_iter()
                        .map(|b| view! { <tr><th scope="row">{b.long_label}</th><td>{b.text}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
        </figure>
    }
}
