//! Answers read with a size limit: an admin API page of 1,000 devices is a few megabytes and a
//! token answer a few kilobytes, so anything far larger is a broken or hostile server, refused
//! before it fills the memory.

/// The largest admin API answer read (a page of 1,000 devices is about 3 MB).
pub(crate) const MAX_ANSWER: usize = 64 << 20;
/// The largest token endpoint answer read.
pub(crate) const MAX_TOKEN_ANSWER: usize = 1 << 20;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    Http(reqwest::Error),
    /// More than the limit (in bytes).
    TooLarge(usize),
}

impl From<reqwest::Error> for ReadError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// What a refused answer says (for `ExchangeError::Protocol`).
pub(crate) fn too_large(limit: usize) -> String {
    format!(
        "the answer is larger than {} MB; it was not read",
        limit >> 20
    )
}

/// The body of `response`, refused as soon as it passes `limit` bytes (a declared length
/// already over it is refused unread).
pub(crate) async fn read(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A one-shot HTTP server on loopback answering with `body` (chunked when `declared` is
    /// false, so that no length is known in advance).
    async fn serve(body: Vec<u8>, declared: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
            let head = if declared {
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len())
            } else {
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
            };
            let _ = socket.write_all(head.as_bytes()).await;
            if declared {
                let _ = socket.write_all(&body).await;
            } else {
                for chunk in body.chunks(4096) {
                    let _ = socket
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await;
                    let _ = socket.write_all(chunk).await;
                    let _ = socket.write_all(b"\r\n").await;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_refused_whether_its_length_is_declared_or_not() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        for declared in [true, false] {
            let url = serve(vec![b'x'; 100_000], declared).await;
            let r = client.get(&url).send().await.expect("answer");
            let read = read(r, 64 * 1024).await;
            assert!(matches!(read, Err(ReadError::TooLarge(_))), "{declared}");
            let url = serve(vec![b'x'; 10_000], declared).await;
            let r = client.get(&url).send().await.expect("answer");
            assert_eq!(read_ok(r).await, 10_000, "{declared}");
        }
    }

    async fn read_ok(r: reqwest::Response) -> usize {
        match read(r, 64 * 1024).await {
            Ok(b) => b.len(),
            Err(e) => panic!("{e:?}"),
        }
    }
}
