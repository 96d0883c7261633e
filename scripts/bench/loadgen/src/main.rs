//! A small HTTP/1.1 load generator for the benchmarks in `scripts/bench/`: keeps N
//! keep-alive connections busy with requests for a fixed time and prints requests/s and
//! latency percentiles. Loopback addresses only.
//!
//!     loadgen [--post-lines FILE] [--session] URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]
//!
//! GET by default. `--post-lines FILE` sends form posts instead (as the hydrated page calls
//! a server function): connection i posts line i of FILE (modulo its length), so each
//! simulated shopper can ask for something else. `--session` makes each connection keep the
//! cookies it is given and send them back, like one browser.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut bodies: Option<Vec<String>> = None;
    let mut session = false;
    while let Some(flag) = args.first().filter(|a| a.starts_with("--")).cloned() {
        args.remove(0);
        match flag.as_str() {
            "--session" => session = true,
            "--post-lines" => {
                let file = (!args.is_empty())
                    .then(|| args.remove(0))
                    .context("--post-lines needs a file")?;
                let text = std::fs::read_to_string(&file).with_context(|| file.clone())?;
                let lines: Vec<String> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned)
                    .collect();
                if lines.is_empty() {
                    bail!("{file} has no lines");
                }
                bodies = Some(lines);
            }
            other => bail!("unknown option {other}"),
        }
    }
    let Some(url) = args.first() else {
        bail!(
            "usage: loadgen [--post-lines FILE] [--session] URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]"
        );
    };
    let connections: usize = args.get(1).map_or(Ok(16), |s| s.parse())?;
    let seconds: u64 = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let warmup: u64 = args.get(3).map_or(Ok(2), |s| s.parse())?;
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
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let idx = ((p / 100.0) * n as f64).ceil() as usize;
        f64::from(latencies[idx.clamp(1, n) - 1]) / 1000.0
    };
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
        let (status, set) = read_response(&mut stream, &mut body).await?;
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

/// Reads one response (Content-Length or chunked body); returns its status and the
/// cookies it sets (name, value).
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    body: &mut Vec<u8>,
) -> anyhow::Result<(u16, Vec<(String, String)>)> {
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
    Ok((status, cookies))
}
