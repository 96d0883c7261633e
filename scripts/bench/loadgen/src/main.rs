//! A small HTTP/1.1 load generator for the benchmarks in `scripts/bench/`: keeps N
//! keep-alive connections busy with requests for a fixed time and prints requests/s and
//! latency percentiles. Loopback addresses only.
//!
//!     loadgen [--post-lines FILE] [--session] URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]
//!     loadgen --mix FILE URL [CONNECTIONS] [SECONDS]
//!
//! GET by default. `--post-lines FILE` sends form posts instead (as the hydrated page calls
//! a server function): connection i posts line i of FILE (modulo its length), so each
//! simulated shopper can ask for something else. `--session` makes each connection keep the
//! cookies it is given and send them back, like one browser.
//!
//! `--mix FILE` is the soak mode: each line of FILE is `GET /path` or `POST /path BODY`, and
//! every connection, one browser with its own cookies, walks the lines in turn (each from
//! another starting line). A broken connection is opened again. It prints how many requests
//! got which class of status, how many got no answer within 30 s, and the longest one, and
//! fails on any 5xx or unanswered request.
//!
//!     loadgen --once FILE URL [CONNECTIONS]
//!
//! `--once FILE` posts each line of FILE exactly once, CONNECTIONS at a time: a line is
//! `COOKIE BODY` (one shopper's session cookie and form), for requests that can only be made
//! once each, such as placing an order. It prints requests/s, latency percentiles and how
//! many got which status, and fails on any 5xx or unanswered request.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut bodies: Option<Vec<String>> = None;
    let mut session = false;
    while let Some(flag) = args
        .first()
        .filter(|a| a.starts_with("--") && *a != "--mix" && *a != "--once")
        .cloned()
    {
        args.remove(0);
        match flag.as_str() {
            "--session" => session = true,
            "--post-lines" => {
                let file = (!args.is_empty())
                    .then(|| args.remove(0))
                    .context("--post-lines needs a file")?;
                let lines = lines_of(&file)?;
                bodies = Some(lines);
            }
            other => bail!("unknown option {other}"),
        }
    }
    match args.first().map(String::as_str) {
        Some("--mix") => return mix::run(&args[1..]).await,
        Some("--once") => return once::run(&args[1..]).await,
        _ => {}
    }
    let Some(url) = args.first() else {
        bail!(
            "usage: loadgen [--post-lines FILE] [--session] URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]"
        );
    };
    let connections: usize = args.get(1).map_or(Ok(16), |s| s.parse())?;
    let seconds: u64 = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let warmup: u64 = args.get(3).map_or(Ok(2), |s| s.parse())?;
    let (host, path) = loopback(url)?;
    let request_for = |connection: usize| match &bodies {
        None => Request {
            head: format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nUser-Agent: shop-loadgen\r\n"
            ),
            body: String::new(),
        },
        Some(lines) => {
            let body = lines[connection % lines.len()].clone();
            Request {
                head: format!(
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nUser-Agent: shop-loadgen\r\n",
                    body.len()
                ),
                body,
            }
        }
    };

    let warm_until = Instant::now() + Duration::from_secs(warmup);
    let end = warm_until + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let host = host.to_owned();
        let request = request_for(connection);
        tasks.push(tokio::spawn(async move {
            run_connection(&host, &request, session, warm_until, end).await
        }));
    }
    let mut latencies: Vec<u32> = Vec::new();
    let mut errors = 0_u64;
    for t in tasks {
        let (lat, err) = t.await??;
        latencies.extend(lat);
        errors += err;
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: f64| percentile(&latencies, p);
    let method = if bodies.is_some() { "POST " } else { "" };
    println!(
        "{method}{path}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({n} requests, {errors} errors, {connections} connections, {seconds} s)",
        n as f64 / seconds as f64,
        pct(50.0),
        pct(99.0),
        pct(100.0),
    );
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The host and path of an `http://` URL on a loopback address (the only kind loaded).
fn loopback(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if !(host.starts_with("127.0.0.1:") || host.starts_with("localhost:")) {
        bail!("refusing to load anything but a loopback address ({host})");
    }
    Ok((host.to_owned(), path.to_owned()))
}

/// The non-blank lines of `file` (at least one).
fn lines_of(file: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(file).with_context(|| file.to_owned())?;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        bail!("{file} has no lines");
    }
    Ok(lines)
}

/// The `p`th percentile of sorted latencies in µs, in ms.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let idx = ((p / 100.0) * n as f64).ceil() as usize;
    f64::from(sorted[idx.clamp(1, n) - 1]) / 1000.0
}

/// One connection's request: the head without its final blank line, and the body.
struct Request {
    head: String,
    body: String,
}

/// Sends requests one after another on one keep-alive connection until `end`; returns the
/// latencies (µs) of those sent after `warm_until` and how many failed. With `session`, the
/// cookies the server sets are sent back on the following requests.
async fn run_connection(
    host: &str,
    request: &Request,
    session: bool,
    warm_until: Instant,
    end: Instant,
) -> anyhow::Result<(Vec<u32>, u64)> {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut stream = BufReader::new(TcpStream::connect(host).await?);
    stream.get_mut().set_nodelay(true)?;
    let mut body = Vec::new();
    let mut cookies: Vec<(String, String)> = Vec::new();
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let mut bytes = request.head.clone();
        if !cookies.is_empty() {
            let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            bytes.push_str(&format!("Cookie: {}\r\n", pairs.join("; ")));
        }
        bytes.push_str("\r\n");
        bytes.push_str(&request.body);
        stream.get_mut().write_all(bytes.as_bytes()).await?;
        let (status, set, close) = read_response(&mut stream, &mut body).await?;
        // The server ends the connection after this answer (nginx does after
        // `keepalive_requests`, 1,000 by default): go on with a new one, as a browser does.
        if close {
            stream = BufReader::new(TcpStream::connect(host).await?);
            stream.get_mut().set_nodelay(true)?;
        }
        if session {
            for (name, value) in set {
                cookies.retain(|(k, _)| *k != name);
                cookies.push((name, value));
            }
        }
        let took = started.elapsed();
        if started >= warm_until {
            if status == 200 {
                latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
            } else {
                errors += 1;
            }
        }
    }
    Ok((latencies, errors))
}

/// Reads one response (Content-Length or chunked body); returns its status, the cookies it
/// sets (name, value), and whether the server closes the connection after it.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    body: &mut Vec<u8>,
) -> anyhow::Result<(u16, Vec<(String, String)>, bool)> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .context("no status line")?
        .parse()?;
    let mut length = None;
    let mut chunked = false;
    let mut cookies = Vec::new();
    let mut close = false;
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = Some(v.trim().parse::<usize>()?);
        } else if lower.starts_with("connection:") && lower.contains("close") {
            close = true;
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        } else if lower.starts_with("set-cookie:") {
            let pair = header["set-cookie:".len()..]
                .split(';')
                .next()
                .unwrap_or("");
            if let Some((name, value)) = pair.trim().split_once('=') {
                cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)?;
            body.resize(size + 2, 0);
            stream.read_exact(body).await?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        stream.read_exact(body).await?;
    } else {
        bail!("response without a length");
    }
    Ok((status, cookies, close))
}

/// The soak mode: mixed traffic from many simulated browsers.
mod mix {
    use std::time::{Duration, Instant};

    use anyhow::bail;
    use tokio::io::{AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    /// A request that got no answer in this time counts as unanswered.
    const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

    struct Line {
        method: String,
        path: String,
        body: String,
    }

    #[derive(Default)]
    struct Tally {
        by_class: [u64; 6],
        unanswered: u64,
        slowest: Duration,
        slowest_path: String,
    }

    pub async fn run(args: &[String]) -> anyhow::Result<()> {
        let (Some(file), Some(url)) = (args.first(), args.get(1)) else {
            bail!("usage: loadgen --mix FILE URL [CONNECTIONS] [SECONDS]");
        };
        let connections: usize = args.get(2).map_or(Ok(64), |s| s.parse())?;
        let seconds: u64 = args.get(3).map_or(Ok(60), |s| s.parse())?;
        let (host, _) = super::loopback(url)?;
        let lines: Vec<Line> = super::lines_of(file)?
            .iter()
            .map(|l| {
                let mut parts = l.splitn(3, ' ');
                let method = parts.next().unwrap_or("GET").to_owned();
                let path = parts.next().unwrap_or("/").to_owned();
                let body = parts.next().unwrap_or("").to_owned();
                Line { method, path, body }
            })
            .collect();
        let lines = std::sync::Arc::new(lines);
        let end = Instant::now() + Duration::from_secs(seconds);
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                let (host, lines) = (host.clone(), lines.clone());
                tokio::spawn(async move { browser(&host, &lines, c, end).await })
            })
            .collect();
        let mut total = Tally::default();
        for task in tasks {
            let t = task.await?;
            for (sum, n) in total.by_class.iter_mut().zip(t.by_class) {
                *sum += n;
            }
            total.unanswered += t.unanswered;
            if t.slowest > total.slowest {
                total.slowest = t.slowest;
                total.slowest_path = t.slowest_path;
            }
        }
        let answered: u64 = total.by_class.iter().sum();
        println!(
            "soak: {} requests in {seconds} s ({:.0}/s) over {connections} connections: {} 2xx, {} 3xx, {} 4xx, {} 5xx, {} unanswered; longest {:.1} ms ({})",
            answered + total.unanswered,
            answered as f64 / seconds as f64,
            total.by_class[2],
            total.by_class[3],
            total.by_class[4],
            total.by_class[5],
            total.unanswered,
            total.slowest.as_secs_f64() * 1000.0,
            total.slowest_path,
        );
        if total.by_class[5] > 0 || total.unanswered > 0 {
            std::process::exit(1);
        }
        Ok(())
    }

    /// One browser: its own cookies, walking the lines from line `start` until `end`.
    async fn browser(host: &str, lines: &[Line], start: usize, end: Instant) -> Tally {
        let mut tally = Tally::default();
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut stream: Option<BufReader<TcpStream>> = None;
        let mut body = Vec::new();
        let mut i = start;
        while Instant::now() < end {
            let line = &lines[i % lines.len()];
            i += 1;
            if stream.is_none() {
                match TcpStream::connect(host).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        stream = Some(BufReader::new(s));
                    }
                    Err(_) => {
                        tally.unanswered += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                }
            }
            let Some(conn) = stream.as_mut() else {
                continue;
            };
            let mut request = format!(
                "{} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: shop-loadgen\r\n",
                line.method, line.path
            );
            if line.method == "POST" {
                // As the hydrated page calls a server function; a JSON body (the JSON API, a
                // webhook) as JSON.
                let content_type = if line.body.starts_with('{') {
                    "application/json"
                } else {
                    "application/x-www-form-urlencoded"
                };
                request.push_str(&format!(
                    "Origin: http://{host}\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
                    line.body.len()
                ));
            } else {
                request.push_str("Accept: text/html\r\n");
            }
            if !cookies.is_empty() {
                let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
                request.push_str(&format!("Cookie: {}\r\n", pairs.join("; ")));
            }
            request.push_str("\r\n");
            request.push_str(&line.body);
            let started = Instant::now();
            let exchange = async {
                conn.get_mut().write_all(request.as_bytes()).await?;
                super::read_response(conn, &mut body).await
            };
            match tokio::time::timeout(ANSWER_TIMEOUT, exchange).await {
                Ok(Ok((status, set, _))) => {
                    let took = started.elapsed();
                    tally.by_class[usize::from(status / 100).min(5)] += 1;
                    if took > tally.slowest {
                        tally.slowest = took;
                        tally.slowest_path = format!("{} {}", line.method, line.path);
                    }
                    for (name, value) in set {
                        cookies.retain(|(k, _)| *k != name);
                        cookies.push((name, value));
                    }
                }
                // Closed by the server, or no answer in time: count it and reconnect.
                Ok(Err(_)) | Err(_) => {
                    if Instant::now() < end {
                        tally.unanswered += 1;
                    }
                    stream = None;
                }
            }
        }
        tally
    }
}

/// Requests made once each: one shopper's post per line, many shoppers at a time.
mod once {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use anyhow::bail;
    use tokio::io::{AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

    pub async fn run(args: &[String]) -> anyhow::Result<()> {
        let (Some(file), Some(url)) = (args.first(), args.get(1)) else {
            bail!("usage: loadgen --once FILE URL [CONNECTIONS]");
        };
        let connections: usize = args.get(2).map_or(Ok(50), |s| s.parse())?;
        let (host, path) = super::loopback(url)?;
        let requests: Vec<String> = super::lines_of(file)?
            .iter()
            .map(|l| {
                let (cookie, body) = l.split_once(' ').unwrap_or((l, ""));
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: shop-loadgen\r\nOrigin: http://{host}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nCookie: {cookie}\r\n\r\n{body}",
                    body.len()
                )
            })
            .collect();
        // Connections are open before the clock starts, as a browser's would be.
        let mut streams = Vec::with_capacity(connections);
        for _ in 0..connections.min(requests.len()) {
            let stream = TcpStream::connect(&host).await?;
            stream.set_nodelay(true)?;
            streams.push(BufReader::new(stream));
        }
        let requests = Arc::new(requests);
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                let (requests, next) = (requests.clone(), next.clone());
                tokio::spawn(async move {
                    let mut body = Vec::new();
                    let mut done: Vec<(u16, u32)> = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(request) = requests.get(i) else {
                            break;
                        };
                        let t = Instant::now();
                        let exchange = async {
                            stream.get_mut().write_all(request.as_bytes()).await?;
                            super::read_response(&mut stream, &mut body).await
                        };
                        match tokio::time::timeout(ANSWER_TIMEOUT, exchange).await {
                            Ok(Ok((status, _, _))) => done.push((
                                status,
                                u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX),
                            )),
                            // No answer: counted, and this connection stops.
                            Ok(Err(_)) | Err(_) => break,
                        }
                    }
                    done
                })
            })
            .collect();
        let mut results = Vec::with_capacity(requests.len());
        for task in tasks {
            results.extend(task.await?);
        }
        let seconds = started.elapsed().as_secs_f64();
        let unanswered = requests.len() - results.len();
        let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
        for (status, _) in &results {
            *by_status.entry(*status).or_default() += 1;
        }
        let mut latencies: Vec<u32> = results.iter().map(|(_, l)| *l).collect();
        latencies.sort_unstable();
        let n = latencies.len();
        let pct = |p: f64| super::percentile(&latencies, p);
        let statuses: Vec<String> = by_status.iter().map(|(s, c)| format!("{c} {s}")).collect();
        println!(
            "POST {path}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({n} requests in {seconds:.2} s, {connections} connections; status: {}; {unanswered} unanswered)",
            n as f64 / seconds,
            pct(50.0),
            pct(99.0),
            pct(100.0),
            statuses.join(", "),
        );
        if unanswered > 0 || by_status.keys().any(|s| *s >= 500) {
            std::process::exit(1);
        }
        Ok(())
    }
}
