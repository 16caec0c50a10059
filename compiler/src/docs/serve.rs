//! `convlytics docs serve`: the generated site over HTTP on the loopback interface only, files
//! under the site's directory and nothing else (GET and HEAD; paths that climb out are refused).

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// The longest request head read before the request is refused.
const MAX_HEAD: usize = 16 * 1024;

/// Listens on `127.0.0.1:port` (`0`: a free port the system picks).
pub fn bind(port: u16) -> Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| Error::Project(format!("docs serve: port {port}: {e}")))
}

/// Answers requests on `listener` with the files under `root`, one connection at a time, until
/// the process is stopped; a connection that fails is dropped and the next one served.
pub fn run(listener: &TcpListener, root: &Path) -> Result<()> {
    let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(e) = answer(stream, &root) {
            eprintln!("docs serve: {e}");
        }
    }
    Ok(())
}

/// Reads one request from `stream` and answers it.
fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut head = request_line.len();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line)?;
        head += read;
        if read == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if head > MAX_HEAD {
            return reply(&mut stream, 431, "text/plain", b"request head too large", true);
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if method != "GET" && method != "HEAD" {
        return reply(&mut stream, 405, "text/plain", b"only GET and HEAD", true);
    }
    let body = method == "GET";
    match resolve(root, target).and_then(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes))) {
        Some((path, bytes)) => reply(&mut stream, 200, content_type(&path), &bytes, body),
        None => reply(&mut stream, 404, "text/plain", b"not found", body),
    }
}

/// The file under `root` that the request target `target` names (`/` is `index.html`), or
/// `None` when it names nothing there: no `..`, no absolute or drive paths, no links out.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = decode(path.strip_prefix('/')?)?;
    let relative = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path };
    let relative = Path::new(&relative);
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let found = root.join(relative).canonicalize().ok()?;
    (found.starts_with(root) && found.is_file()).then_some(found)
}

/// `text` with its `%XX` escapes decoded; `None` when one is malformed, decodes to a NUL or a
/// backslash, or the result is not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) || out.contains(&b'\\') {
        return None;
    }
    String::from_utf8(out).ok()
}

/// The media type of a site file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Writes a response with `status`; the body only when `body` (not for HEAD).
fn reply(stream: &mut TcpStream, status: u16, kind: &str, bytes: &[u8], body: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes())?;
    if body {
        stream.write_all(bytes)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Sends `request` to `port` and returns the whole response.
    fn send(port: u16, request: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connects");
        stream.write_all(request.as_bytes()).expect("sends");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("reads");
        response
    }

    #[test]
    fn serves_the_site_and_nothing_outside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("assets")).expect("site");
        std::fs::write(site.join("index.html"), "<h1>home</h1>").expect("index");
        std::fs::write(site.join("assets/site.css"), "body{}").expect("css");
        std::fs::write(dir.path().join("secret.txt"), "not for the web").expect("secret");
        let listener = bind(0).expect("binds");
        assert!(listener.local_addr().expect("address").ip().is_loopback());
        let port = listener.local_addr().expect("address").port();
        let root = site.clone();
        std::thread::spawn(move || run(&listener, &root));
        let home = send(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            home.starts_with("HTTP/1.1 200 OK") && home.contains("text/html") && home.ends_with("<h1>home</h1>"),
            "{home}"
        );
        let css = send(port, "GET /assets/site.css?v=1 HTTP/1.1\r\n\r\n");
        assert!(css.contains("text/css") && css.ends_with("body{}"), "{css}");
        for climb in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "//etc/passwd",
            "/%5c..%5csecret.txt",
        ] {
            let response = send(port, &format!("GET {climb} HTTP/1.1\r\n\r\n"));
            assert!(
                response.starts_with("HTTP/1.1 404") && !response.contains("not for the web"),
                "{climb}: {response}"
            );
        }
        let head = send(port, "HEAD /index.html HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"), "{head}");
        assert!(send(port, "POST / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    }
}
