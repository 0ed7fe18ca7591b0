//! Deterministic generation of evaluation cases (policies + request) as JSON, from a seed.

use serde_json::{Value, json};

/// A small deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// 1..=max items.
    pub fn some<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let n = 1 + self.below(max);
        (0..n).map(|_| self.pick(items)).collect()
    }
}

pub const ACCT1: &str = "111122223333";
pub const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
pub const BOB: &str = "arn:aws:iam::444455556666:user/bob";
pub const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/ops/s1";
pub const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";
pub const EVIL_OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com.evil.net";

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "ec2:RunInstances",
    "iam:CreateUser",
    "kms:Decrypt",
    "sts:AssumeRole",
];

const ACTION_PATTERNS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "S3:getobject",
    "s3:?utObject",
    "ec2:Run*",
    "iam:*User",
    "*:GetObject",
    "kms:*",
    "sts:AssumeRole*",
    "sts:AssumeRole",
    "s3:ListBucket",
    "iam:Create?ser",
];

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::data/report.txt",
    "arn:aws:s3:::data",
    "arn:aws:s3:::Data/x",
    "arn:aws:s3:::alice/notes",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
    "arn:aws:ec2:eu-west-1:444455556666:instance/i-2",
    "arn:aws:iam::111122223333:role/target",
    "arn:aws:iam::111122223333:extra:role/target",
    "arn:aws:kms:eu-west-1:111122223333:key/k1",
    "*",
];

const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::data/*",
    "arn:aws:s3:::data*",
    "arn:aws:s3:::${aws:username}/*",
    "arn:aws:s3:::${aws:username, 'data'}/*",
    "arn:aws:ec2:*:111122223333:instance/*",
    "arn:aws:ec2:us-east-?:*:*",
    "arn:aws:iam::*:role/target",
    "arn:aws:iam::111122223333:role/*",
    "arn:*:*:*:*:*",
    "arn:aws:kms:*:*:key/${aws:PrincipalTag/key}",
    "arn:AWS:S3:::data/*",
    "arn:aws:s3:::Data/*",
    "arn:aws:s3:::data/${*}",
    "arn:aws:iam::${aws:PrincipalTag/acct}:role/target",
];

const STRING_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
];

const STRING_VALUES: &[&str] = &[
    "alpha",
    "ALPHA",
    "a*",
    "*a",
    "${aws:username}",
    "x",
    "y",
    "be?a",
    "",
    "${k1, 'x'}",
    "a${*}b",
];

fn qualified(rng: &mut Rng, op: &str, allow_set: bool) -> String {
    let mut s = String::new();
    if allow_set && rng.chance(25) {
        s.push_str(if rng.chance(50) {
            "ForAnyValue:"
        } else {
            "ForAllValues:"
        });
    }
    s.push_str(op);
    if rng.chance(20) {
        s.push_str("IfExists");
    }
    s
}

fn values(rng: &mut Rng, pool: &[Value]) -> Value {
    if rng.chance(60) {
        rng.pick(pool)
    } else {
        Value::Array(rng.some(pool, 3))
    }
}

fn condition(rng: &mut Rng) -> Value {
    let mut block = serde_json::Map::new();
    for _ in 0..1 + rng.below(2) {
        let (op, key, vals) = match rng.below(9) {
            0..=2 => {
                let key = rng.pick(&["k1", "K1", "k2", "aws:username"]);
                let pool: Vec<Value> = STRING_VALUES.iter().map(|s| json!(s)).collect();
                (
                    {
                        let op = rng.pick(STRING_OPS);
                        qualified(rng, op, true)
                    },
                    key,
                    values(rng, &pool),
                )
            }
            3 => {
                let op = rng.pick(&[
                    "NumericEquals",
                    "NumericNotEquals",
                    "NumericLessThan",
                    "NumericLessThanEquals",
                    "NumericGreaterThan",
                    "NumericGreaterThanEquals",
                ]);
                (
                    qualified(rng, op, false),
                    "num",
                    values(rng, &[json!(5), json!("10"), json!(7.5)]),
                )
            }
            4 => (
                "Bool".to_owned(),
                "flag",
                values(rng, &[json!(true), json!("false")]),
            ),
            5 => {
                let key = rng.pick(&["k1", "num", "flag", "k2"]);
                (
                    "Null".to_owned(),
                    key,
                    rng.pick(&[json!("true"), json!(false)]),
                )
            }
            6 => {
                let op = rng.pick(&["IpAddress", "NotIpAddress"]);
                let pool = [json!("10.0.0.0/8"), json!("::/0"), json!("192.168.1.5")];
                (qualified(rng, op, false), "ip", values(rng, &pool))
            }
            7 => {
                let op = rng.pick(&["ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals"]);
                let pool = [
                    json!("arn:aws:iam::*:role/r"),
                    json!("arn:aws:iam::111122223333:*"),
                    json!("${aws:PrincipalArn}"),
                ];
                (qualified(rng, op, true), "arnk", values(rng, &pool))
            }
            _ => {
                let op = rng.pick(&[
                    "DateEquals",
                    "DateNotEquals",
                    "DateLessThan",
                    "DateGreaterThanEquals",
                ]);
                let pool = [
                    json!("2023-11-14T22:13:20Z"),
                    json!(1700000000),
                    json!("2024-01-01"),
                ];
                (qualified(rng, op, false), "date", values(rng, &pool))
            }
        };
        let entry = block
            .entry(op)
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(keys) = entry {
            keys.insert(key.to_owned(), vals);
        }
    }
    Value::Object(block)
}

fn statement(rng: &mut Rng, trust: bool) -> Value {
    let mut s = serde_json::Map::new();
    if rng.chance(30) {
        s.insert("Sid".into(), json!(format!("S{}", rng.below(100))));
    }
    s.insert(
        "Effect".into(),
        json!(if rng.chance(75) { "Allow" } else { "Deny" }),
    );
    let actions: Vec<&str> = if trust {
        rng.some(
            &[
                "sts:AssumeRole",
                "sts:AssumeRoleWithWebIdentity",
                "sts:*",
                "*",
                "s3:*",
            ],
            2,
        )
    } else {
        rng.some(ACTION_PATTERNS, 3)
    };
    let action_key = if rng.chance(12) {
        "NotAction"
    } else {
        "Action"
    };
    s.insert(action_key.into(), json!(actions));
    if !trust || rng.chance(15) {
        let resource_key = if rng.chance(10) {
            "NotResource"
        } else {
            "Resource"
        };
        let resources = rng.some(RESOURCE_PATTERNS, 2);
        s.insert(resource_key.into(), json!(resources));
    }
    if trust {
        let principal = rng.pick(&[
            json!({"AWS": ALICE}),
            json!({"AWS": ACCT1}),
            json!({"AWS": "arn:aws:iam::111122223333:root"}),
            json!({"AWS": "arn:aws:iam::111122223333:role/ops"}),
            json!({"AWS": SESSION}),
            json!({"AWS": "*"}),
            json!("*"),
            json!({"Federated": OIDC}),
            json!({"Service": "ec2.amazonaws.com"}),
            json!({"AWS": [BOB, "arn:aws:iam::444455556666:root"]}),
            json!({"AWS": [SESSION, "arn:aws:iam::111122223333:role/ops", ACCT1]}),
            json!({"Federated": OIDC, "AWS": ALICE}),
        ]);
        let key = if rng.chance(10) {
            "NotPrincipal"
        } else {
            "Principal"
        };
        s.insert(key.into(), principal);
    }
    if rng.chance(45) {
        s.insert("Condition".into(), condition(rng));
    }
    Value::Object(s)
}

fn policy(rng: &mut Rng, trust: bool) -> Value {
    let n = 1 + rng.below(4);
    let statements: Vec<Value> = (0..n).map(|_| statement(rng, trust)).collect();
    let mut p = serde_json::Map::new();
    if rng.chance(90) {
        p.insert("Version".into(), json!("2012-10-17"));
    }
    if statements.len() == 1 && rng.chance(50) {
        p.insert("Statement".into(), statements[0].clone());
    } else {
        p.insert("Statement".into(), Value::Array(statements));
    }
    Value::Object(p)
}

fn policies(rng: &mut Rng, max: usize) -> Value {
    let n = rng.below(max + 1);
    Value::Array((0..n).map(|_| policy(rng, false)).collect())
}

fn context(rng: &mut Rng) -> Value {
    let mut ctx = serde_json::Map::new();
    let mut maybe = |rng: &mut Rng, key: &str, v: Value| {
        if rng.chance(70) {
            ctx.insert(key.to_owned(), v);
        }
    };
    let k1 = rng.pick(&["alpha", "Alpha", "beta", "a*b", "", "x", "axb"]);
    maybe(rng, "k1", json!(k1));
    let k2: Vec<&str> = (0..rng.below(4))
        .map(|_| rng.pick(&["x", "y", "z", "alpha"]))
        .collect();
    maybe(rng, "k2", json!(k2));
    let num = rng.pick(&["5", "10", "7.5", "abc", "-1"]);
    maybe(rng, "num", json!(num));
    let flag = rng.pick(&["true", "false", "TRUE", "yes"]);
    maybe(rng, "flag", json!(flag));
    let ip = rng.pick(&["10.0.0.1", "192.168.1.5", "::1", "8.8.8.8", "bogus"]);
    maybe(rng, "ip", json!(ip));
    let arnk = rng.pick(&[
        "arn:aws:iam::111122223333:role/r",
        "arn:aws:iam::111122223333:x:role/r",
        "arn:aws:iam::444455556666:role/r",
        "not-an-arn",
    ]);
    maybe(rng, "arnk", json!(arnk));
    let user = rng.pick(&["alice", "data", "al*ce"]);
    maybe(rng, "aws:username", json!(user));
    maybe(rng, "aws:PrincipalTag/key", json!("k1"));
    let acct = rng.pick(&["111122223333", "111122223333:extra"]);
    maybe(rng, "aws:PrincipalTag/acct", json!(acct));
    maybe(
        rng,
        "aws:PrincipalArn",
        json!("arn:aws:iam::111122223333:role/r"),
    );
    let date = rng.pick(&[
        "2023-11-14T22:13:20Z",
        "1700000000",
        "2023-01-01",
        "1800000000",
    ]);
    maybe(rng, "date", json!(date));
    Value::Object(ctx)
}

/// One case: `{"identity", "trust", "boundary", "scps", "request"}`.
pub fn case(rng: &mut Rng) -> Value {
    let trust_mode = rng.chance(40);
    let ctx = context(rng);
    let (principal, action, resource) = if trust_mode {
        let principal = rng.pick(&[
            ALICE,
            BOB,
            SESSION,
            OIDC,
            EVIL_OIDC,
            "ec2.amazonaws.com",
            ACCT1,
        ]);
        let action = if principal.contains("oidc-provider") {
            "sts:AssumeRoleWithWebIdentity"
        } else {
            "sts:AssumeRole"
        };
        let resource = rng.pick(&[
            "arn:aws:iam::111122223333:role/target",
            "arn:aws:iam::444455556666:role/target",
        ]);
        (principal, action.to_owned(), resource)
    } else {
        let principal = rng.pick(&[ALICE, BOB, SESSION]);
        let action = rng.pick(ACTIONS);
        let action = if rng.chance(10) {
            action.to_uppercase()
        } else {
            action.to_owned()
        };
        (principal, action, rng.pick(RESOURCES))
    };
    json!({
        "identity": policies(rng, 3),
        "trust": if trust_mode { policy(rng, true) } else { Value::Null },
        "boundary": if rng.chance(25) { policies(rng, 2) } else { json!([]) },
        "scps": if rng.chance(25) { policies(rng, 2) } else { json!([]) },
        "request": {"principal": principal, "action": action, "resource": resource, "context": ctx},
    })
}
