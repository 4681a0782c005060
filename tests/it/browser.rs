//! A small WebDriver client for the browser tests: chromium driven through chromedriver over
//! `reqwest`, just what the scenarios need. `scripts/install-test-tools.sh` installs both;
//! when they are missing or chromium cannot start, the test fails and says so: a skipped
//! browser test proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldsales_tests::{PASSWORD, Person, TENANT};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromium session driven through chromedriver; ended (and chromedriver stopped) when
/// dropped.
pub(crate) struct Chromedriver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: Option<String>,
    _profile: tempfile::TempDir,
    /// A script returning the page's state: `ready`, `error`, or anything else while it
    /// works.
    ready: &'static str,
    /// Where the page says what failed.
    failure: &'static str,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

impl Chromedriver {
    /// Starts chromedriver and a headless chromium session with a fresh profile.
    pub(crate) async fn start() -> Chromedriver {
        Self::start_for(
            "return document.getElementById('dashboard').dataset.state",
            "#status",
        )
        .await
    }

    /// Starts chromedriver and a headless chromium session for a page whose state `ready`
    /// returns, and which says what failed in `failure`.
    pub(crate) async fn start_for(ready: &'static str, failure: &'static str) -> Chromedriver {
        let driver = which("chromedriver").unwrap_or_else(|| {
            panic!("chromedriver is not installed: run scripts/install-test-tools.sh (Debian chromium-driver)")
        });
        let browser = which("chromium").unwrap_or_else(|| {
            panic!("chromium is not installed: run scripts/install-test-tools.sh (Debian chromium)")
        });
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut this = Chromedriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
            _profile: profile,
            ready,
            failure,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = this
                .http
                .get(format!("{}/status", this.base))
                .send()
                .await
                .ok()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not come up within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1800",
            &format!("--user-data-dir={}", this._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": browser.display().to_string(), "args": args}
        }}});
        let answer = this.call(reqwest::Method::POST, "/session", caps).await;
        let session = answer["sessionId"].as_str().map(str::to_owned).unwrap_or_else(|| {
            panic!("chromium did not start a WebDriver session (is it installed and runnable?): {answer}")
        });
        this.session = Some(session);
        this
    }

    pub(crate) async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.expect("WebDriver call");
        let status = response.status();
        let answer: Value = response.json().await.expect("WebDriver JSON");
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {answer}"
        );
        answer["value"].clone()
    }

    pub(crate) fn at(&self, path: &str) -> String {
        format!(
            "/session/{}{path}",
            self.session.as_deref().unwrap_or_default()
        )
    }

    pub(crate) async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, &self.at("/url"), json!({"url": url}))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                &self.at("/element"),
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_owned()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/clear")),
            json!({}),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/value")),
            json!({"text": text}),
        )
        .await;
    }

    /// Chooses the file at `path` in the file input `css`.
    pub(crate) async fn upload(&self, css: &str, path: &Path) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/value")),
            json!({"text": path.display().to_string()}),
        )
        .await;
    }

    /// Accepts the page's `confirm()` (or `alert()`), once it shows.
    pub(crate) async fn accept_dialog(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let response = self
                .http
                .post(format!("{}{}", self.base, self.at("/alert/accept")))
                .json(&json!({}))
                .send()
                .await
                .expect("WebDriver call");
            if response.status().is_success() {
                return;
            }
            assert!(Instant::now() < deadline, "no dialog showed within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/click")),
            json!({}),
        )
        .await;
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        let v = self
            .call(
                reqwest::Method::GET,
                &self.at(&format!("/element/{e}/text")),
                Value::Null,
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    pub(crate) async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            &self.at("/execute/sync"),
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until the page has drawn (or failed, which fails the test).
    pub(crate) async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self.script(self.ready).await;
            match state.as_str() {
                Some("ready") => return,
                Some("error") => panic!("the page failed: {}", self.text(self.failure).await),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "the page did not draw within 20 s (state {state}, sign-in error `{}`)",
                self.text("#sign-in-error").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's width and height as a device would have them (`mobile`: a phone's
    /// viewport), through chromium's own emulation.
    pub(crate) async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    pub(crate) async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            &self.at("/goog/cdp/execute"),
            json!({"cmd": cmd, "params": params}),
        )
        .await
    }

    /// The fonts chromium really drew the text of `css` in.
    pub(crate) async fn platform_fonts(&self, css: &str) -> Vec<String> {
        self.cdp("DOM.enable", json!({})).await;
        self.cdp("CSS.enable", json!({})).await;
        let document = self.cdp("DOM.getDocument", json!({})).await;
        let root = document["root"]["nodeId"].clone();
        let node = self
            .cdp(
                "DOM.querySelector",
                json!({"nodeId": root, "selector": css}),
            )
            .await;
        let fonts = self
            .cdp(
                "CSS.getPlatformFontsForNode",
                json!({"nodeId": node["nodeId"]}),
            )
            .await;
        fonts["fonts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["familyName"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, &self.at("/url"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Loads the current address again and waits until the page has drawn.
    pub(crate) async fn reload(&self) {
        let url = self.current_url().await;
        self.go(&url).await;
        self.wait_ready().await;
    }

    /// Waits until the address holds `part` (after a click on a link).
    pub(crate) async fn wait_url_contains(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.current_url().await;
            if url.contains(part) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page did not go to `{part}`: {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns something truthy.
    pub(crate) async fn wait_for(&self, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.script(script).await;
            let truthy = match &v {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "`{script}` stayed false (`{}`)",
                self.text(self.failure).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn screenshot(&self, to: &Path) {
        let png = self
            .call(reqwest::Method::GET, &self.at("/screenshot"), Value::Null)
            .await;
        let bytes = base64_decode(png.as_str().expect("base64 PNG"));
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::create_dir_all(to.parent().expect("parent")).expect("artifact dir");
        std::fs::write(to, bytes).expect("screenshot written");
    }

    pub(crate) async fn quit(mut self) {
        if let Some(id) = self.session.take() {
            let _ = self
                .http
                .delete(format!("{}/session/{id}", self.base))
                .send()
                .await;
        }
    }
}

/// Standard base64, as WebDriver sends screenshots.
pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let mut n = 0u32;
        for (i, &c) in data.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..data.len()]);
    }
    out
}

pub(crate) async fn sign_in_on_page(browser: &Chromedriver, person: &Person) {
    browser.type_into("#tenant", TENANT).await;
    browser.type_into("#login", &person.login).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_ready().await;
}

/// Where a test's screenshots go: under the target directory, kept after the run.
pub(crate) fn artifact(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("web-artifacts")
        .join(name)
}

/// The page at a 390 px phone's width: nothing wider than the screen, and a screenshot.
pub(crate) async fn fits_a_phone(browser: &Chromedriver, name: &str) {
    at_both_widths(browser, name, true).await;
}

/// The page at a 390 px phone's width (nothing wider than the screen) and at 1440 px, a
/// screenshot at each; `reload` loads it again at each width and waits until it has drawn
/// (a page that lays itself out once), else the page as it stands is measured.
pub(crate) async fn at_both_widths(browser: &Chromedriver, name: &str, reload: bool) {
    browser.viewport(390, 844, true).await;
    if reload {
        browser.reload().await;
    }
    let widths = browser
        .script("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    let (scroll, inner) = (
        widths[0].as_i64().expect("width"),
        widths[1].as_i64().expect("width"),
    );
    assert_eq!(inner, 390, "the viewport is a phone's");
    assert!(
        scroll <= inner,
        "{name}: the page is {scroll} px wide on a {inner} px screen"
    );
    browser
        .screenshot(&artifact(&format!("{name}-390.png")))
        .await;
    browser.viewport(1440, 900, false).await;
    if reload {
        browser.reload().await;
    }
    browser
        .screenshot(&artifact(&format!("{name}-1440.png")))
        .await;
}
