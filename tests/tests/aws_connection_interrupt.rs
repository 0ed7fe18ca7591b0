//! Ctrl-C while a connection stack is being created: the provider stops waiting at once and
//! Terraform records the stack id, so nothing is orphaned. moto finishes every stack operation
//! synchronously, so this test answers CloudFormation itself with a stack that stays
//! `CREATE_IN_PROGRESS`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use localops_tests::terraform::{Workspace, wait_with_timeout};

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/Ops-slow/0a1b2c3d-0000-4000-8000-000000000000";
const CFN_NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// A CloudFormation/IAM endpoint whose stack never finishes creating.
struct SlowAws {
    endpoint: String,
    created: Arc<AtomicBool>,
    describes: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

fn respond(stream: &mut TcpStream, status: u16, xml: &str) {
    let reason = if status == 200 { "OK" } else { "Bad Request" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        xml.len()
    );
}

impl SlowAws {
    fn start() -> SlowAws {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let created = Arc::new(AtomicBool::new(false));
        let describes = Arc::new(AtomicUsize::new(0));
        let (c, d) = (created.clone(), describes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(body) = read_request(&mut stream) else {
                    continue;
                };
                let action = body
                    .split('&')
                    .find_map(|p| p.strip_prefix("Action="))
                    .unwrap_or("")
                    .to_owned();
                let ok = |name: &str, result: &str, ns: &str| {
                    format!(
                        "<{name}Response xmlns=\"{ns}\"><{name}Result>{result}</{name}Result>\
                         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{name}Response>"
                    )
                };
                match action.as_str() {
                    "ListOpenIDConnectProviders" => respond(
                        &mut stream,
                        200,
                        &ok(
                            "ListOpenIDConnectProviders",
                            "<OpenIDConnectProviderList/>",
                            "https://iam.amazonaws.com/doc/2010-05-08/",
                        ),
                    ),
                    "CreateStack" => {
                        c.store(true, Ordering::SeqCst);
                        respond(
                            &mut stream,
                            200,
                            &ok(
                                "CreateStack",
                                &format!("<StackId>{STACK_ID}</StackId>"),
                                CFN_NS,
                            ),
                        );
                    }
                    "DescribeStacks" if c.load(Ordering::SeqCst) => {
                        d.fetch_add(1, Ordering::SeqCst);
                        let stack = format!(
                            "<Stacks><member><StackId>{STACK_ID}</StackId><StackName>Ops-slow</StackName>\
                             <StackStatus>CREATE_IN_PROGRESS</StackStatus>\
                             <CreationTime>2026-01-01T00:00:00Z</CreationTime>\
                             <EnableTerminationProtection>false</EnableTerminationProtection>\
                             </member></Stacks>"
                        );
                        respond(&mut stream, 200, &ok("DescribeStacks", &stack, CFN_NS));
                    }
                    other => {
                        let message = if other == "DescribeStacks" {
                            "Stack with id Ops-slow does not exist".to_owned()
                        } else {
                            format!("unexpected action {other}")
                        };
                        respond(
                            &mut stream,
                            400,
                            &format!(
                                "<ErrorResponse xmlns=\"{CFN_NS}\"><Error><Type>Sender</Type>\
                                 <Code>ValidationError</Code><Message>{message}</Message></Error>\
                                 <RequestId>r</RequestId></ErrorResponse>"
                            ),
                        );
                    }
                }
            }
        });
        SlowAws {
            endpoint,
            created,
            describes,
        }
    }
}

#[test]
fn ctrl_c_during_create_stops_waiting_and_keeps_the_stack_id() {
    let aws = SlowAws::start();
    let mut ws = Workspace::new("connection-interrupt");
    for (key, value) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("LOCALOPS_POLL_INTERVAL_MS", "100"),
    ] {
        ws.set_env(key, value);
    }
    let endpoint = &aws.endpoint;
    ws.write_config(&format!(
        r#"provider "localops" {{
  oidc_issuer_url = "https://oidc.localops.test/tenant"
  endpoints {{
    cloudformation = "{endpoint}"
    iam            = "{endpoint}"
    sts            = "{endpoint}"
  }}
}}

resource "localops_aws_connection" "slow" {{
  name    = "slow"
  subject = "connection:slow"
}}
"#
    ));
    let child = ws.spawn(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while aws.describes.load(Ordering::SeqCst) < 2 {
        assert!(
            Instant::now() < deadline,
            "the provider never waited on the stack"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(aws.created.load(Ordering::SeqCst));
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let (code, stdout, stderr) = wait_with_timeout(child, Duration::from_secs(30));
    let took = interrupted.elapsed();
    assert_ne!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "terraform took {took:?} to stop after Ctrl-C:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("Interrupted while creating the connection stack Ops-slow"),
        "{stdout}\n{stderr}"
    );
    // The stack id is in the state (tainted), so the next apply continues with that stack.
    let state = ws.show_json(&[]);
    let resource = localops_tests::terraform::find_resource(
        &state["values"]["root_module"],
        "localops_aws_connection.slow",
    )
    .unwrap_or_else(|| panic!("the connection is not in state: {state:#}"));
    assert_eq!(resource["values"]["id"], STACK_ID);
    assert_eq!(resource["values"]["stack_name"], "Ops-slow");
    assert_eq!(resource["values"]["status"], "CREATE_IN_PROGRESS");
}
