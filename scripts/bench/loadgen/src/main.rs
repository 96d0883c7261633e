//! A small HTTP/1.1 load generator for the benchmarks in `scripts/bench/`: keeps N
//! keep-alive connections busy with GET requests for a fixed time and prints requests/s and
//! latency percentiles. Loopback addresses only.
//!
//!     loadgen URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        bail!("usage: loadgen URL [CONNECTIONS] [SECONDS] [WARMUP_SECONDS]");
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
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nUser-Agent: shop-loadgen\r\n\r\n"
    );

    let warm_until = Instant::now() + Duration::from_secs(warmup);
    let end = warm_until + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let host = host.to_owned();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            run_connection(&host, &request, warm_until, end).await
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
    println!(
        "{path}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({n} requests, {errors} errors, {connections} connections, {seconds} s)",
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

/// Sends requests one after another on one keep-alive connection until `end`; returns the
/// latencies (µs) of those sent after `warm_until` and how many failed.
async fn run_connection(
    host: &str,
    request: &str,
    warm_until: Instant,
    end: Instant,
) -> anyhow::Result<(Vec<u32>, u64)> {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut stream = BufReader::new(TcpStream::connect(host).await?);
    stream.get_mut().set_nodelay(true)?;
    let mut body = Vec::new();
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        stream.get_mut().write_all(request.as_bytes()).await?;
        let status = read_response(&mut stream, &mut body).await?;
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

/// Reads one response (Content-Length or chunked body); returns its status.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    body: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .context("no status line")?
        .parse()?;
    let mut length = None;
    let mut chunked = false;
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
    Ok(status)
}
