//! Detection quality: recall per credential family and flagged look-alikes, on a labeled corpus.
//!
//! Run with `cargo bench --bench detection`. Environment: `KW_DETECT_PER_FAMILY` (default 120)
//! positives per family, `KW_DETECT_NEGATIVES` (default 60) draws per negative kind,
//! `KW_DETECT_SEED` (default 1) for a different corpus, `KW_DETECT_SHOW=1` to print every miss
//! and every flagged negative (redacted to their context's shape, never the value),
//! `KW_DETECT_KEEP=DIR` to write the corpus to a new directory DIR and keep it.
//!
//! The corpus is generated here, not committed: files in many languages and config formats
//! (env files, shell, Python, JavaScript, Go, Java, Ruby, PHP, C#, YAML, JSON, TOML, INI,
//! properties, Dockerfile, docker-compose, Terraform, Jupyter notebooks, curl lines, Kubernetes
//! `Secret`s with base64 data) with synthetic keys of every family planted among ordinary lines,
//! and files of hard negatives: placeholders and templates, environment and secret-manager
//! references in many languages, redacted values, AWS's documented examples, UUIDs, git SHAs,
//! hashes and integrity strings in real lockfile formats, base64 images and fonts, minified code,
//! low-entropy test values, i18n labels, public keys and certificates, public tokens.
//!
//! The values are drawn by this file's own generators from each provider's published format,
//! independently of the rules' patterns. Everything is staged in a temporary repository and
//! `keyward scan --staged --format json` runs once; a planted key counts as found when a
//! finding sits on its line(s), a negative counts as flagged when any finding does.
//!
//! Targets (from the rule-catalog issue): recall ≥ 98% overall and ≥ 95% in every family; at
//! most 1 flagged negative per 500. The bench prints PASS or MISS; it never fails on them.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

use keyward::rules::examples::Rng;
use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";
const DIGITS: &[u8] = b"0123456789";
const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A credential family: how its keys look, and the names code gives them.
struct Family {
    name: &'static str,
    /// The environment variable the provider documents.
    env: &'static str,
    /// A client constructor or config owner that names the provider in code.
    owner: &'static str,
    /// An API host, for `curl` lines (`None`: not an HTTP bearer credential).
    host: Option<&'static str>,
    key: fn(&mut Rng) -> String,
}

fn s(rng: &mut Rng, alphabet: &[u8], n: usize) -> String {
    rng.string(alphabet, n)
}

fn families() -> Vec<Family> {
    macro_rules! fam {
        ($name:expr, $env:expr, $owner:expr, $host:expr, $key:expr) => {
            Family {
                name: $name,
                env: $env,
                owner: $owner,
                host: $host,
                key: $key,
            }
        };
    }
    vec![
        fam!(
            "openai",
            "OPENAI_API_KEY",
            "OpenAI",
            Some("api.openai.com"),
            |r| {
                let marker = "T3BlbkFJ";
                match r.next_u64() % 4 {
                    0 => format!("sk-proj-{}{marker}{}", s(r, B64URL, 74), s(r, B64URL, 74)),
                    1 => format!("sk-{}{marker}{}", s(r, ALNUM, 20), s(r, ALNUM, 20)),
                    2 => format!(
                        "sk-svcacct-{}{marker}{}",
                        s(r, B64URL, 74),
                        s(r, B64URL, 74)
                    ),
                    _ => format!("sk-admin-{}{marker}{}", s(r, B64URL, 60), s(r, B64URL, 60)),
                }
            }
        ),
        fam!(
            "anthropic",
            "ANTHROPIC_API_KEY",
            "Anthropic",
            Some("api.anthropic.com"),
            |r| { format!("sk-ant-api03-{}AA", s(r, B64URL, 93)) }
        ),
        fam!(
            "google",
            "GEMINI_API_KEY",
            "genai.Client",
            None,
            |r| format!("AIza{}", s(r, B64URL, 35))
        ),
        fam!(
            "groq",
            "GROQ_API_KEY",
            "Groq",
            Some("api.groq.com"),
            |r| format!("gsk_{}", s(r, ALNUM, 52))
        ),
        fam!(
            "huggingface",
            "HF_TOKEN",
            "InferenceClient",
            Some("huggingface.co"),
            |r| format!("hf_{}", s(r, ALNUM, 34))
        ),
        fam!(
            "openrouter",
            "OPENROUTER_API_KEY",
            "OpenRouter",
            Some("openrouter.ai"),
            |r| format!("sk-or-v1-{}", s(r, HEX, 64))
        ),
        fam!(
            "xai",
            "XAI_API_KEY",
            "xai_sdk.Client",
            Some("api.x.ai"),
            |r| format!("xai-{}", s(r, ALNUM, 80))
        ),
        fam!(
            "perplexity",
            "PERPLEXITY_API_KEY",
            "Perplexity",
            Some("api.perplexity.ai"),
            |r| format!("pplx-{}", s(r, ALNUM, 48))
        ),
        fam!(
            "replicate",
            "REPLICATE_API_TOKEN",
            "replicate.Client",
            Some("api.replicate.com"),
            |r| format!("r8_{}", s(r, ALNUM, 37))
        ),
        fam!(
            "together",
            "TOGETHER_API_KEY",
            "Together",
            Some("api.together.xyz"),
            |r| s(r, HEX, 64)
        ),
        fam!(
            "mistral",
            "MISTRAL_API_KEY",
            "Mistral",
            Some("api.mistral.ai"),
            |r| s(r, ALNUM, 32)
        ),
        fam!(
            "cohere",
            "COHERE_API_KEY",
            "cohere.ClientV2",
            Some("api.cohere.com"),
            |r| s(r, ALNUM, 40)
        ),
        fam!(
            "deepseek",
            "DEEPSEEK_API_KEY",
            "DeepSeek",
            Some("api.deepseek.com"),
            |r| format!("sk-{}", s(r, HEX, 32))
        ),
        fam!(
            "langsmith",
            "LANGSMITH_API_KEY",
            "langsmith.Client",
            None,
            |r| { format!("lsv2_pt_{}_{}", s(r, HEX, 32), s(r, HEX, 10)) }
        ),
        fam!(
            "pinecone",
            "PINECONE_API_KEY",
            "Pinecone",
            None,
            |r| format!("pcsk_{}_{}", s(r, ALNUM, 6), s(r, ALNUM, 65))
        ),
        fam!(
            "elevenlabs",
            "ELEVENLABS_API_KEY",
            "ElevenLabs",
            None,
            |r| format!("sk_{}", s(r, HEX, 48))
        ),
        fam!(
            "azure-openai",
            "AZURE_OPENAI_API_KEY",
            "AzureOpenAI",
            Some("acme.openai.azure.com"),
            |r| s(r, HEX, 32)
        ),
        fam!(
            "aws-key-id",
            "AWS_ACCESS_KEY_ID",
            "boto3.client",
            None,
            |r| format!("AKIA{}", s(r, BASE32, 16))
        ),
        fam!(
            "aws-secret",
            "AWS_SECRET_ACCESS_KEY",
            "boto3.client",
            None,
            |r| s(r, B64, 40)
        ),
        fam!(
            "azure-storage",
            "AZURE_STORAGE_CONNECTION_STRING",
            "BlobServiceClient",
            None,
            |r| {
                format!(
                "DefaultEndpointsProtocol=https;AccountName=acme{};AccountKey={}==;EndpointSuffix=core.windows.net",
                s(r, DIGITS, 3),
                s(r, B64, 86)
            )
            }
        ),
        fam!(
            "digitalocean",
            "DIGITALOCEAN_TOKEN",
            "digitalocean.Client",
            Some("api.digitalocean.com"),
            |r| format!("dop_v1_{}", s(r, HEX, 64))
        ),
        fam!(
            "cloudflare",
            "CLOUDFLARE_API_TOKEN",
            "Cloudflare",
            Some("api.cloudflare.com"),
            |r| s(r, B64URL, 40)
        ),
        fam!(
            "heroku",
            "HEROKU_API_KEY",
            "heroku3.from_key",
            Some("api.heroku.com"),
            |r| format!("HRKU-AA{}", s(r, B64URL, 58))
        ),
        fam!(
            "github",
            "GITHUB_TOKEN",
            "Github",
            Some("api.github.com"),
            |r| {
                if r.next_u64() % 2 == 0 {
                    format!("ghp_{}", s(r, ALNUM, 36))
                } else {
                    format!("github_pat_{}_{}", s(r, ALNUM, 22), s(r, ALNUM, 59))
                }
            }
        ),
        fam!(
            "gitlab",
            "GITLAB_TOKEN",
            "gitlab.Gitlab",
            Some("gitlab.com"),
            |r| format!("glpat-{}", s(r, B64URL, 20))
        ),
        fam!(
            "bitbucket",
            "BITBUCKET_APP_PASSWORD",
            "Bitbucket",
            None,
            |r| format!("ATBB{}", s(r, ALNUM, 32))
        ),
        fam!("npm", "NPM_TOKEN", "npmClient", None, |r| format!(
            "npm_{}",
            s(r, ALNUM, 36)
        )),
        fam!(
            "pypi",
            "TWINE_PASSWORD",
            "twine.Settings",
            None,
            |r| format!("pypi-AgEIcHlwaS5vcmc{}", s(r, B64URL, 120))
        ),
        fam!(
            "dockerhub",
            "DOCKERHUB_TOKEN",
            "docker.login",
            None,
            |r| format!("dckr_pat_{}", s(r, B64URL, 27))
        ),
        fam!(
            "crates-io",
            "CARGO_REGISTRY_TOKEN",
            "cargo.publish",
            None,
            |r| format!("cio{}", s(r, ALNUM, 32))
        ),
        fam!("nuget", "NUGET_API_KEY", "NuGet.push", None, |r| format!(
            "oy2{}",
            s(r, LOWER_DIGITS, 43)
        )),
        fam!(
            "rubygems",
            "GEM_HOST_API_KEY",
            "Gem.push",
            None,
            |r| format!("rubygems_{}", s(r, HEX, 48))
        ),
        fam!(
            "slack",
            "SLACK_BOT_TOKEN",
            "WebClient",
            Some("slack.com"),
            |r| {
                format!(
                    "xoxb-{}-{}-{}",
                    s(r, DIGITS, 12),
                    s(r, DIGITS, 13),
                    s(r, ALNUM, 24)
                )
            }
        ),
        fam!(
            "slack-webhook",
            "SLACK_WEBHOOK_URL",
            "WebhookClient",
            None,
            |r| {
                format!(
                    "https://hooks.slack.com/services/T{}/B{}/{}",
                    s(r, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
                    s(r, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
                    s(r, ALNUM, 24)
                )
            }
        ),
        fam!("discord", "DISCORD_TOKEN", "discord.Client", None, |r| {
            format!(
                "MT{}.{}.{}",
                s(r, ALNUM, 24),
                s(r, B64URL, 6),
                s(r, B64URL, 38)
            )
        }),
        fam!(
            "telegram",
            "TELEGRAM_BOT_TOKEN",
            "telegram.Bot",
            None,
            |r| format!("{}:AA{}", s(r, DIGITS, 10), s(r, B64URL, 33))
        ),
        fam!(
            "twilio",
            "TWILIO_AUTH_TOKEN",
            "twilio.rest.Client",
            None,
            |r| s(r, HEX, 32)
        ),
        fam!(
            "sendgrid",
            "SENDGRID_API_KEY",
            "SendGridAPIClient",
            Some("api.sendgrid.com"),
            |r| { format!("SG.{}.{}", s(r, B64URL, 22), s(r, B64URL, 43)) }
        ),
        fam!(
            "mailgun",
            "MAILGUN_API_KEY",
            "Mailgun",
            Some("api.mailgun.net"),
            |r| format!("key-{}", s(r, HEX, 32))
        ),
        fam!(
            "stripe",
            "STRIPE_SECRET_KEY",
            "stripe.StripeClient",
            Some("api.stripe.com"),
            |r| format!("sk_live_{}", s(r, ALNUM, 99))
        ),
        fam!(
            "square",
            "SQUARE_ACCESS_TOKEN",
            "square.Client",
            Some("connect.squareup.com"),
            |r| format!("EAAA{}", s(r, B64URL, 60))
        ),
        fam!(
            "shopify",
            "SHOPIFY_ACCESS_TOKEN",
            "shopify.Session",
            None,
            |r| format!("shpat_{}", s(r, HEX, 32))
        ),
        fam!(
            "sentry",
            "SENTRY_AUTH_TOKEN",
            "sentry.Client",
            Some("sentry.io"),
            |r| format!("sntryu_{}", s(r, HEX, 64))
        ),
        fam!("datadog", "DD_API_KEY", "datadog.initialize", None, |r| s(
            r, HEX, 32
        )),
        fam!("vault", "VAULT_TOKEN", "hvac.Client", None, |r| format!(
            "hvs.{}",
            s(r, B64URL, 90)
        )),
        fam!("doppler", "DOPPLER_TOKEN", "DopplerSDK", None, |r| format!(
            "dp.st.{}",
            s(r, ALNUM, 43)
        )),
        fam!(
            "databricks",
            "DATABRICKS_TOKEN",
            "WorkspaceClient",
            None,
            |r| format!("dapi{}", s(r, HEX, 32))
        ),
        fam!(
            "jwt",
            "SUPABASE_SERVICE_ROLE_KEY",
            "createClient",
            None,
            jwt
        ),
        fam!("url-password", "DATABASE_URL", "create_engine", None, |r| {
            let scheme = [
                "postgres",
                "postgresql",
                "mysql",
                "mongodb+srv",
                "redis",
                "amqps",
            ][(r.next_u64() % 6) as usize];
            format!(
                "{scheme}://svc_{}:{}@db-{}.internal.acme.io:5432/app",
                s(r, b"abcdefghijklmnopqrstuvwxyz", 5),
                s(r, ALNUM, 20),
                s(r, DIGITS, 2)
            )
        }),
        fam!("generic", "DB_PASSWORD", "connect", None, |r| {
            let len = 14 + (r.next_u64() % 19) as usize;
            s(r, ALNUM, len)
        }),
        fam!(
            "generic-symbols",
            "SMTP_PASSWORD",
            "smtplib.SMTP.login",
            None,
            |r| {
                let len = 12 + (r.next_u64() % 13) as usize;
                s(
                    r,
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^*-_+=~",
                    len,
                )
            }
        ),
        fam!(
            "generic-api-key",
            "PAYMENTS_API_KEY",
            "PaymentsClient",
            None,
            |r| s(r, ALNUM, 32)
        ),
        fam!(
            "generic-client-secret",
            "OAUTH_CLIENT_SECRET",
            "OAuth2Session",
            None,
            |r| s(r, B64URL, 40)
        ),
        fam!(
            "generic-token",
            "SERVICE_AUTH_TOKEN",
            "ServiceClient",
            None,
            |r| s(r, HEX, 48)
        ),
    ]
}

fn jwt(r: &mut Rng) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = format!(
        r#"{{"iss":"supabase","ref":"{}","role":"service_role","iat":1700000000,"exp":2000000000}}"#,
        s(r, b"abcdefghijklmnopqrstuvwxyz", 20)
    );
    format!(
        "{header}.{}.{}",
        b64url(payload.as_bytes()),
        s(r, B64URL, 43)
    )
}

fn b64(bytes: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while pad && !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

fn b64url(bytes: &[u8]) -> String {
    b64(bytes, B64URL, false)
}

fn b64std(bytes: &[u8]) -> String {
    b64(bytes, B64, true)
}

/// `MISTRAL_API_KEY` → `mistral_api_key`, `mistralApiKey`.
fn snake(env: &str) -> String {
    env.to_ascii_lowercase()
}

fn camel(env: &str) -> String {
    let mut out = String::new();
    for (i, part) in env.split('_').enumerate() {
        let lower = part.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut c = lower.chars();
            if let Some(f) = c.next() {
                out.push(f.to_ascii_uppercase());
                out.push_str(c.as_str());
            }
        }
    }
    out
}

/// One file format: its path and how a key assigned to a name is written in it (`None` when
/// the format does not fit the family). Returns lines.
struct Context {
    file: &'static str,
    write: fn(&Family, &str) -> Option<Vec<String>>,
    filler: &'static [&'static str],
}

const CODE_FILLER: &[&str] = &[
    "def handler(event, context):",
    "    return {\"statusCode\": 200}",
    "import logging",
    "log = logging.getLogger(__name__)",
    "",
];
const JS_FILLER: &[&str] = &[
    "import express from 'express';",
    "const app = express();",
    "app.listen(process.env.PORT || 3000);",
    "",
];
const CONF_FILLER: &[&str] = &[
    "# settings for the staging stack",
    "LOG_LEVEL=info",
    "PORT=8080",
    "",
];
const YAML_FILLER: &[&str] = &[
    "  replicas: 2",
    "  image: acme/app:1.4.2",
    "  # rotated quarterly",
    "",
];

fn contexts() -> Vec<Context> {
    vec![
        Context {
            file: "deploy/app.env",
            filler: CONF_FILLER,
            write: |f, v| Some(vec![format!("{}={v}", f.env)]),
        },
        Context {
            file: "deploy/quoted.env",
            filler: CONF_FILLER,
            write: |f, v| Some(vec![format!("{}=\"{v}\"", f.env)]),
        },
        Context {
            file: "scripts/setup.sh",
            filler: CONF_FILLER,
            write: |f, v| Some(vec![format!("export {}='{v}'", f.env)]),
        },
        Context {
            file: "app/settings.py",
            filler: CODE_FILLER,
            write: |f, v| Some(vec![format!("{} = \"{v}\"", snake(f.env))]),
        },
        Context {
            file: "app/clients.py",
            filler: CODE_FILLER,
            write: |f, v| Some(vec![format!("client = {}(api_key=\"{v}\")", f.owner)]),
        },
        Context {
            file: "web/config.js",
            filler: JS_FILLER,
            write: |f, v| Some(vec![format!("const {} = \"{v}\";", camel(f.env))]),
        },
        Context {
            file: "web/options.ts",
            filler: JS_FILLER,
            write: |f, v| Some(vec![format!("  {}: '{v}',", camel(f.env))]),
        },
        Context {
            file: "cmd/main.go",
            filler: JS_FILLER,
            write: |f, v| Some(vec![format!("\t{} := \"{v}\"", camel(f.env))]),
        },
        Context {
            file: "src/Config.java",
            filler: JS_FILLER,
            write: |f, v| {
                Some(vec![format!(
                    "    private static final String {} = \"{v}\";",
                    f.env
                )])
            },
        },
        Context {
            file: "config/app.yaml",
            filler: YAML_FILLER,
            write: |f, v| Some(vec![format!("  {}: {v}", snake(f.env))]),
        },
        Context {
            file: "config/quoted.yml",
            filler: YAML_FILLER,
            write: |f, v| Some(vec![format!("  {}: \"{v}\"", f.env)]),
        },
        Context {
            file: "config/settings.json",
            filler: &["  \"debug\": false,", "  \"region\": \"eu-west-1\","],
            write: |f, v| Some(vec![format!("  \"{}\": \"{v}\",", snake(f.env))]),
        },
        Context {
            file: "config/app.toml",
            filler: CONF_FILLER,
            write: |f, v| Some(vec![format!("{} = \"{v}\"", snake(f.env))]),
        },
        Context {
            file: "Dockerfile",
            filler: &["FROM python:3.12-slim", "WORKDIR /app", "COPY . ."],
            write: |f, v| Some(vec![format!("ENV {}={v}", f.env)]),
        },
        Context {
            file: "docker-compose.yml",
            filler: YAML_FILLER,
            write: |f, v| Some(vec![format!("      - {}={v}", f.env)]),
        },
        Context {
            file: "infra/main.tf",
            filler: &["resource \"aws_s3_bucket\" \"logs\" {", "}"],
            write: |f, v| Some(vec![format!("  {} = \"{v}\"", snake(f.env))]),
        },
        Context {
            file: "notebooks/explore.ipynb",
            filler: &["    \"import pandas as pd\\n\",", "    \"df.head()\\n\","],
            write: |f, v| Some(vec![format!("    \"{} = \\\"{v}\\\"\\n\",", f.env)]),
        },
        Context {
            file: "docs/curl.md",
            filler: &["Call the API:", "```sh", "```"],
            write: |f, v| {
                f.host.map(|h| {
                    vec![format!(
                        "curl https://{h}/v1/models -H \"Authorization: Bearer {v}\""
                    )]
                })
            },
        },
        Context {
            file: "src/config.php",
            filler: &["<?php", "require 'vendor/autoload.php';"],
            write: |f, v| Some(vec![format!("$config['{}'] = '{v}';", snake(f.env))]),
        },
        Context {
            file: "config/initializers/keys.rb",
            filler: &["Rails.application.configure do", "end"],
            write: |f, v| Some(vec![format!("{} = '{v}'", f.env)]),
        },
        Context {
            file: "src/Settings.cs",
            filler: &["namespace Acme;", "public static class Settings {"],
            write: |f, v| {
                Some(vec![format!(
                    "    public const string {} = \"{v}\";",
                    camel(f.env)
                )])
            },
        },
        Context {
            file: "config/app.ini",
            filler: &["[server]", "port = 8080"],
            write: |f, v| Some(vec![format!("{} = {v}", snake(f.env))]),
        },
        Context {
            file: "src/main/resources/application.properties",
            filler: &["server.port=8080", "spring.application.name=acme"],
            write: |f, v| Some(vec![format!("{}={v}", snake(f.env).replace('_', "."))]),
        },
        Context {
            file: "k8s/secret.yaml",
            filler: &[],
            write: |f, v| {
                Some(vec![
                    "---".into(),
                    "apiVersion: v1".into(),
                    "kind: Secret".into(),
                    "metadata:".into(),
                    "  name: app-secrets".into(),
                    "type: Opaque".into(),
                    "data:".into(),
                    format!("  {}: {}", f.env, b64std(v.as_bytes())),
                ])
            },
        },
    ]
}

/// Labeled items: `(path, first line, last line)` of each planted key or negative.
#[derive(Default)]
struct Corpus {
    files: BTreeMap<String, Vec<String>>,
    positives: Vec<(String, String, usize, usize)>,
    negatives: Vec<(String, String, usize, usize)>,
}

impl Corpus {
    /// Appends `lines` to `path` after a filler line; returns the line range they occupy.
    fn push(&mut self, path: &str, filler: &str, lines: Vec<String>) -> (usize, usize) {
        let file = self.files.entry(path.to_owned()).or_default();
        if !filler.is_empty() || file.is_empty() {
            file.push(filler.to_owned());
        }
        let first = file.len() + 1;
        file.extend(lines);
        (first, file.len())
    }
}

/// Special shapes of a family that do not fit a one-line assignment.
fn special(fam: &Family, rng: &mut Rng, corpus: &mut Corpus, n: usize) -> bool {
    match fam.name {
        "pem" => {
            for i in 0..n {
                let body: Vec<String> = (0..12).map(|_| s(rng, B64, 64)).collect();
                let kind = ["RSA ", "EC ", "OPENSSH ", "", "DSA "][i % 5];
                let mut lines = vec![format!("-----BEGIN {kind}PRIVATE KEY-----")];
                lines.extend(body);
                lines.push(format!("{}==", s(rng, B64, 30)));
                lines.push(format!("-----END {kind}PRIVATE KEY-----"));
                let path = format!("keys/deploy_{i}.pem");
                let (a, b) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a, b));
            }
            true
        }
        "gcp-service-account" => {
            for i in 0..n {
                let key: Vec<String> = (0..16).map(|_| s(rng, B64, 64)).collect();
                let line = format!(
                    "  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\",",
                    key.join("\\n")
                );
                let lines = vec![
                    "{".into(),
                    "  \"type\": \"service_account\",".into(),
                    "  \"project_id\": \"acme-prod\",".into(),
                    format!("  \"private_key_id\": \"{}\",", s(rng, HEX, 40)),
                    line,
                    "  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"".into(),
                    "}".into(),
                ];
                let path = format!("secrets/sa-{i}.json");
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 4, a + 4));
            }
            true
        }
        _ => false,
    }
}

fn build(per_family: usize, neg_draws: usize, seed: u64) -> Corpus {
    let mut rng = Rng::new(seed);
    let mut corpus = Corpus::default();
    let contexts = contexts();
    let mut fams = families();
    let special_fams = [
        fam_named("pem", "PRIVATE_KEY"),
        fam_named("gcp-service-account", "GOOGLE_APPLICATION_CREDENTIALS"),
    ];
    for fam in &special_fams {
        special(fam, &mut rng, &mut corpus, per_family);
    }
    let mut turn = 0usize;
    for fam in fams.drain(..) {
        let mut placed = 0;
        while placed < per_family {
            let ctx = &contexts[turn % contexts.len()];
            turn += 1;
            let value = (fam.key)(&mut rng);
            let Some(lines) = (ctx.write)(&fam, &value) else {
                continue;
            };
            let filler = ctx
                .filler
                .get(turn % ctx.filler.len().max(1))
                .copied()
                .unwrap_or("");
            // One file per family and format, so each is a realistic size.
            let path = format!("{}/{}", fam.name, ctx.file);
            let (a, b) = corpus.push(&path, filler, lines);
            // A Kubernetes item spans its document; the finding sits on the data line.
            corpus
                .positives
                .push((fam.name.into(), path, if b > a { b } else { a }, b));
            placed += 1;
        }
    }
    negatives(&mut rng, &mut corpus, neg_draws);
    corpus
}

fn fam_named(name: &'static str, env: &'static str) -> Family {
    Family {
        name,
        env,
        owner: "",
        host: None,
        key: |_| String::new(),
    }
}

/// Hard negatives: `(kind, path, generator of one item's lines)`.
fn negatives(rng: &mut Rng, corpus: &mut Corpus, draws: usize) {
    type Gen = fn(&mut Rng, &Family) -> Vec<String>;
    let kinds: Vec<(&str, &str, Gen)> = vec![
        ("placeholder-dots", "neg/placeholders.env", |_, f| {
            vec![format!("{}=...", f.env)]
        }),
        ("placeholder-prefix-dots", "neg/readme.md", |r, f| {
            vec![format!("export {}=\"{}...\"", f.env, prefix_of(r, f))]
        }),
        ("placeholder-x", "neg/placeholders2.env", |r, f| {
            vec![format!("{}={}{}", f.env, prefix_of(r, f), "x".repeat(32))]
        }),
        ("placeholder-changeme", "neg/values.yaml", |_, f| {
            vec![format!("  {}: changeme", snake(f.env))]
        }),
        ("placeholder-angle", "neg/guide.md", |_, f| {
            vec![format!(
                "{}=<your-{}>",
                f.env,
                snake(f.env).replace('_', "-")
            )]
        }),
        ("placeholder-your", "neg/example.py", |_, f| {
            vec![format!("{} = \"YOUR_{}\"", snake(f.env), f.env)]
        }),
        ("template-helm", "neg/templates/deploy.yaml", |_, f| {
            vec![format!("  {}: {{{{ .Values.{} }}}}", f.env, camel(f.env))]
        }),
        ("template-shell", "neg/compose.yml", |_, f| {
            vec![format!("      - {}=${{{}}}", f.env, f.env)]
        }),
        ("template-python", "neg/settings.cfg", |_, f| {
            vec![format!("{} = %({})s", snake(f.env), snake(f.env))]
        }),
        ("template-gha", "neg/.github/workflows/ci.yml", |_, f| {
            vec![format!("      {}: ${{{{ secrets.{} }}}}", f.env, f.env)]
        }),
        ("ref-python", "neg/app.py", |_, f| {
            vec![format!("{} = os.environ[\"{}\"]", snake(f.env), f.env)]
        }),
        ("ref-python-getenv", "neg/app2.py", |_, f| {
            vec![format!(
                "client = {}(api_key=os.getenv(\"{}\"))",
                f.owner, f.env
            )]
        }),
        ("ref-node", "neg/app.js", |_, f| {
            vec![format!("const {} = process.env.{};", camel(f.env), f.env)]
        }),
        ("ref-go", "neg/main.go", |_, f| {
            vec![format!("\t{} := os.Getenv(\"{}\")", camel(f.env), f.env)]
        }),
        ("ref-java", "neg/App.java", |_, f| {
            vec![format!(
                "String {} = System.getenv(\"{}\");",
                camel(f.env),
                f.env
            )]
        }),
        ("ref-rust", "neg/main.rs", |_, f| {
            vec![format!(
                "let {} = std::env::var(\"{}\")?;",
                snake(f.env),
                f.env
            )]
        }),
        ("ref-ruby", "neg/app.rb", |_, f| {
            vec![format!("{} = ENV.fetch('{}')", snake(f.env), f.env)]
        }),
        ("ref-k8s", "neg/k8s/deploy.yaml", |_, f| {
            vec![
                format!("        - name: {}", f.env),
                "          valueFrom:".into(),
                "            secretKeyRef: {name: app, key: api-key}".into(),
            ]
        }),
        ("ref-ssm", "neg/template.yaml", |_, f| {
            vec![format!(
                "  {}: '{{{{resolve:ssm:/prod/{}}}}}'",
                camel(f.env),
                snake(f.env)
            )]
        }),
        ("redacted-stars", "neg/logs.txt", |r, f| {
            vec![format!("{}={}{}", f.env, prefix_of(r, f), "*".repeat(24))]
        }),
        ("redacted-word", "neg/logs2.txt", |_, f| {
            vec![format!("{}=[REDACTED]", f.env)]
        }),
        ("redacted-ellipsis", "neg/audit.log", |r, f| {
            vec![format!("using key {}…{}", prefix_of(r, f), s(r, ALNUM, 4))]
        }),
        ("aws-example-id", "neg/aws.md", |_, _| {
            vec![format!("aws_access_key_id = AKIA{}", "IOSFODNN7EXAMPLE")]
        }),
        ("aws-example-secret", "neg/aws2.md", |_, _| {
            vec![format!(
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}",
                "EXAMPLEKEY"
            )]
        }),
        ("uuid", "neg/ids.yaml", |r, _| {
            vec![format!("  request_token: {}", uuid(r))]
        }),
        ("uuid-secret-name", "neg/ids.json", |r, _| {
            vec![format!("  \"client_secret_id\": \"{}\",", uuid(r))]
        }),
        ("git-sha", "neg/deps.yaml", |r, _| {
            vec![format!("  revision: {}", s(r, HEX, 40))]
        }),
        ("git-sha-key", "neg/versions.txt", |r, _| {
            vec![format!("commit_key = {}", s(r, HEX, 40))]
        }),
        ("sha256", "neg/checksums.txt", |r, _| {
            vec![format!("{}  dist/keyward-x86_64.tar.gz", s(r, HEX, 64))]
        }),
        ("package-lock", "neg/package-lock.json", |r, _| {
            vec![
                format!("    \"node_modules/pkg-{}\": {{", s(r, b"abcdefghij", 6)),
                format!("      \"resolved\": \"https://registry.npmjs.org/pkg/-/pkg-1.0.0.tgz\","),
                format!("      \"integrity\": \"sha512-{}==\"", s(r, B64, 86)),
                "    },".into(),
            ]
        }),
        ("yarn-lock", "neg/yarn.lock", |r, _| {
            vec![format!("  integrity sha512-{}==", s(r, B64, 86))]
        }),
        ("cargo-lock", "neg/Cargo.lock", |r, _| {
            vec![format!("checksum = \"{}\"", s(r, HEX, 64))]
        }),
        ("go-sum", "neg/go.sum", |r, _| {
            vec![format!("github.com/acme/lib v1.2.3 h1:{}=", s(r, B64, 43))]
        }),
        ("poetry-lock", "neg/poetry.lock", |r, _| {
            vec![format!(
                "    {{file = \"pkg-1.0-py3-none-any.whl\", hash = \"sha256:{}\"}},",
                s(r, HEX, 64)
            )]
        }),
        ("pnpm-lock", "neg/pnpm-lock.yaml", |r, _| {
            vec![format!(
                "    resolution: {{integrity: sha512-{}==}}",
                s(r, B64, 86)
            )]
        }),
        ("base64-image", "neg/styles.css", |r, _| {
            vec![format!(
                ".logo {{ background: url(data:image/png;base64,iVBORw0KGgo{}=); }}",
                s(r, B64, 600)
            )]
        }),
        ("base64-font", "neg/fonts.css", |r, _| {
            vec![format!("@font-face {{ src: url(data:font/woff2;base64,d09GMgABAAAA{}) format(\"woff2\"); }}", s(r, B64, 800))]
        }),
        ("minified", "neg/app.min.js", |r, _| vec![minified(r)]),
        ("low-entropy-password", "neg/fixtures.yaml", |_, _| {
            vec!["  password: password".into()]
        }),
        ("low-entropy-secret", "neg/fixtures2.yaml", |_, _| {
            vec!["  secret: test".into()]
        }),
        ("low-entropy-token", "neg/test_config.py", |r, _| {
            vec![format!("API_TOKEN = \"test-token-{}\"", s(r, DIGITS, 3))]
        }),
        ("low-entropy-db", "neg/docker-compose.dev.yml", |_, _| {
            vec!["      - POSTGRES_PASSWORD=postgres".into()]
        }),
        ("local-url", "neg/dev.env", |r, _| {
            vec![format!(
                "DATABASE_URL=postgres://app:{}@localhost:5432/app",
                s(r, ALNUM, 12)
            )]
        }),
        ("doc-url", "neg/docs.md", |_, _| {
            vec!["See https://user:pass@example.com/login for the format.".into()]
        }),
        ("i18n-label", "neg/locales/en.json", |r, _| {
            let (k, v) = [
                ("login.password", "Password"),
                ("token.expired", "Your session token has expired"),
                ("api_key.label", "API key"),
                ("secret.hint", "Keep this secret"),
                ("password.reset", "Reset password"),
            ][(r.next_u64() % 5) as usize];
            vec![format!("  \"{k}\": \"{v}\",")]
        }),
        ("i18n-label-fr", "neg/locales/fr.yaml", |_, _| {
            vec!["  password_hint: \"Mot de passe oublié ?\"".into()]
        }),
        ("code-expression", "neg/auth.py", |r, _| {
            let e = [
                "password = request.form[\"password\"]",
                "token = jwt.encode(payload, signing_key)",
                "secret = base64.b64encode(os.urandom(32))",
                "api_key = get_api_key(settings)",
                "access_token = response.json()[\"access_token\"]",
            ][(r.next_u64() % 5) as usize];
            vec![e.into()]
        }),
        ("code-ts", "neg/auth.ts", |r, _| {
            let e = [
                "  const token = await getToken(request);",
                "  password: string;",
                "  apiKey?: ApiKeyConfig;",
                "  this.secretKey = config.secretKey;",
            ][(r.next_u64() % 4) as usize];
            vec![e.into()]
        }),
        ("public-ssh-key", "neg/authorized_keys", |r, _| {
            vec![format!(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} deploy@ci",
                s(r, B64, 43)
            )]
        }),
        ("public-key-pem", "neg/pub.pem", |r, _| {
            let mut l = vec!["-----BEGIN PUBLIC KEY-----".to_string()];
            l.extend((0..6).map(|_| s(r, B64, 64)));
            l.push("-----END PUBLIC KEY-----".into());
            l
        }),
        ("certificate", "neg/ca.crt", |r, _| {
            let mut l = vec!["-----BEGIN CERTIFICATE-----".to_string()];
            l.extend((0..10).map(|_| s(r, B64, 64)));
            l.push("-----END CERTIFICATE-----".into());
            l
        }),
        ("supabase-anon", "neg/supabase.ts", |r, _| {
            let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = b64url(
                format!(
                    r#"{{"iss":"supabase","ref":"{}","role":"anon"}}"#,
                    s(r, b"abcdefghij", 20)
                )
                .as_bytes(),
            );
            vec![format!(
                "const SUPABASE_ANON_KEY = \"{header}.{payload}.{}\";",
                s(r, B64URL, 43)
            )]
        }),
        ("stripe-publishable", "neg/checkout.js", |r, _| {
            vec![format!(
                "const stripe = Stripe('pk_live_{}');",
                s(r, ALNUM, 99)
            )]
        }),
        ("slack-webhook-placeholder", "neg/notify.env", |_, _| {
            vec!["SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX".into()]
        }),
        ("max-tokens", "neg/llm.py", |r, _| {
            vec![format!(
                "response = client.chat(model=\"gpt-4o\", max_tokens={})",
                100 + r.next_u64() % 4000
            )]
        }),
        ("key-path", "neg/tls.yaml", |r, _| {
            vec![format!(
                "  private_key_file: /etc/ssl/private/site-{}.key",
                s(r, DIGITS, 2)
            )]
        }),
    ];
    let fams = families();
    for (kind, path, generate) in &kinds {
        for i in 0..draws {
            let fam = &fams[(i * 7 + kind.len()) % fams.len()];
            let lines = generate(rng, fam);
            let (a, b) = corpus.push(path, "", lines);
            corpus
                .negatives
                .push(((*kind).into(), (*path).into(), a, b));
        }
    }
}

/// The public head of a family's keys (`sk-proj-`), for placeholders built on it.
fn prefix_of(r: &mut Rng, f: &Family) -> String {
    let key = (f.key)(r);
    let head: String = key
        .chars()
        .take_while(|c| !c.is_ascii_alphanumeric() || c.is_ascii_lowercase())
        .collect();
    let cut = key.find(['-', '_', '.']).map_or(0, |i| i + 1);
    if cut > 0 && cut < 16 {
        key[..cut].to_owned()
    } else {
        head.chars().take(4).collect()
    }
}

fn uuid(r: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        s(r, HEX, 8),
        s(r, HEX, 4),
        s(r, HEX, 3),
        s(r, HEX, 3),
        s(r, HEX, 12)
    )
}

fn minified(r: &mut Rng) -> String {
    let mut out = String::from("!function(e,t){\"use strict\";");
    for _ in 0..80 {
        let a = s(r, b"abcdefghijklmnopqrstuvwxyz", 1);
        let b = s(
            r,
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            2,
        );
        let _ = write!(
            out,
            "var {a}{b}=function(n,o){{return{{key:n.key,token:o,secret:n[\"{b}\"]}}}};"
        );
    }
    out.push_str("}(this);");
    out
}

fn main() -> Result<()> {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let per_family = env("KW_DETECT_PER_FAMILY", 120) as usize;
    let neg_draws = env("KW_DETECT_NEGATIVES", 60) as usize;
    let seed = env("KW_DETECT_SEED", 1);
    let show = std::env::var_os("KW_DETECT_SHOW").is_some();
    let corpus = build(per_family, neg_draws, seed);

    let dir = tempfile::tempdir()?;
    // `KW_DETECT_KEEP=DIR` writes the corpus there instead, to look at what was missed.
    let kept = std::env::var_os("KW_DETECT_KEEP").map(std::path::PathBuf::from);
    let repo = kept.as_deref().unwrap_or(dir.path());
    for (path, lines) in &corpus.files {
        let full = repo.join(path);
        std::fs::create_dir_all(full.parent().ok_or("path has a parent")?)?;
        std::fs::write(&full, lines.join("\n") + "\n")?;
    }
    git(repo, &["init", "-q"])?;
    git(repo, &["add", "-A", "-f"])?;
    let keyward = env!("CARGO_BIN_EXE_keyward");
    let output = Command::new(keyward)
        .args(["scan", "--staged", "--format", "json"])
        .current_dir(repo)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()?;
    if output.status.code() == Some(2) {
        return Err(format!(
            "keyward failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)?;
    // Lines that carry a finding, by path.
    let mut flagged: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for f in &findings {
        if let (Some(path), Some(line)) = (f["path"].as_str(), f["line"].as_u64()) {
            flagged.entry(path).or_default().push(line as usize);
        }
    }
    let hit = |path: &str, a: usize, b: usize| {
        flagged
            .get(path)
            .is_some_and(|lines| lines.iter().any(|&l| l >= a && l <= b))
    };

    let mut by_family: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (fam, path, a, b) in &corpus.positives {
        let e = by_family.entry(fam).or_default();
        e.1 += 1;
        if hit(path, *a, *b) {
            e.0 += 1;
        } else if show {
            let line = &corpus.files[path][*a - 1];
            println!("miss {fam}: {path}:{a}: {}", shape(line));
        }
    }
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (kind, path, a, b) in &corpus.negatives {
        let e = by_kind.entry(kind).or_default();
        e.1 += 1;
        if hit(path, *a, *b) {
            e.0 += 1;
            if show {
                println!(
                    "flagged {kind}: {path}:{a}: {}",
                    shape(&corpus.files[path][*a - 1])
                );
            }
        }
    }

    println!("keyward detection quality — {} files, {} planted keys in {} families, {} hard negatives (seed {seed})",
        corpus.files.len(), corpus.positives.len(), by_family.len(), corpus.negatives.len());
    println!();
    println!(
        "{:<22} {:>7} {:>7} {:>8}",
        "family", "found", "planted", "recall"
    );
    let mut worst = 100.0f64;
    let (mut found, mut planted) = (0, 0);
    for (fam, (f, n)) in &by_family {
        let recall = 100.0 * *f as f64 / *n as f64;
        worst = worst.min(recall);
        found += f;
        planted += n;
        println!("{fam:<22} {f:>7} {n:>7} {recall:>7.1}%");
    }
    let overall = 100.0 * found as f64 / planted as f64;
    println!("{:<22} {found:>7} {planted:>7} {overall:>7.1}%", "overall");
    println!();
    let flagged_total: usize = by_kind.values().map(|(f, _)| f).sum();
    let negatives = corpus.negatives.len();
    for (kind, (f, n)) in by_kind.iter().filter(|(_, (f, _))| *f > 0) {
        println!("flagged negatives {kind}: {f} of {n}");
    }
    let per_500 = 500.0 * flagged_total as f64 / negatives as f64;
    println!("flagged negatives: {flagged_total} of {negatives} ({per_500:.2} per 500)");
    println!();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!(
        "recall overall {overall:.1}% (target ≥ 98%): {}",
        verdict(overall >= 98.0)
    );
    println!(
        "worst family {worst:.1}% (target ≥ 95%): {}",
        verdict(worst >= 95.0)
    );
    println!(
        "flagged negatives {per_500:.2} per 500 (target ≤ 1): {}",
        verdict(per_500 <= 1.0)
    );
    Ok(())
}

/// A line with every run of letters and digits longer than 6 replaced by its length, so that
/// the report shows where a value sat without printing it.
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() {
            run.push(c);
            continue;
        }
        if run.len() > 6 {
            let _ = write!(out, "<{}>", run.len());
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()?;
    if !status.success() {
        return Err(format!("git {args:?} failed").into());
    }
    Ok(())
}
