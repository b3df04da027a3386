//! Talking HTTP by hand, as an attacker would: raw requests on sockets, and clients whose
//! connections come from other loopback addresses (any of 127.0.0.0/8), so one test can be
//! several sources.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{TestServer, new_delivery_id};

/// A raw POST /webhook: headers for a body of `content_length` bytes, of which `body` is sent.
pub fn raw_post(signature: &str, content_length: usize, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: {}\r\nX-Hub-Signature-256: {signature}\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n",
        new_delivery_id()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Reads one answer (head and `Content-Length` body) from `stream`, waiting at most `timeout`.
pub async fn read_answer(stream: &mut tokio::net::TcpStream, timeout: Duration) -> String {
    let read = async {
        let mut answer = Vec::new();
        let mut chunk = [0; 4096];
        loop {
            if let Some(text) = complete_answer(&answer) {
                return text;
            }
            let n = stream.read(&mut chunk).await.expect("read the answer");
            if n == 0 {
                return String::from_utf8_lossy(&answer).into_owned();
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| panic!("no complete answer within {timeout:?}"))
}

/// The answer as text once `bytes` hold its head and all of its `Content-Length` body.
fn complete_answer(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (body.len() >= length).then(|| text.into_owned())
}

/// Sends `request` on a fresh connection and opens the way for the answer.
pub async fn send_raw(server: &TestServer, request: &[u8]) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream
}

/// A client whose connections come from `source` (any 127.0.0.0/8 address is loopback).
pub fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}
