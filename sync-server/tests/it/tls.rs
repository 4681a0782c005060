//! HTTPS through rustls with a certificate made on the spot.

use std::sync::Arc;

use reqwest::StatusCode;

use crate::support::{TestServer, install_crypto_provider};

struct SelfSigned {
    dir: tempfile::TempDir,
    cert_pem: String,
}

impl SelfSigned {
    fn for_localhost() -> Self {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cert_pem = made.cert.pem();
        std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).unwrap();
        SelfSigned { dir, cert_pem }
    }

    fn cert(&self) -> std::path::PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> std::path::PathBuf {
        self.dir.path().join("key.pem")
    }

    /// A client trusting only this certificate.
    fn client(&self, server: &TestServer) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        let der =
            rustls_pki_types::CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).unwrap();
        roots.add(der).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .resolve("localhost", server.addr)
            .build()
            .unwrap()
    }
}

use rustls_pki_types::pem::PemObject;

#[tokio::test]
async fn the_server_speaks_https_with_the_configured_certificate() {
    install_crypto_provider();
    let cert = SelfSigned::for_localhost();
    let server = TestServer::builder()
        .tls(cert.cert(), cert.key())
        .start()
        .await;
    assert!(server.base.starts_with("https://"));
    let client = cert.client(&server);

    let url = format!("https://localhost:{}/health", server.addr.port());
    let response = client.get(&url).send().await.expect("HTTPS request");
    assert_eq!(response.status(), StatusCode::OK);

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/health", server.addr.port()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != StatusCode::OK);

    // A client that does not trust the certificate refuses the connection.
    let stranger = reqwest::Client::builder()
        .resolve("localhost", server.addr)
        .build()
        .unwrap();
    assert!(stranger.get(&url).send().await.is_err());
}

#[tokio::test]
async fn a_key_file_that_holds_no_key_is_refused_at_start_naming_the_file() {
    let cert = SelfSigned::for_localhost();
    let files = fieldsales_server::config::TlsFiles {
        cert: cert.cert(),
        key: cert.cert(),
    };
    let err = fieldsales_server::tls_acceptor(&files)
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("cert.pem") && text.contains("no private key"),
        "{text}"
    );
}
