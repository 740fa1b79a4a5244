//! A loopback HTTP proxy in front of the emulator that answers a seeded share of calls with
//! the faults AWS gives under load: 503 with an HTML body (a load balancer's page, not XML),
//! 500 with a truncated body, and throttling in each protocol's own error shape (EC2's
//! `RequestLimitExceeded`, IAM's and STS's `Throttling`, JSON services'
//! `ThrottlingException`, S3's `SlowDown`). Rules can also fail every call of one action,
//! and be switched off again, to reproduce a create that fails half way.
//!
//! Rules can also lose the answer of one action's next calls: the call reaches the emulator
//! and takes effect, and the client gets a 503 instead, as when a connection drops after AWS
//! acted.
//!
//! It serves one request per connection (it answers `Connection: close`), with a thread per
//! connection and blocking sockets: simple enough to trust, and fast enough for an apply.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// A fault the proxy answers with instead of forwarding a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// `503 Service Unavailable` with an HTML page for a body.
    UnavailableHtml,
    /// `500 Internal Server Error` with a body cut off in the middle of its XML.
    InternalTruncated,
    /// The service's own throttling error, shaped as its protocol shapes errors.
    Throttled,
}

const FAULTS: [Fault; 3] = [Fault::UnavailableHtml, Fault::InternalTruncated, Fault::Throttled];

/// What the proxy does to the calls it sees.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// The seed of the choice of faulted calls.
    pub seed: u64,
    /// The share of calls answered with a fault, in percent (0 to 100).
    pub percent: u64,
}

/// How many calls the proxy saw and faulted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyCounts {
    /// Calls forwarded to the emulator.
    pub forwarded: u64,
    /// Calls answered with each fault.
    pub faulted: BTreeMap<Fault, u64>,
    /// Calls failed by an action rule ([`Proxy::fail_action`]), by action.
    pub failed_by_rule: BTreeMap<String, u64>,
    /// Calls whose answer was lost ([`Proxy::lose_answers`]), by action.
    pub answers_lost: BTreeMap<String, u64>,
}

struct Shared {
    upstream: String,
    plan: FaultPlan,
    sequence: AtomicU64,
    failing_actions: Mutex<Vec<String>>,
    losing_answers: Mutex<BTreeMap<String, u64>>,
    counts: Mutex<ProxyCounts>,
    stopped: AtomicBool,
}

/// A running proxy; it stops when dropped.
pub struct Proxy {
    url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy to the emulator at `upstream_url` (`http://host:port`).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound: the test cannot run without it.
    pub fn start(upstream_url: &str, plan: FaultPlan) -> Proxy {
        let upstream = upstream_url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared = Arc::new(Shared {
            upstream,
            plan,
            sequence: AtomicU64::new(0),
            failing_actions: Mutex::new(Vec::new()),
            losing_answers: Mutex::new(BTreeMap::new()),
            counts: Mutex::new(ProxyCounts::default()),
            stopped: AtomicBool::new(false),
        });
        let serving = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if serving.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let shared = Arc::clone(&serving);
                thread::spawn(move || serve(&shared, client));
            }
        });
        Proxy { url: format!("http://127.0.0.1:{port}"), shared }
    }

    /// The URL to send the SDK to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// From now on, fails every call of `action` (`RevokeSecurityGroupEgress`) with a 503.
    pub fn fail_action(&self, action: &str) {
        lock(&self.shared.failing_actions).push(action.to_owned());
    }

    /// Loses the answer of the next `times` calls of `action` (`CreateVpc`): each reaches the
    /// emulator and takes effect, and the client gets a 503 instead of its answer.
    pub fn lose_answers(&self, action: &str, times: u64) {
        lock(&self.shared.losing_answers).insert(action.to_owned(), times);
    }

    /// Stops failing calls by action rule.
    pub fn clear_action_rules(&self) {
        lock(&self.shared.failing_actions).clear();
    }

    /// What the proxy has seen so far.
    pub fn counts(&self) -> ProxyCounts {
        lock(&self.shared.counts).clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        drop(TcpStream::connect(self.url.trim_start_matches("http://")));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One HTTP/1.1 request as the client sent it.
struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The signing name of the service (`ec2`, `iam`, `s3`) from the SigV4 credential scope.
    fn service(&self) -> String {
        let scope = self.header("authorization").and_then(|auth| auth.split("Credential=").nth(1));
        let scope = scope.and_then(|scope| scope.split(',').next()).unwrap_or_default();
        scope.split('/').nth(3).unwrap_or_default().to_owned()
    }

    /// The operation: `Action=` of a query call, the target of a JSON call, else the method.
    fn action(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        let body = String::from_utf8_lossy(&self.body);
        let action = body.split('&').find_map(|pair| pair.strip_prefix("Action="));
        match action {
            Some(action) => action.to_owned(),
            None => self.head[0].split(' ').next().unwrap_or_default().to_owned(),
        }
    }
}

fn serve(shared: &Shared, client: TcpStream) {
    let mut reader = BufReader::new(match client.try_clone() {
        Ok(clone) => clone,
        Err(_) => return,
    });
    let Some(request) = read_request(&mut reader) else { return };
    let answer = match decide(shared, &request) {
        Some(fault) => fault_response(fault, &request),
        None => match forward(&shared.upstream, &request) {
            Ok(_) if loses_answer(shared, &request) => {
                fault_response(Fault::UnavailableHtml, &request)
            }
            Ok(answer) => {
                lock(&shared.counts).forwarded += 1;
                answer
            }
            Err(error) => plain_response(502, "text/plain", &format!("proxy: {error}")),
        },
    };
    let mut client = client;
    let _ = client.write_all(&answer);
    let _ = client.flush();
}

/// The fault to answer `request` with, or `None` to forward it.
fn decide(shared: &Shared, request: &Request) -> Option<Fault> {
    let action = request.action();
    if lock(&shared.failing_actions).contains(&action) {
        *lock(&shared.counts).failed_by_rule.entry(action).or_default() += 1;
        return Some(Fault::UnavailableHtml);
    }
    let sequence = shared.sequence.fetch_add(1, Ordering::SeqCst);
    let draw = splitmix(shared.plan.seed ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    if draw % 100 >= shared.plan.percent {
        return None;
    }
    let fault = FAULTS[usize::try_from((draw / 100) % 3).unwrap_or(0)];
    *lock(&shared.counts).faulted.entry(fault).or_default() += 1;
    Some(fault)
}

/// Whether the answer to `request`, which took effect, is to be lost (and counts it).
fn loses_answer(shared: &Shared, request: &Request) -> bool {
    let action = request.action();
    let mut losing = lock(&shared.losing_answers);
    match losing.get_mut(&action) {
        Some(left) if *left > 0 => {
            *left -= 1;
            *lock(&shared.counts).answers_lost.entry(action).or_default() += 1;
            true
        }
        _ => false,
    }
}

/// SplitMix64: a small, well-mixed, seeded sequence.
fn splitmix(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut mixed = state;
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^ (mixed >> 31)
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut request = Request { head, body: Vec::new() };
    if request.header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        request.body = read_chunked(reader)?;
        request.head.retain(|line| !line.to_ascii_lowercase().starts_with("transfer-encoding"));
        request.head.push(format!("Content-Length: {}", request.body.len()));
    } else {
        let length = request.header("content-length").and_then(|value| value.parse().ok());
        let mut body = vec![0; length.unwrap_or(0)];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Sends `request` to the emulator on a connection of its own and returns the whole answer.
fn forward(upstream: &str, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut emulator = TcpStream::connect(upstream)?;
    let mut head: Vec<&str> = request
        .head
        .iter()
        .map(String::as_str)
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    head.push("Connection: close");
    let mut sent = head.join("\r\n").into_bytes();
    sent.extend_from_slice(b"\r\n\r\n");
    sent.extend_from_slice(&request.body);
    emulator.write_all(&sent)?;
    let mut answer = Vec::new();
    emulator.read_to_end(&mut answer)?;
    Ok(answer)
}

fn fault_response(fault: Fault, request: &Request) -> Vec<u8> {
    match fault {
        Fault::UnavailableHtml => plain_response(
            503,
            "text/html",
            "<html><head><title>503 Service Temporarily Unavailable</title></head><body>\
             <center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
        ),
        Fault::InternalTruncated => {
            plain_response(500, "text/xml", "<?xml version=\"1.0\"?><Response><Errors><Err")
        }
        Fault::Throttled => throttled(request),
    }
}

/// The throttling error of the service `request` went to, in its protocol's shape.
fn throttled(request: &Request) -> Vec<u8> {
    if request.header("x-amz-target").is_some() {
        let content_type = request.header("content-type").unwrap_or("application/x-amz-json-1.1");
        let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        return plain_response(400, content_type, body);
    }
    match request.service().as_str() {
        "ec2" => plain_response(
            503,
            "text/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>\
             <Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>\
             </Error></Errors><RequestID>proxy-throttled</RequestID></Response>",
        ),
        "s3" => plain_response(
            503,
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
             <Message>Please reduce your request rate.</Message>\
             <RequestId>proxy-throttled</RequestId></Error>",
        ),
        _ if request.header("content-type").is_some_and(|t| t.contains("x-www-form")) => {
            plain_response(
                400,
                "text/xml",
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                 <Message>Rate exceeded</Message></Error>\
                 <RequestId>proxy-throttled</RequestId></ErrorResponse>",
            )
        }
        // A protocol without a well-known throttling shape here (CBOR): a plain 503.
        _ => fault_response(Fault::UnavailableHtml, request),
    }
}

fn plain_response(status: u16, content_type: &str, body: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Service Unavailable",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
