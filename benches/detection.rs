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
//! Targets: recall ≥ 99% in every family; at most 1 flagged negative per 500; on real code
//! (crates.io sources in `~/.cargo/registry/src`, and the directories of `KW_REALCODE_DIRS`,
//! e.g. a Python site-packages with cloud SDKs installed) at most 0.02 false alarms per MB,
//! each finding printed with its class. The bench prints PASS or MISS; it never fails on them.

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
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

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

/// One of `options`, drawn from `rng`.
fn pick<T: Copy>(rng: &mut Rng, options: &[T]) -> T {
    options[(rng.next_u64() % options.len() as u64) as usize]
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
            let scheme = pick(r, &[
                "postgres",
                "postgresql",
                "mysql",
                "mongodb+srv",
                "redis",
                "amqps",
            ]);
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
    .into_iter()
    .chain(more_families())
    .collect()
}

/// The families of the breadth issue: a provider of each kind a company holds keys for, and
/// the shapes older rules missed (legacy formats, other versions, lowercase segments).
fn more_families() -> Vec<Family> {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const BECH32: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
    fn uuid4(r: &mut Rng) -> String {
        uuid(r)
    }
    // (name, env, owner, host, key)
    type Gen = fn(&mut Rng) -> String;
    let table: Vec<(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Gen,
    )> = vec![
        // AI
        (
            "openai-legacy",
            "OPENAI_API_KEY",
            "OpenAI",
            Some("api.openai.com"),
            |r| format!("sk-{}", s(r, ALNUM, 48)),
        ),
        (
            "anthropic-versions",
            "ANTHROPIC_API_KEY",
            "Anthropic",
            Some("api.anthropic.com"),
            |r| format!("sk-ant-api0{}-{}AA", 4 + r.next_u64() % 5, s(r, B64URL, 93)),
        ),
        ("nvidia", "NVIDIA_API_KEY", "NVIDIA", None, |r| {
            format!("nvapi-{}", s(r, B64URL, 64))
        }),
        ("tavily", "TAVILY_API_KEY", "TavilyClient", None, |r| {
            format!("tvly-{}", s(r, ALNUM, 32))
        }),
        ("langfuse", "LANGFUSE_SECRET_KEY", "Langfuse", None, |r| {
            format!("sk-lf-{}", uuid4(r))
        }),
        (
            "deepgram",
            "DEEPGRAM_API_KEY",
            "DeepgramClient",
            Some("api.deepgram.com"),
            |r| s(r, HEX, 40),
        ),
        (
            "assemblyai",
            "ASSEMBLYAI_API_KEY",
            "assemblyai.Transcriber",
            None,
            |r| s(r, HEX, 32),
        ),
        // Cloud and infrastructure
        (
            "aws-session-token",
            "AWS_SESSION_TOKEN",
            "boto3.Session",
            None,
            |r| format!("IQoJb3JpZ2luX2Vj{}", s(r, B64, 300)),
        ),
        (
            "aws-bedrock",
            "AWS_BEARER_TOKEN_BEDROCK",
            "BedrockRuntime",
            None,
            |r| format!("ABSKQmVkcm9ja0FQSUtleS{}", s(r, B64, 110)),
        ),
        (
            "alibaba",
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "AcsClient",
            None,
            |r| format!("LTAI{}", s(r, ALNUM, 20)),
        ),
        (
            "tencent",
            "TENCENTCLOUD_SECRET_ID",
            "credential.Credential",
            None,
            |r| format!("AKID{}", s(r, ALNUM, 32)),
        ),
        (
            "linode",
            "LINODE_TOKEN",
            "LinodeClient",
            Some("api.linode.com"),
            |r| s(r, HEX, 64),
        ),
        (
            "hetzner",
            "HCLOUD_TOKEN",
            "hcloud.Client",
            Some("api.hetzner.cloud"),
            |r| s(r, ALNUM, 64),
        ),
        ("flyio", "FLY_API_TOKEN", "fly.Client", None, |r| {
            format!("fo1_{}", s(r, B64URL, 43))
        }),
        ("netlify", "NETLIFY_AUTH_TOKEN", "NetlifyAPI", None, |r| {
            format!("nfp_{}", s(r, ALNUM, 36))
        }),
        ("render", "RENDER_API_KEY", "RenderClient", None, |r| {
            format!("rnd_{}", s(r, ALNUM, 32))
        }),
        (
            "supabase-pat",
            "SUPABASE_ACCESS_TOKEN",
            "SupabaseManagement",
            None,
            |r| format!("sbp_{}", s(r, HEX, 40)),
        ),
        (
            "planetscale",
            "PLANETSCALE_SERVICE_TOKEN",
            "PlanetScale",
            None,
            |r| format!("pscale_tkn_{}", s(r, B64URL, 43)),
        ),
        (
            "pulumi",
            "PULUMI_ACCESS_TOKEN",
            "pulumi.automation",
            None,
            |r| format!("pul-{}", s(r, HEX, 40)),
        ),
        ("terraform-cloud", "TFE_TOKEN", "tfe.Client", None, |r| {
            format!("{}.atlasv1.{}", s(r, ALNUM, 14), s(r, B64URL, 67))
        }),
        ("vault-legacy", "VAULT_TOKEN", "hvac.Client", None, |r| {
            format!("s.{}", s(r, ALNUM, 24))
        }),
        ("vault-batch", "VAULT_TOKEN", "hvac.Client", None, |r| {
            format!("hvb.{}", s(r, B64URL, 180))
        }),
        ("tailscale", "TS_AUTHKEY", "tailscale.Client", None, |r| {
            format!("tskey-auth-k{}-{}", s(r, ALNUM, 12), s(r, ALNUM, 33))
        }),
        (
            "azure-devops",
            "AZURE_DEVOPS_EXT_PAT",
            "Connection",
            Some("dev.azure.com"),
            |r| format!("{}AZDO{}", s(r, ALNUM, 76), s(r, ALNUM, 4)),
        ),
        // Code hosting, CI, registries
        (
            "sourcegraph",
            "SRC_ACCESS_TOKEN",
            "SourcegraphClient",
            None,
            |r| format!("sgp_{}_{}", s(r, HEX, 16), s(r, HEX, 40)),
        ),
        ("buildkite", "BUILDKITE_API_TOKEN", "Buildkite", None, |r| {
            format!("bkua_{}", s(r, HEX, 40))
        }),
        ("circleci", "CIRCLECI_TOKEN", "CircleCI", None, |r| {
            format!("CCIPAT_{}_{}", s(r, ALNUM, 22), s(r, HEX, 40))
        }),
        ("sonarqube", "SONAR_TOKEN", "SonarQube", None, |r| {
            format!("sqp_{}", s(r, HEX, 40))
        }),
        (
            "postman",
            "POSTMAN_API_KEY",
            "Postman",
            Some("api.getpostman.com"),
            |r| format!("PMAK-{}-{}", s(r, HEX, 24), s(r, HEX, 34)),
        ),
        (
            "figma",
            "FIGMA_TOKEN",
            "FigmaApi",
            Some("api.figma.com"),
            |r| format!("figd_{}", s(r, B64URL, 40)),
        ),
        (
            "linear",
            "LINEAR_API_KEY",
            "LinearClient",
            Some("api.linear.app"),
            |r| format!("lin_api_{}", s(r, ALNUM, 40)),
        ),
        ("readme", "README_API_KEY", "ReadMe", None, |r| {
            format!("rdme_{}", s(r, LOWER_DIGITS, 70))
        }),
        ("frameio", "FRAMEIO_TOKEN", "FrameioClient", None, |r| {
            format!("fio-u-{}", s(r, B64URL, 64))
        }),
        ("intra42", "FT_CLIENT_SECRET", "OAuth2Session", None, |r| {
            format!("s-s4t2ud-{}", s(r, HEX, 64))
        }),
        ("jfrog", "ARTIFACTORY_API_KEY", "Artifactory", None, |r| {
            format!("AKCp8{}", s(r, ALNUM, 69))
        }),
        ("npm-legacy", "NPM_TOKEN", "npmClient", None, uuid4),
        (
            "sentry-legacy",
            "SENTRY_AUTH_TOKEN",
            "sentry.Client",
            None,
            |r| s(r, HEX, 64),
        ),
        // Messaging, e-mail, social
        (
            "slack-lowercase",
            "SLACK_BOT_TOKEN",
            "WebClient",
            Some("slack.com"),
            |r| {
                format!(
                    "xoxb-{}-{}-{}",
                    s(r, DIGITS, 12),
                    s(r, DIGITS, 13),
                    s(r, LOWER_DIGITS, 24)
                )
            },
        ),
        (
            "brevo",
            "BREVO_API_KEY",
            "brevo.ApiClient",
            Some("api.brevo.com"),
            |r| format!("xkeysib-{}-{}", s(r, HEX, 64), s(r, ALNUM, 16)),
        ),
        (
            "mailchimp",
            "MAILCHIMP_API_KEY",
            "MailchimpMarketing.Client",
            None,
            |r| format!("{}-us{}", s(r, HEX, 32), 1 + r.next_u64() % 21),
        ),
        (
            "intercom",
            "INTERCOM_ACCESS_TOKEN",
            "Intercom",
            Some("api.intercom.io"),
            |r| format!("dG9rOj{}=", s(r, B64, 54)),
        ),
        (
            "twitter",
            "TWITTER_BEARER_TOKEN",
            "tweepy.Client",
            Some("api.x.com"),
            |r| {
                format!(
                    "AAAAAAAAAAAAAAAAAAAAA{}%2B{}%3D{}",
                    s(r, ALNUM, 20),
                    s(r, ALNUM, 20),
                    s(r, ALNUM, 50)
                )
            },
        ),
        (
            "twitch",
            "TWITCH_CLIENT_SECRET",
            "Twitch",
            Some("id.twitch.tv"),
            |r| s(r, LOWER_DIGITS, 30),
        ),
        // Payments and commerce
        (
            "stripe-short",
            "STRIPE_SECRET_KEY",
            "stripe.StripeClient",
            Some("api.stripe.com"),
            |r| format!("sk_live_{}", s(r, ALNUM, 24)),
        ),
        (
            "braintree",
            "BRAINTREE_ACCESS_TOKEN",
            "braintree.BraintreeGateway",
            None,
            |r| {
                format!(
                    "access_token$production${}${}",
                    s(r, LOWER_DIGITS, 16),
                    s(r, HEX, 32)
                )
            },
        ),
        ("flutterwave", "FLW_SECRET_KEY", "Rave", None, |r| {
            format!("FLWSECK-{}-X", s(r, HEX, 32))
        }),
        (
            "easypost",
            "EASYPOST_API_KEY",
            "easypost.EasyPostClient",
            None,
            |r| format!("EZAK{}", s(r, ALNUM, 54)),
        ),
        ("shippo", "SHIPPO_API_TOKEN", "shippo.Shippo", None, |r| {
            format!("shippo_live_{}", s(r, HEX, 40))
        }),
        (
            "mercadopago",
            "MERCADOPAGO_ACCESS_TOKEN",
            "mercadopago.SDK",
            None,
            |r| {
                format!(
                    "APP_USR-{}-{}-{}-{}",
                    s(r, DIGITS, 16),
                    s(r, DIGITS, 6),
                    s(r, HEX, 32),
                    s(r, DIGITS, 9)
                )
            },
        ),
        // Observability
        (
            "newrelic",
            "NEW_RELIC_API_KEY",
            "NewRelicClient",
            Some("api.newrelic.com"),
            |r| format!("NRAK-{}", s(r, UPPER, 27)),
        ),
        (
            "grafana",
            "GRAFANA_SERVICE_ACCOUNT_TOKEN",
            "GrafanaApi",
            None,
            |r| format!("glsa_{}_{}", s(r, ALNUM, 32), s(r, HEX, 8)),
        ),
        ("dynatrace", "DT_API_TOKEN", "Dynatrace", None, |r| {
            format!("dt0c01.{}.{}", s(r, UPPER, 24), s(r, UPPER, 64))
        }),
        (
            "posthog",
            "POSTHOG_PERSONAL_API_KEY",
            "Posthog",
            Some("us.posthog.com"),
            |r| format!("phx_{}", s(r, ALNUM, 43)),
        ),
        (
            "mapbox",
            "MAPBOX_SECRET_TOKEN",
            "Mapbox",
            Some("api.mapbox.com"),
            |r| format!("sk.eyJ{}.{}", s(r, B64URL, 60), s(r, B64URL, 22)),
        ),
        // Productivity and CRM
        (
            "notion",
            "NOTION_TOKEN",
            "notion_client.Client",
            Some("api.notion.com"),
            |r| format!("ntn_{}{}", s(r, DIGITS, 11), s(r, ALNUM, 35)),
        ),
        (
            "hubspot",
            "HUBSPOT_ACCESS_TOKEN",
            "HubSpot",
            Some("api.hubapi.com"),
            |r| format!("pat-na1-{}", uuid(r)),
        ),
        (
            "dropbox",
            "DROPBOX_ACCESS_TOKEN",
            "dropbox.Dropbox",
            Some("api.dropboxapi.com"),
            |r| format!("sl.{}", s(r, B64URL, 138)),
        ),
        (
            "contentful",
            "CONTENTFUL_MANAGEMENT_TOKEN",
            "contentful_management.Client",
            None,
            |r| format!("CFPAT-{}", s(r, B64URL, 43)),
        ),
        (
            "typeform",
            "TYPEFORM_TOKEN",
            "Typeform",
            Some("api.typeform.com"),
            |r| format!("tfp_{}_{}", s(r, B64URL, 44), s(r, B64URL, 14)),
        ),
        // Identity and secret managers
        ("okta", "OKTA_API_TOKEN", "OktaClient", None, |r| {
            format!("00{}", s(r, B64URL, 40))
        }),
        ("auth0", "AUTH0_CLIENT_SECRET", "Auth0", None, |r| {
            s(r, B64URL, 64)
        }),
        (
            "1password",
            "OP_SERVICE_ACCOUNT_TOKEN",
            "onepassword.Client",
            None,
            |r| format!("ops_eyJ{}", s(r, B64URL, 300)),
        ),
        ("age", "SOPS_AGE_KEY", "sops", None, |r| {
            format!("AGE-SECRET-KEY-1{}", s(r, BECH32, 58))
        }),
        (
            "astra",
            "ASTRA_DB_APPLICATION_TOKEN",
            "DataAPIClient",
            None,
            |r| format!("AstraCS:{}:{}", s(r, LOWER, 24), s(r, HEX, 64)),
        ),
        // Generic shapes
        (
            "generic-hex-token",
            "SERVICE_TOKEN",
            "ServiceClient",
            None,
            |r| s(r, HEX, 40),
        ),
        (
            "generic-provider-key",
            "ACME_KEY",
            "AcmeClient",
            None,
            |r| s(r, ALNUM, 32),
        ),
        (
            "url-password-hard",
            "DATABASE_URL",
            "create_engine",
            None,
            |r| {
                let password = match r.next_u64() % 4 {
                    0 => format!("{}.{}", s(r, ALNUM, 8), s(r, ALNUM, 6)),
                    1 => format!("{}%40{}", s(r, ALNUM, 8), s(r, ALNUM, 6)),
                    2 => pick(r, &["sunshine", "dragonfly", "marmalade", "penguin"]).to_owned(),
                    _ => format!("{}@{}", s(r, ALNUM, 8), s(r, ALNUM, 6)),
                };
                let host = pick(
                    r,
                    &[
                        "cluster0.ab1cd.mongodb.net",
                        "prod-db.c9akciq32.eu-west-1.rds.amazonaws.com",
                        "b-1234.mq.us-east-1.amazonaws.com",
                        "redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com",
                    ],
                );
                let scheme = pick(r, &["mongodb+srv", "postgresql", "amqps", "rediss"]);
                format!("{scheme}://svc_{}:{password}@{host}/app", s(r, LOWER, 5))
            },
        ),
    ];
    let _ = UPPER;
    table
        .into_iter()
        .map(|(name, env, owner, host, key)| Family {
            name,
            env,
            owner,
            host,
            key,
        })
        .collect()
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
            file: "web/typed.ts",
            filler: JS_FILLER,
            write: |f, v| {
                Some(vec![format!(
                    "export const {}: string = \"{v}\";",
                    camel(f.env)
                )])
            },
        },
        Context {
            file: "app/src/main/kotlin/Config.kt",
            filler: &["package com.acme", "object Config {"],
            write: |f, v| Some(vec![format!("    val {}: String = \"{v}\"", camel(f.env))]),
        },
        Context {
            file: "docker/app.Dockerfile",
            filler: &["FROM alpine:3.20", "RUN apk add --no-cache curl"],
            write: |f, v| Some(vec![format!("ENV {} {v}", f.env)]),
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
        "der-private-key" => {
            for i in 0..n {
                // PKCS#8 RSA: SEQUENCE of 1,213 bytes, version 0, then the rest drawn.
                let key = format!(
                    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ{}=",
                    s(rng, B64, 1573)
                );
                let lines = vec![
                    "{".into(),
                    format!("  \"keyId\": \"{}\",", s(rng, HEX, 16)),
                    format!("  \"privateKey\": \"{key}\""),
                    "}".into(),
                ];
                let path = format!("der/signing-{i}.json");
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 2, a + 2));
            }
            true
        }
        "wireguard" => {
            for i in 0..n {
                let lines = vec![
                    "[Interface]".into(),
                    format!(
                        "PrivateKey = {}{}=",
                        s(rng, B64, 42),
                        ["A", "E", "I", "Q"][i % 4]
                    ),
                    "Address = 10.8.0.2/32".into(),
                ];
                let path = format!("vpn/wg{i}.conf");
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 1, a + 1));
            }
            true
        }
        "odbc-connection-string" => {
            for i in 0..n {
                let password = match i % 3 {
                    0 => s(rng, ALNUM, 16),
                    1 => format!(
                        "{}{}!",
                        ["Summer", "Winter", "Harbor"][i % 3],
                        2000 + i % 30
                    ),
                    _ => format!("{}~{}*", s(rng, ALNUM, 6), s(rng, ALNUM, 5)),
                };
                let line = match i % 3 {
                    0 => format!("    \"DefaultConnection\": \"Server=tcp:acme-{}.database.windows.net,1433;Initial Catalog=app;User ID=app;Password={password};Encrypt=True;\"", s(rng, LOWER_DIGITS, 6)),
                    1 => format!("conn = pyodbc.connect(\"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER=sql{}.corp.acme.io;DATABASE=dw;UID=etl;PWD={password}\")", i),
                    _ => format!("Data Source=10.20.{}.{};Initial Catalog=sales;User Id=report;Password={password};", i % 250, i % 200),
                };
                let path = format!("odbc/{}.config", i % 7);
                let (a, _) = corpus.push(&path, "<!-- connection -->", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
            }
            true
        }
        "jdbc-url-password" => {
            for i in 0..n {
                let line = format!(
                    "spring.datasource.url=jdbc:mysql://db{}.acme.io:3306/app?user=app&password={}&useSSL=true",
                    i,
                    s(rng, ALNUM, 14)
                );
                let path = format!("jdbc/application-{}.properties", i % 5);
                let (a, _) = corpus.push(&path, "server.port=8080", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
            }
            true
        }
        "azure-storage-multiline" => {
            for i in 0..n {
                let lines = vec![
                    "var connectionString =".into(),
                    "    \"DefaultEndpointsProtocol=https;\" +".into(),
                    format!("    \"AccountName=acme{i};\" +"),
                    format!("    \"AccountKey={}==;\" +", s(rng, B64, 86)),
                    "    \"EndpointSuffix=core.windows.net\";".into(),
                ];
                let path = format!("azure/Storage{}.cs", i % 5);
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 3, a + 3));
            }
            true
        }
        "terraform-variable-default" => {
            for i in 0..n {
                let name = [
                    "db_password",
                    "api_token",
                    "stripe_secret_key",
                    "admin_password",
                ][i % 4];
                let lines = vec![
                    format!("variable \"{name}\" {{"),
                    "  type      = string".into(),
                    "  sensitive = true".into(),
                    format!("  default   = \"{}\"", s(rng, ALNUM, 20)),
                    "}".into(),
                ];
                let path = format!("terraform/vars{}.tf", i % 5);
                let (a, b) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a, b));
            }
            true
        }
        "k8s-secret-json" => {
            for i in 0..n {
                let value = b64std(s(rng, ALNUM, 24).as_bytes());
                let lines = vec![
                    "{".into(),
                    "  \"apiVersion\": \"v1\",".into(),
                    "  \"kind\": \"Secret\",".into(),
                    format!("  \"metadata\": {{\"name\": \"app-{i}\"}},"),
                    format!("  \"data\": {{\"DB_PASSWORD\": \"{value}\"}}"),
                    "}".into(),
                ];
                let path = format!("k8s-json/secret-{i}.json");
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 4, a + 4));
            }
            true
        }
        "generic-hash-password" => {
            // A value that starts with `#` in the files where it is a value: env, INI,
            // properties and a Dockerfile's ENV (YAML reads `key: #…` as a comment).
            for i in 0..n {
                let value = format!("#{}9", s(rng, ALNUM, 14));
                let (path, line) = match i % 4 {
                    0 => ("deploy/db.env", format!("DB_PASSWORD={value}")),
                    1 => ("config/db.ini", format!("password = {value}")),
                    2 => (
                        "config/db.properties",
                        format!("spring.datasource.password={value}"),
                    ),
                    _ => ("docker/db.Dockerfile", format!("ENV DB_PASSWORD={value}")),
                };
                let path = format!("hash-password/{path}");
                let (a, _) = corpus.push(&path, "", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
            }
            true
        }
        "pypi-comment" => {
            for i in 0..n {
                let line = format!(
                    "# release: twine upload -u __token__ -p pypi-AgEIcHlwaS5vcmc{} dist/*",
                    s(rng, B64URL, 150)
                );
                let path = format!("scripts/release{}.sh", i % 4);
                let (a, _) = corpus.push(&path, "set -e", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
            }
            true
        }
        "glued-prefix" => {
            // Keys glued to an identifier on their left, as a missing `=` or a concatenation
            // leaves them, for the providers whose prefix cannot be a word's tail: after `_`
            // or a digit for every one of them, after a letter for those that may follow
            // anything (`github_pat_`, `sk-ant-`, `xoxb-`).
            for i in 0..n {
                let (key, any) = match i % 7 {
                    0 => (format!("ghp_{}", s(rng, ALNUM, 36)), false),
                    1 => (format!("gho_{}", s(rng, ALNUM, 36)), false),
                    2 => (
                        format!("github_pat_{}_{}", s(rng, ALNUM, 22), s(rng, ALNUM, 59)),
                        true,
                    ),
                    3 => (
                        format!(
                            "sk-proj-{}T3BlbkFJ{}",
                            s(rng, B64URL, 74),
                            s(rng, B64URL, 74)
                        ),
                        false,
                    ),
                    4 => (format!("sk-ant-api03-{}AA", s(rng, B64URL, 93)), true),
                    5 => (
                        format!(
                            "xoxb-{}-{}-{}",
                            s(rng, DIGITS, 12),
                            s(rng, DIGITS, 13),
                            s(rng, ALNUM, 24)
                        ),
                        true,
                    ),
                    _ => (format!("glpat-{}", s(rng, ALNUM, 20)), false),
                };
                let glue = match (i / 7) % 3 {
                    0 => "TOKEN_",
                    1 => "TOKEN2",
                    _ if any => "TOKEN",
                    _ => "CI_",
                };
                let line = match i % 3 {
                    0 => format!("export DEPLOY_{glue}{key}"),
                    1 => format!("{glue}{key}"),
                    _ => format!("echo \"{glue}{key}\" > /tmp/ci.env"),
                };
                let path = format!("glued/deploy{}.sh", i % 4);
                let (a, _) = corpus.push(&path, "set -e", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
            }
            true
        }
        "seed-docker-env-file" => {
            for i in 0..n {
                let lines = vec![
                    "FROM node:20-slim".into(),
                    "WORKDIR /app".into(),
                    "COPY package.json package-lock.json ./".into(),
                    [
                        "COPY .env ./",
                        "COPY .env.production /app/",
                        "ADD --chown=node .env.local ./",
                    ][i % 3]
                        .into(),
                    "RUN npm ci".into(),
                ];
                let path = format!("services/svc{i}/Dockerfile");
                let (a, _) = corpus.push(&path, "", lines);
                corpus.positives.push((fam.name.into(), path, a + 3, a + 3));
            }
            true
        }
        "seed-browser-exposed-key" => {
            for i in 0..n {
                // Assembled here: this file is scanned too.
                let (public, provider) = [
                    ("NEXT_PUBLIC", "OPENAI"),
                    ("VITE", "ANTHROPIC"),
                    ("REACT_APP", "OPENAI"),
                    ("EXPO_PUBLIC", "GEMINI"),
                    ("NUXT_PUBLIC", "GROQ"),
                ][i % 5];
                let name = format!("{public}_{provider}_API_KEY");
                let line = match i % 3 {
                    0 => format!("{name}="),
                    1 => format!("const apiKey = process.env.{name};"),
                    _ => {
                        format!("const client = new OpenAI({{ apiKey: import.meta.env.{name} }});")
                    }
                };
                let path = format!(
                    "web{}/{}",
                    i % 6,
                    if i % 3 == 0 {
                        ".env.example"
                    } else {
                        "src/ai.ts"
                    }
                );
                let (a, _) = corpus.push(&path, "", vec![line]);
                corpus.positives.push((fam.name.into(), path, a, a));
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
        fam_named("der-private-key", "PRIVATE_KEY"),
        fam_named("wireguard", "WG_PRIVATE_KEY"),
        fam_named("odbc-connection-string", "ConnectionStrings__Default"),
        fam_named("jdbc-url-password", "SPRING_DATASOURCE_URL"),
        fam_named("azure-storage-multiline", "AZURE_STORAGE_CONNECTION_STRING"),
        fam_named("terraform-variable-default", "TF_VAR_db_password"),
        fam_named("k8s-secret-json", "DB_PASSWORD"),
        fam_named("pypi-comment", "TWINE_PASSWORD"),
        fam_named("generic-hash-password", "DB_PASSWORD"),
        fam_named("seed-docker-env-file", ".env"),
        fam_named("seed-browser-exposed-key", "OPENAI_API_KEY"),
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
    // Drawn last, so that adding it left every earlier family's and negative's draws as they
    // were (a corpus to compare with runs before it).
    special(
        &fam_named("glued-prefix", "GITHUB_TOKEN"),
        &mut rng,
        &mut corpus,
        per_family,
    );
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
            let (k, v) = pick(
                r,
                &[
                    ("login.password", "Password"),
                    ("token.expired", "Your session token has expired"),
                    ("api_key.label", "API key"),
                    ("secret.hint", "Keep this secret"),
                    ("password.reset", "Reset password"),
                ],
            );
            vec![format!("  \"{k}\": \"{v}\",")]
        }),
        ("i18n-label-fr", "neg/locales/fr.yaml", |_, _| {
            vec!["  password_hint: \"Mot de passe oublié ?\"".into()]
        }),
        ("code-expression", "neg/auth.py", |r, _| {
            let e = pick(
                r,
                &[
                    "password = request.form[\"password\"]",
                    "token = jwt.encode(payload, signing_key)",
                    "secret = base64.b64encode(os.urandom(32))",
                    "api_key = get_api_key(settings)",
                    "access_token = response.json()[\"access_token\"]",
                ],
            );
            vec![e.into()]
        }),
        ("code-ts", "neg/auth.ts", |r, _| {
            let e = pick(
                r,
                &[
                    "  const token = await getToken(request);",
                    "  password: string;",
                    "  apiKey?: ApiKeyConfig;",
                    "  this.secretKey = config.secretKey;",
                ],
            );
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
        ("setting-about-a-secret", "neg/security.yaml", |r, _| {
            let e = pick(
                r,
                &[
                    "  password_hash_algorithm: argon2id",
                    "  \"PasswordLastUsed\": \"2024-05-01T10:00:00Z\",",
                    "  PASSWORD_MIN_LENGTH: 12",
                    "  token_refresh_policy: sliding-window",
                    "  secret_rotation_enabled: true",
                ],
            );
            vec![e.into()]
        }),
        ("env-var-name-constant", "neg/constants.py", |r, _| {
            let e = pick(
                r,
                &[
                    "ACCESS_KEY = \"AWS_ACCESS_KEY_ID\"",
                    "CREDENTIALS = \"GOOGLE_APPLICATION_CREDENTIALS\"",
                    "TOKEN_ENV = \"GITHUB_TOKEN\"",
                    "SECRET_KEY = 'DJANGO_SECRET_KEY'",
                ],
            );
            vec![e.into()]
        }),
        ("label-path", "neg/routes.json", |r, _| {
            let e = pick(
                r,
                &[
                    "  \"token\": \"auth-request-type/at\",",
                    "  \"tokenEndpoint\": \"oauth/token\",",
                    "  \"secret_label\": \"settings/security/secrets\",",
                ],
            );
            vec![e.into()]
        }),
        ("codecov-badge", "neg/README.md", |r, _| {
            vec![format!(
                "[![codecov](https://codecov.io/gh/acme/app/branch/main/graph/badge.svg?token={})](https://codecov.io/gh/acme/app)",
                s(r, UPPER_ALNUM, 10)
            )]
        }),
        ("base64-of-words", "neg/fixtures.env", |r, _| {
            let words = pick(
                r,
                &[
                    "hello world",
                    "not a secret at all",
                    "the quick brown fox",
                    "lorem ipsum dolor",
                ],
            );
            vec![format!("SECRET_VALUE=\"{}\"", b64std(words.as_bytes()))]
        }),
        ("identifier-values", "neg/paginators.json", |r, _| {
            let e = pick(
                r,
                &[
                    "  \"result_key\": \"Ipv6CidrAssociations\",",
                    "  \"limit_key\": \"maximumPageSize\",",
                    "ACCESS_KEY = 'AWSAccessKeyId'",
                    "  \"output_token\": \"NextContinuationToken\",",
                ],
            );
            vec![e.into()]
        }),
        ("docs-url-password", "neg/api.md", |r, _| {
            vec![format!(
                "GET https://example.com/v1/reset?user=jane&password={}",
                s(r, ALNUM, 12)
            )]
        }),
        (
            "local-connection-string",
            "neg/appsettings.Development.json",
            |r, _| {
                vec![format!(
                "  \"Default\": \"Server=localhost;Database=app;User Id=sa;Password={};TrustServerCertificate=True\"",
                s(r, ALNUM, 14)
            )]
            },
        ),
        ("format-placeholder-connection", "neg/db.py", |_, _| {
            vec!["conn_str = f\"Server={host};Database={db};Uid={user};Pwd={password};\"".into()]
        }),
        ("stripe-documented-test-key", "neg/stripe.md", |_, _| {
            vec![format!(
                "stripe.api_key = \"sk_test_{}\"",
                "4eC39HqLyjWDarjtT1zdp7dc"
            )]
        }),
        ("browser-public-keys", "neg/web/.env.example", |r, _| {
            let e = pick(
                r,
                &[
                    "NEXT_PUBLIC_SUPABASE_ANON_KEY=",
                    "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_live_...",
                    "VITE_GOOGLE_MAPS_API_KEY=",
                    "NEXT_PUBLIC_FIREBASE_API_KEY=",
                    "NEXT_PUBLIC_POSTHOG_KEY=",
                    "NEXT_PUBLIC_OPENAI_MODEL=gpt-4o",
                ],
            );
            vec![e.into()]
        }),
        ("jwt-without-claims", "neg/jwt_docs.md", |r, _| {
            let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = b64url(br#"{"some":"payload"}"#);
            vec![format!("    {header}.{payload}.{}", s(r, B64URL, 43))]
        }),
        ("certificate-der-json", "neg/cert.json", |r, _| {
            vec![format!(
                "  \"certificate\": \"MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa{}\",",
                s(r, B64, 800)
            )]
        }),
        ("truncated-pem-doc", "neg/docs.py", |r, _| {
            vec![format!(
                "    :param private_key: e.g. `-----BEGIN RSA PRIVATE KEY-----MIIEpQIBAAKCAQEA{}\\n.-----END RSA PRIVATE KEY-----`",
                s(r, B64, 48)
            )]
        }),
        ("key-path", "neg/tls.yaml", |r, _| {
            vec![format!(
                "  private_key_file: /etc/ssl/private/site-{}.key",
                s(r, DIGITS, 2)
            )]
        }),
        // Last, so that the kinds before them draw what they drew before these were added.
        // Words glued before a key-like run: a provider's prefix as the tail of a word.
        ("glued-word-shader", "neg/shaders/light.glsl", |r, _| {
            vec![format!("uniform vec4 highp_{};", s(r, ALNUM, 36))]
        }),
        ("glued-word-identifier", "neg/game.py", |r, _| {
            vec![format!(
                "{}_{} = 0",
                pick(r, &["laughs", "highs", "coughs", "sighs"]),
                s(r, ALNUM, 36)
            )]
        }),
        ("glued-word-package", "neg/requirements.txt", |r, _| {
            vec![format!(
                "{}-{}==1.0",
                pick(r, &["flask-admin", "task-proj", "desk-svcacct"]),
                s(r, LOWER_DIGITS, 44)
            )]
        }),
    ];
    // A Dockerfile that copies its context, beside a .dockerignore that keeps env files out.
    for i in 0..draws {
        let dir = format!("neg/docker{i}");
        corpus.push(
            &format!("{dir}/.dockerignore"),
            "",
            vec!["node_modules".into(), ".env*".into()],
        );
        let lines = vec![
            "FROM python:3.12-slim".into(),
            "WORKDIR /app".into(),
            "COPY . .".into(),
        ];
        let (a, b) = corpus.push(&format!("{dir}/Dockerfile"), "", lines);
        corpus.negatives.push((
            "dockerfile-with-ignore".into(),
            format!("{dir}/Dockerfile"),
            a,
            b,
        ));
    }
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
    let corpus_bytes: usize = corpus
        .files
        .values()
        .map(|lines| lines.iter().map(|l| l.len() + 1).sum::<usize>())
        .sum();
    let started = std::time::Instant::now();
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
    let elapsed = started.elapsed();
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
    println!(
        "scan --staged: {:.1} MB in {} files, {:.2} s ({:.1} MB/s, reading the index and blobs included)",
        corpus_bytes as f64 / 1e6,
        corpus.files.len(),
        elapsed.as_secs_f64(),
        corpus_bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
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
    let worst_below_99 = by_family
        .iter()
        .filter(|(_, (f, n))| (*f as f64) < 0.99 * *n as f64)
        .map(|(fam, _)| *fam)
        .collect::<Vec<_>>();
    println!(
        "families under 99% recall (target: none): {}",
        if worst_below_99.is_empty() {
            "none — PASS".to_owned()
        } else {
            format!("{} — MISS", worst_below_99.join(", "))
        }
    );
    real_code(keyward, show)
}

/// False alarms on real code: published sources that hold no live secret (crates.io sources
/// in `~/.cargo/registry/src`, and each directory of `KW_REALCODE_DIRS`, colon-separated — a
/// Python site-packages with cloud SDKs installed, for one). Every finding is printed with a
/// class; findings per MB are the measure (target ≤ 0.02).
fn real_code(keyward: &str, _show: bool) -> Result<()> {
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        let registry = Path::new(&home).join(".cargo/registry/src");
        if registry.is_dir() {
            dirs.push(registry);
        }
    }
    if let Some(more) = std::env::var_os("KW_REALCODE_DIRS") {
        dirs.extend(std::env::split_paths(&more).filter(|p| p.is_dir()));
    }
    if dirs.is_empty() {
        println!();
        println!("real code: no directory to scan (set KW_REALCODE_DIRS)");
        return Ok(());
    }
    println!();
    println!(
        "false alarms on real code (every finding classified; none of these is a live secret)"
    );
    let (mut all_bytes, mut all_alarms) = (0u64, 0usize);
    for dir in &dirs {
        let bytes = tree_bytes(dir);
        let started = std::time::Instant::now();
        let output = Command::new(keyward)
            .args(["scan", "--format", "json"])
            .arg(dir)
            .output()?;
        if output.status.code() == Some(2) {
            return Err(format!(
                "keyward failed on {}: {}",
                dir.display(),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)?;
        let mut alarms = 0;
        for f in &findings {
            let path = f["path"].as_str().unwrap_or_default();
            let shown = path
                .strip_prefix(dir.to_string_lossy().as_ref())
                .unwrap_or(path)
                .trim_start_matches('/');
            let class = classify(f, shown);
            if f["kind"] != "warning" {
                alarms += 1;
            }
            println!(
                "  {class:<26} {:<34} {shown}:{}",
                f["rule_id"].as_str().unwrap_or_default(),
                f["line"].as_u64().unwrap_or(0)
            );
        }
        let mb = bytes as f64 / 1e6;
        println!(
            "{}: {mb:.0} MB in {:.1} s, {} findings, {alarms} false alarms = {:.4} per MB",
            dir.display(),
            started.elapsed().as_secs_f64(),
            findings.len(),
            alarms as f64 / mb
        );
        all_bytes += bytes;
        all_alarms += alarms;
    }
    let per_mb = all_alarms as f64 / (all_bytes as f64 / 1e6);
    println!(
        "real code: {all_alarms} false alarms in {:.0} MB = {per_mb:.4} per MB (target ≤ 0.02): {}",
        all_bytes as f64 / 1e6,
        if per_mb <= 0.02 { "PASS" } else { "MISS" }
    );
    Ok(())
}

/// Why a finding in published code is there: the class a reviewer would give it.
fn classify(f: &serde_json::Value, path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let has = |w: &str| lower.contains(w);
    if f["kind"] == "warning" {
        "warning (practice, no key)"
    } else if has("/test") || has("tests/") || has("fixture") || has("testdata") || has("_test.") {
        "test fixture"
    } else if has("example") || has("/docs/") || has("readme") || has(".md") || has("metadata") {
        "documentation example"
    } else {
        "unclassified: review"
    }
}

/// Bytes in the regular files under `dir` (what a scan reads).
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() && e.file_name() != ".git" => tree_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
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
