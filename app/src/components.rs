//! Small shared building blocks.

use leptos::prelude::*;

use crate::error::AppError;

/// Text for the children of `<title>` and `<textarea>`, which the server-side renderer (and
/// leptos_meta's `<title>`) writes without escaping: escaped there, so no text can close the
/// element and inject markup. Browsers decode character references inside both elements, so
/// the text reads back exactly as given. In the browser the text goes into text nodes and
/// `document.title` directly, so it stays as it is.
pub fn rcdata_text(text: &str) -> String {
    #[cfg(feature = "ssr")]
    {
        let mut out = String::with_capacity(text.len() + 1);
        // An HTML parser drops one newline right after `<textarea>`: keep a leading one.
        if text.starts_with('\n') {
            out.push('\n');
        }
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                c => out.push(c),
            }
        }
        out
    }
    #[cfg(not(feature = "ssr"))]
    {
        text.to_owned()
    }
}

/// The page's title (the shop's name is added by the app). Always use this rather than
/// `leptos_meta::Title`, which writes its text into the document unescaped.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! { <leptos_meta::Title text=rcdata_text(&text) /> }
}

/// A bordered panel explaining that something failed, with the reference id for support.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let reference = match &error {
        AppError::Internal { request_id } => Some(request_id.clone()),
        _ => None,
    };
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-900" data-testid="error-panel">
            <p class="font-semibold">"Sorry, this part of the page could not be loaded."</p>
            <p class="mt-1 text-sm">{error.to_string()}</p>
            {reference
                .map(|id| {
                    view! {
                        <p class="mt-2 text-xs text-red-800">
                            "Request id: " <code data-testid="request-id">{id}</code>
                        </p>
                    }
                })}
        </div>
    }
}

/// An inline message under a form field.
#[component]
pub fn FieldError(#[prop(into)] id: String, message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! {
            <p id=id class="mt-1 text-sm text-red-700">
                {m}
            </p>
        }
    })
}

/// A labelled form input with its error beside it. After a plain form post came back with
/// an error, the value typed before is shown again (never for passwords).
#[component]
pub fn Field(
    /// The visible label.
    #[prop(into)]
    label: String,
    /// The form field name (and the server function argument).
    name: &'static str,
    /// The input type.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    /// The value to start with.
    #[prop(optional, into)]
    value: Option<String>,
    /// The last error of the form's action.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    /// A line of help under the input.
    #[prop(optional, into)]
    hint: Option<String>,
    #[prop(default = true)] required: bool,
    /// Makes ids unique when one page has several forms with the same field names.
    #[prop(optional)]
    id_prefix: &'static str,
) -> impl IntoView {
    let id = format!("{id_prefix}{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = if hint.is_some() {
        format!("{error_id} {hint_id}")
    } else {
        error_id.clone()
    };
    let message = move || error.get().and_then(|e| e.message_for(name));
    let initial = move || {
        if kind == "password" {
            None
        } else {
            error
                .get_untracked()
                .and_then(|e| e.kept(name))
                .or_else(|| value.clone())
        }
    };
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-stone-800">
                {label}
            </label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                value=initial()
                class="input mt-1 w-full"
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=described
            />
            {hint.map(|h| view! { <p id=hint_id class="mt-1 text-xs text-stone-500">{h}</p> })}
            {move || view! { <FieldError id=error_id.clone() message=message() /> }}
        </div>
    }
}

/// The error of a form that is not about one field (wrong password, too many attempts,
/// something broke), announced to screen readers.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field_name().is_none())
            .map(|e| {
                let reference = match &e {
                    AppError::Internal { request_id } => Some(request_id.clone()),
                    _ => None,
                };
                view! {
                    <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900" data-testid="form-error">
                        <p>{e.to_string()}</p>
                        {reference.map(|id| view! { <p class="mt-1 text-xs">"Request id: " <code>{id}</code></p> })}
                    </div>
                }
            })
    }
}

/// A submit button that says it is working while its action is pending.
#[component]
pub fn Submit(
    #[prop(into)] label: String,
    #[prop(into)] busy_label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(default = "btn btn-primary")] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class disabled=move || pending.get()>
            {move || if pending.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}

/// "key_ingredient" → "Key ingredient".
pub fn humanize(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Submits the form around it whenever a field inside changes (a filter, the sort order, a
/// product option): the one island of pages that are otherwise static. With JavaScript off
/// the form's own button does it. It adds no box: the layout is its children's.
#[island]
pub fn SubmitOnChange(children: Children) -> impl IntoView {
    view! {
        <div class="contents" on:change=submit_enclosing_form>
            {children()}
        </div>
    }
}

/// Submits the surrounding form when a field changes (JavaScript on).
pub(crate) fn submit_enclosing_form(ev: leptos::ev::Event) {
    use leptos::wasm_bindgen::JsCast;
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .and_then(|el| el.closest("form").ok().flatten())
        .and_then(|f| f.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
    if let Some(form) = form {
        let _ = form.request_submit();
    }
}

/// A column heading of a [`DataTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub label: &'static str,
    /// Read out by screen readers only (an image column, say).
    pub visually_hidden: bool,
}

impl Column {
    /// A column with a visible heading.
    pub const fn new(label: &'static str) -> Self {
        Self {
            label,
            visually_hidden: false,
        }
    }

    /// A column whose heading only screen readers read.
    pub const fn hidden(label: &'static str) -> Self {
        Self {
            label,
            visually_hidden: true,
        }
    }
}

/// The admin's list table: a bordered, horizontally scrolling table with a heading row.
/// The rows (`<tr>`s) are the children.
#[component]
pub fn DataTable(
    columns: Vec<Column>,
    /// `data-testid` of the `<table>`.
    #[prop(optional)]
    testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-stone-200 bg-white">
            <table class="min-w-full text-left text-sm" data-testid=testid>
                <thead class="bg-stone-50 text-xs uppercase tracking-wide text-stone-600">
                    <tr>
                        {columns
                            .into_iter()
                            .map(|c| {
                                if c.visually_hidden {
                                    view! { <th scope="col" class="px-3 py-2"><span class="sr-only">{c.label}</span></th> }.into_any()
                                } else {
                                    view! { <th scope="col" class="px-3 py-2">{c.label}</th> }.into_any()
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-stone-100">{children()}</tbody>
            </table>
        </div>
    }
}

/// Previous / next links under a paged list. The links keep the list's filters
/// (`filters`: query parameters, empty ones left out). With `pages` the label reads
/// "Page 2 of 9"; without it (a log whose end is not counted) "Page 2", and `more` says
/// whether a next page exists.
#[component]
pub fn Pager(
    /// The list's path, e.g. `/admin/users`.
    base: &'static str,
    filters: Vec<(&'static str, Option<String>)>,
    page: u32,
    #[prop(optional)] pages: Option<u32>,
    #[prop(optional)] more: bool,
    #[prop(default = "Previous")] previous_label: &'static str,
    #[prop(default = "Next")] next_label: &'static str,
) -> impl IntoView {
    let has_next = pages.map_or(more, |pages| page < pages);
    let prev = (page > 1).then(|| crate::url::page_href(base, &filters, page - 1));
    let next = has_next.then(|| crate::url::page_href(base, &filters, page + 1));
    let label = match pages {
        Some(pages) => format!("Page {page} of {pages}"),
        None => format!("Page {page}"),
    };
    view! {
        <nav aria-label="Pages" class="flex items-center gap-3 text-sm">
            {prev.map(|href| view! { <a class="btn btn-secondary" href=href rel="prev">{previous_label}</a> })}
            <span>{label}</span>
            {next.map(|href| view! { <a class="btn btn-secondary" href=href rel="next">{next_label}</a> })}
        </nav>
    }
}

/// The colour of a [`Badge`], by what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tone {
    /// Live, done, current.
    Good,
    /// Needs attention: a draft, low stock.
    Warning,
    /// Over, archived.
    Neutral,
}

impl Tone {
    /// The tone of a product's status (`active`, `draft`, `archived`).
    pub fn of_status(status: &str) -> Self {
        match status {
            "active" => Self::Good,
            "draft" => Self::Warning,
            _ => Self::Neutral,
        }
    }

    /// The tone of an order's status (`paid`, `pending_payment`, `expired`, ...).
    pub fn of_order(status: &str) -> Self {
        match status {
            "paid" | "fulfilled" | "delivered" => Self::Good,
            "pending_payment" | "partially_refunded" => Self::Warning,
            _ => Self::Neutral,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Good => "rounded bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-900",
            Self::Warning => "rounded bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900",
            Self::Neutral => "rounded bg-stone-200 px-2 py-0.5 text-xs font-medium text-stone-700",
        }
    }
}

/// A small coloured label: a status, "current", "low stock".
#[component]
pub fn Badge(
    tone: Tone,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! { <span class=tone.class() data-testid=testid>{children()}</span> }
}

/// The filter form above an admin list: a plain GET form (so the filters are in the URL and
/// work with JavaScript off) with the fields as children and a "Filter" button.
#[component]
pub fn FilterBar(
    /// The list's path.
    action: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="get" action=action class="flex flex-wrap items-end gap-3" role="search">
            {children()}
            <button type="submit" class="btn btn-secondary">"Filter"</button>
        </form>
    }
}

/// A labelled text filter of a [`FilterBar`].
#[component]
pub fn FilterText(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    value: Option<String>,
    #[prop(default = "search")] kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "input mt-1")] class: &'static str,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium">{label}</label>
            <input id=id type=kind name=name value=value.unwrap_or_default() placeholder=placeholder class=class />
        </div>
    }
}

/// A labelled choice of a [`FilterBar`]: "Any" (the empty value) and `options` as
/// `(value, label)`; the current value is selected.
#[component]
pub fn FilterSelect(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    current: Option<String>,
    #[prop(default = "input mt-1")] class: &'static str,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium">{label}</label>
            <select id=id name=name class=class>
                <option value="">"Any"</option>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let selected = current.as_deref() == Some(value.as_str());
                        view! { <option value=value selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// `(value, label)` pairs for a [`FilterSelect`] from fixed text.
pub fn choices(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}
