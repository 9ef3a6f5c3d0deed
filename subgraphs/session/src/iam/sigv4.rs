//! AWS Signature Version 4 in its query-string ("presigned") form, the one ElastiCache IAM
//! tokens use: the signature and its parameters travel in the URL, the only signed header is
//! `host`, and the payload is empty.
//!
//! Non-obvious decision: this is our own ~100 lines rather than the `aws-sigv4` crate. The
//! token needs one narrow case (GET, path `/`, no body), and owning it keeps the exact bytes
//! visible and testable: `tests` replays AWS's published test vectors (the aws-c-auth
//! `aws-signing-test-suite/v4` query-signing cases) through it.

use std::fmt;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// An AWS access key (and session token, for temporary credentials).
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A GET request to presign.
pub struct PresignRequest<'a> {
    /// The `host` header's value.
    pub host: &'a str,
    /// Query parameters besides the signature's own, unencoded.
    pub query: &'a [(&'a str, &'a str)],
    pub region: &'a str,
    pub service: &'a str,
    pub expires_secs: u64,
    /// The signing time (`X-Amz-Date`): the caller's clock, so tests can fix it.
    pub time: SystemTime,
}

/// What signing produced; the intermediate strings are kept for tests and diagnostics.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    /// The full query string, signature last: `…&X-Amz-Signature=<hex>`.
    pub query: String,
}

/// SHA-256 of the empty payload, hex.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs `request` with `credentials` (path `/`, signed header `host`).
pub fn presign(request: &PresignRequest<'_>, credentials: &AwsCredentials) -> Presigned {
    let time: DateTime<Utc> = request.time.into();
    let date = time.format("%Y%m%d").to_string();
    let datetime = time.format("%Y%m%dT%H%M%SZ").to_string();
    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let credential = format!("{}/{scope}", credentials.access_key_id);
    let expires = request.expires_secs.to_string();
    let mut params: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    let mut add = |k: &str, v: &str| params.push((uri_encode(k), uri_encode(v)));
    add("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    add("X-Amz-Credential", &credential);
    add("X-Amz-Date", &datetime);
    add("X-Amz-Expires", &expires);
    if let Some(token) = &credentials.session_token {
        add("X-Amz-Security-Token", token);
    }
    add("X-Amz-SignedHeaders", "host");
    params.sort();
    let canonical_query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let host = request.host.trim().to_ascii_lowercase();
    let canonical_request =
        format!("GET\n/\n{canonical_query}\nhost:{host}\n\nhost\n{EMPTY_SHA256}");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{datetime}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = [
        date.as_str(),
        request.region,
        request.service,
        "aws4_request",
    ]
    .iter()
    .fold(
        format!("AWS4{}", credentials.secret_access_key).into_bytes(),
        |key, part| hmac(&key, part.as_bytes()),
    );
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let query = format!("{canonical_query}&X-Amz-Signature={signature}");
    Presigned {
        canonical_request,
        string_to_sign,
        signature,
        query,
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case hex).
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! AWS's published SigV4 test vectors, query-signing variant: `context.json`,
    //! `query-canonical-request.txt`, `query-string-to-sign.txt` and `query-signature.txt` of
    //! the cases below in awslabs/aws-c-auth `tests/aws-signing-test-suite/v4/` (credentials
    //! AKIDEXAMPLE, us-east-1, service `service`, 2015-08-30T12:36:00Z, expiry 3600 s).

    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// 2015-08-30T12:36:00Z.
    fn vector_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn vector_credentials(session_token: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: session_token.map(str::to_owned),
        }
    }

    fn sign(query: &[(&str, &str)], session_token: Option<&str>) -> Presigned {
        let request = PresignRequest {
            host: "example.amazonaws.com",
            query,
            region: "us-east-1",
            service: "service",
            expires_secs: 3600,
            time: vector_time(),
        };
        presign(&request, &vector_credentials(session_token))
    }

    const SIGNATURE_PARAMS: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600";

    #[test]
    fn get_vanilla() {
        let signed = sign(&[], None);
        assert_eq!(
            signed.canonical_request,
            format!(
                "GET\n/\n{SIGNATURE_PARAMS}&X-Amz-SignedHeaders=host\nhost:example.amazonaws.com\n\nhost\n{EMPTY_SHA256}"
            )
        );
        assert_eq!(
            signed.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb7705b4aa3cb8e8f5e1e0b3d4c0b64030797a313c8ceee43e33117cc43eadc5"
        );
        assert_eq!(
            signed.signature,
            "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
        );
        assert!(signed.query.ends_with(
            "&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
        ));
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let signed = sign(&[("Param2", "value2"), ("Param1", "value1")], None);
        assert!(
            signed.canonical_request.contains(&format!(
                "\nParam1=value1&Param2=value2&{SIGNATURE_PARAMS}&"
            )),
            "{}",
            signed.canonical_request
        );
        assert_eq!(
            signed.signature,
            "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"
        );
    }

    #[test]
    fn get_vanilla_query_unreserved() {
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let signed = sign(&[(unreserved, unreserved)], None);
        assert_eq!(
            signed.signature,
            "8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf"
        );
    }

    #[test]
    fn get_vanilla_with_session_token() {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let signed = sign(&[], Some(token));
        assert!(
            signed.canonical_request.contains(&format!(
                "&X-Amz-Expires=3600&X-Amz-Security-Token={token}&X-Amz-SignedHeaders=host\n"
            )),
            "{}",
            signed.canonical_request
        );
        assert_eq!(
            signed.signature,
            "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c"
        );
    }

    #[test]
    fn reserved_characters_are_percent_encoded_in_upper_case() {
        assert_eq!(uri_encode("a b/c=d&é"), "a%20b%2Fc%3Dd%26%C3%A9");
    }

    #[test]
    fn credentials_debug_hides_the_secret_key() {
        let text = format!("{:?}", vector_credentials(Some("tok")));
        assert!(!text.contains("wJalr") && !text.contains("tok\""), "{text}");
    }
}
