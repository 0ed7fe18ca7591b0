//! A deliberately simple reference evaluator, written from AWS's documentation and kept
//! independent of the engine: it interprets the JSON documents directly on every request,
//! matches globs with a plain recursive function over characters, and uses no precompiled
//! state and no regex.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

/// A pattern character: a literal, or a wildcard (`*` any run, `?` one character).
#[derive(Clone, Copy, Debug, PartialEq)]
enum P {
    Lit(char),
    Star,
    One,
}

fn glob(p: &[P], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((P::Star, rest)) => glob(rest, t) || (!t.is_empty() && glob(p, &t[1..])),
        Some((P::One, rest)) => !t.is_empty() && glob(rest, &t[1..]),
        Some((P::Lit(c), rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
    }
}

fn raw_pattern(s: &str) -> Vec<P> {
    s.chars()
        .map(|c| match c {
            '*' => P::Star,
            '?' => P::One,
            c => P::Lit(c),
        })
        .collect()
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Request context with case-insensitive keys; empty lists count as absent.
pub struct Ctx(Vec<(String, Vec<String>)>);

impl Ctx {
    pub fn from_json(v: &Value) -> Ctx {
        let mut out = Vec::new();
        if let Value::Object(m) = v {
            for (k, val) in m {
                let vals = match val {
                    Value::Array(a) => a.iter().map(text).collect(),
                    other => vec![text(other)],
                };
                out.push((k.to_lowercase(), vals));
            }
        }
        Ctx(out)
    }

    fn get(&self, key: &str) -> Option<&Vec<String>> {
        let key = key.to_lowercase();
        self.0
            .iter()
            .find(|(k, v)| *k == key && !v.is_empty())
            .map(|(_, v)| v)
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// A character of substituted text: (char, came from the policy text itself).
type Tagged = Vec<(char, bool)>;

/// Substitutes `${...}` variables. `None` when a variable has no single value and no default.
fn substitute(s: &str, ctx: &Ctx, enabled: bool) -> Option<Tagged> {
    let mut out: Tagged = Vec::new();
    if !enabled {
        return Some(s.chars().map(|c| (c, true)).collect());
    }
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '$' && cs.get(i + 1) == Some(&'{') {
            // Find the closing brace, skipping a quoted default.
            let mut j = i + 2;
            let mut quoted = false;
            while j < cs.len() && (quoted || cs[j] != '}') {
                if cs[j] == '\'' {
                    quoted = !quoted;
                }
                j += 1;
            }
            let inner: String = cs[i + 2..j].iter().collect();
            let (name, default) = match inner.split_once(',') {
                Some((n, d)) => (
                    n.trim().to_owned(),
                    Some(d.trim().trim_matches('\'').to_owned()),
                ),
                None => (inner.trim().to_owned(), None),
            };
            let value = match name.as_str() {
                "*" | "?" | "$" => Some(name.clone()),
                _ => match ctx.get(&name) {
                    Some(v) if v.len() == 1 => Some(v[0].clone()),
                    Some(_) => None,
                    None => default,
                },
            };
            out.extend(value?.chars().map(|c| (c, false)));
            i = j + 1;
        } else {
            out.push((cs[i], true));
            i += 1;
        }
    }
    Some(out)
}

fn tagged_pattern(t: &[(char, bool)], lower: bool) -> Vec<P> {
    t.iter()
        .map(|&(c, raw)| {
            let c = if lower {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c
            };
            match (c, raw) {
                ('*', true) => P::Star,
                ('?', true) => P::One,
                (c, _) => P::Lit(c),
            }
        })
        .collect()
}

/// Splits tagged text into six ARN parts at colons written in the policy (or, when the
/// policy text has fewer than five, at any colon).
fn split_tagged(t: &Tagged) -> Option<Vec<Tagged>> {
    let raw_colons = t.iter().filter(|&&(c, raw)| c == ':' && raw).count();
    let mut parts: Vec<Tagged> = vec![Vec::new()];
    for &(c, raw) in t {
        if c == ':' && (raw || raw_colons < 5) && parts.len() < 6 {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push((c, raw));
        }
    }
    (parts.len() == 6).then_some(parts)
}

fn arn_match(pattern: &Tagged, arn: &str, fold_prefix: bool) -> bool {
    let Some(pp) = split_tagged(pattern) else {
        return false;
    };
    let tp: Vec<&str> = arn.splitn(6, ':').collect();
    if tp.len() != 6 || tp[0] != "arn" {
        return false;
    }
    (0..6).all(|i| {
        let fold = fold_prefix && (1..=3).contains(&i);
        let text = if fold {
            tp[i].to_lowercase()
        } else {
            tp[i].to_owned()
        };
        glob(&tagged_pattern(&pp[i], fold), &chars(&text))
    })
}

fn action_match(pattern: &str, action: &str) -> bool {
    let p = pattern.to_lowercase();
    let a = action.to_lowercase();
    if p.chars().all(|c| c == '*') {
        return true;
    }
    match (p.split_once(':'), a.split_once(':')) {
        (Some((ps, pn)), Some((asvc, an))) => {
            glob(&raw_pattern(ps), &chars(asvc)) && glob(&raw_pattern(pn), &chars(an))
        }
        _ => false,
    }
}

fn resource_match(pattern: &str, resource: &str, ctx: &Ctx, vars: bool) -> bool {
    if pattern.chars().all(|c| c == '*') {
        return true;
    }
    if resource == "*" {
        return false;
    }
    match substitute(pattern, ctx, vars) {
        Some(t) => arn_match(&t, resource, true),
        None => false,
    }
}

// ---- principals ----

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Via {
    Everyone,
    Account,
    Role,
    Exact,
}

struct Who<'a> {
    federated: bool,
    service: bool,
    arn: &'a str,
    partition: &'a str,
    account: &'a str,
    /// Role name for a role session.
    role: Option<&'a str>,
    root: bool,
}

fn who<'a>(principal: &'a str, action: &str) -> Who<'a> {
    let a = action.to_lowercase();
    let parts: Vec<&'a str> = principal.splitn(6, ':').collect();
    let is_arn = parts.len() == 6 && parts[0] == "arn";
    let provider = is_arn
        && parts[2] == "iam"
        && (parts[5].starts_with("oidc-provider/") || parts[5].starts_with("saml-provider/"));
    let federated =
        a == "sts:assumerolewithwebidentity" || a == "sts:assumerolewithsaml" || provider;
    let digits = principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit());
    let service = !federated && !is_arn && principal.contains('.') && !principal.contains(':');
    let (partition, account, role, root) = if is_arn {
        let role = parts[5]
            .strip_prefix("assumed-role/")
            .filter(|_| parts[2] == "sts")
            .and_then(|r| r.split('/').next());
        (
            parts[1],
            parts[4],
            role,
            parts[2] == "iam" && parts[5] == "root",
        )
    } else {
        ("", if digits { principal } else { "" }, None, digits)
    };
    Who {
        federated,
        service,
        arn: principal,
        partition,
        account,
        role,
        root,
    }
}

fn is_aws(w: &Who<'_>) -> bool {
    !w.federated && !w.service && !w.account.is_empty()
}

/// How one AWS entry names the principal.
fn aws_entry(entry: &str, w: &Who<'_>) -> Option<Via> {
    if entry == "*" {
        return Some(Via::Everyone);
    }
    if !is_aws(w) {
        return None;
    }
    let digits = entry.len() == 12 && entry.chars().all(|c| c.is_ascii_digit());
    if digits || entry.ends_with(":root") {
        let acct = if digits {
            entry
        } else {
            entry.split(':').nth(4).unwrap_or("")
        };
        return (acct == w.account).then_some(Via::Account);
    }
    let p: Vec<&str> = entry.splitn(6, ':').collect();
    if p.len() == 6 && p[2] == "iam" && p[5].starts_with("role/") {
        let name = p[5].rsplit('/').next().unwrap_or("");
        let own_role = w
            .arn
            .splitn(6, ':')
            .nth(5)
            .and_then(|r| r.strip_prefix("role/"));
        let principal_role = w
            .role
            .or(own_role.map(|r| r.rsplit('/').next().unwrap_or("")));
        return (p[1] == w.partition && p[4] == w.account && principal_role == Some(name))
            .then_some(Via::Role);
    }
    (entry == w.arn).then_some(Via::Exact)
}

fn principal_via(element: &Value, w: &Who<'_>) -> Option<Via> {
    if element == "*" {
        return Some(Via::Everyone);
    }
    let mut best: Option<Via> = None;
    let Value::Object(m) = element else {
        return None;
    };
    for (ty, v) in m {
        for entry in list(v) {
            let via = match ty.as_str() {
                "AWS" => aws_entry(&entry, w),
                "Federated" if w.federated => {
                    (entry == "*" || entry == w.arn).then_some(if entry == "*" {
                        Via::Everyone
                    } else {
                        Via::Exact
                    })
                }
                "Service" if w.service => {
                    (entry == "*" || entry == w.arn).then_some(if entry == "*" {
                        Via::Everyone
                    } else {
                        Via::Exact
                    })
                }
                _ => None,
            };
            best = best.max(via);
        }
    }
    best
}

/// NotPrincipal: the principal is spared when every level it belongs to is listed.
fn not_principal_spares(element: &Value, w: &Who<'_>) -> bool {
    if element == "*" {
        return true;
    }
    let Value::Object(m) = element else {
        return false;
    };
    let aws: Vec<String> = m.get("AWS").map(list).unwrap_or_default();
    if aws.iter().any(|e| e == "*") {
        return true;
    }
    if w.federated {
        return m
            .get("Federated")
            .map(list)
            .unwrap_or_default()
            .iter()
            .any(|e| e == w.arn);
    }
    if w.service {
        return m
            .get("Service")
            .map(list)
            .unwrap_or_default()
            .iter()
            .any(|e| e == w.arn);
    }
    if !is_aws(w) {
        return false;
    }
    let named = |want: Via| aws.iter().any(|e| aws_entry(e, w) == Some(want));
    let account = named(Via::Account);
    if w.root {
        return account;
    }
    if w.role.is_some() {
        return account && named(Via::Role) && named(Via::Exact);
    }
    account && named(Via::Exact)
}

// ---- conditions ----

fn simple_date(s: &str) -> Option<i64> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    // YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, counted day by day from 1970.
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<i64> = time
        .trim_end_matches('Z')
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0;
    for y in 1970..d[0] {
        days += if leap(y) { 366 } else { 365 };
    }
    let month_days = [
        31,
        if leap(d[0]) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days.iter().take((d[1] - 1) as usize).sum::<i64>();
    days += d[2] - 1;
    Some(days * 86400 + t[0] * 3600 + t[1] * 60 + t[2])
}

fn ip_in(cidr: &str, addr: &str) -> bool {
    use std::net::IpAddr;
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let (Ok(net), Ok(ip)) = (net.parse::<IpAddr>(), addr.parse::<IpAddr>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let b = bits.unwrap_or(32);
            let mask = if b == 0 { 0 } else { u32::MAX << (32 - b) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let b = bits.unwrap_or(128);
            let mask = if b == 0 { 0 } else { u128::MAX << (128 - b) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

fn compare(base: &str, policy: &str, actual: &str, ctx: &Ctx, vars: bool) -> bool {
    let num = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
    let cmp = |suffix: &str, a: f64, p: f64| match suffix {
        "equals" | "notequals" => a == p,
        "lessthan" => a < p,
        "lessthanequals" => a <= p,
        "greaterthan" => a > p,
        "greaterthanequals" => a >= p,
        _ => false,
    };
    if let Some(suffix) = base.strip_prefix("numeric") {
        return matches!((num(actual), num(policy)), (Some(a), Some(p)) if cmp(suffix, a, p));
    }
    if let Some(suffix) = base.strip_prefix("date") {
        return matches!((simple_date(actual), simple_date(policy)), (Some(a), Some(p)) if cmp(suffix, a as f64, p as f64));
    }
    match base {
        "stringequals" | "stringnotequals" => {
            substitute(policy, ctx, vars).is_some_and(|t| t.iter().map(|c| c.0).eq(actual.chars()))
        }
        "stringequalsignorecase" | "stringnotequalsignorecase" => substitute(policy, ctx, vars)
            .is_some_and(|t| {
                let p: String = t.iter().map(|c| c.0).collect();
                p.to_lowercase() == actual.to_lowercase()
            }),
        "stringlike" | "stringnotlike" => substitute(policy, ctx, vars)
            .is_some_and(|t| glob(&tagged_pattern(&t, false), &chars(actual))),
        "arnequals" | "arnlike" | "arnnotequals" | "arnnotlike" => {
            substitute(policy, ctx, vars).is_some_and(|t| arn_match(&t, actual, false))
        }
        "bool" => {
            let a = actual.to_lowercase();
            (a == "true" || a == "false") && a == policy.to_lowercase()
        }
        "ipaddress" | "notipaddress" => {
            let a = actual.strip_prefix("::ffff:").unwrap_or(actual);
            ip_in(policy, a)
        }
        _ => false,
    }
}

fn condition_holds(op: &str, key: &str, values: &Value, ctx: &Ctx, vars: bool) -> bool {
    let lower = op.to_lowercase();
    let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
        ("any", r)
    } else if let Some(r) = lower.strip_prefix("forallvalues:") {
        ("all", r)
    } else {
        ("", lower.as_str())
    };
    let (base, if_exists) = match rest.strip_suffix("ifexists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let policy_values = list(values);
    let actual = ctx.get(key);
    if base == "null" {
        let absent = actual.is_none();
        return policy_values
            .iter()
            .any(|v| (v.to_lowercase() == "true") == absent);
    }
    let negated = base.contains("not");
    let Some(actual) = actual else {
        return match set {
            "all" => true,
            "any" => if_exists,
            _ => if_exists || negated,
        };
    };
    let hit = |a: &String| policy_values.iter().any(|p| compare(base, p, a, ctx, vars));
    match set {
        "any" => actual.iter().any(|a| hit(a) != negated),
        "all" => actual.iter().all(|a| hit(a) != negated),
        _ => actual.iter().any(hit) != negated,
    }
}

// ---- statements and policies ----

pub struct Req<'a> {
    pub principal: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub ctx: &'a Ctx,
}

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

/// Whether a statement applies, and how its principal named the requester.
fn applies(stmt: &Value, vars: bool, r: &Req<'_>) -> Option<Option<Via>> {
    let (acts, negated) = match (stmt.get("Action"), stmt.get("NotAction")) {
        (Some(a), _) => (list(a), false),
        (None, Some(a)) => (list(a), true),
        _ => return None,
    };
    if acts.iter().any(|p| action_match(p, r.action)) == negated {
        return None;
    }
    let res = match (stmt.get("Resource"), stmt.get("NotResource")) {
        (Some(v), _) => Some((list(v), false)),
        (None, Some(v)) => Some((list(v), true)),
        _ => None,
    };
    if let Some((patterns, negated)) = res {
        let any = patterns
            .iter()
            .any(|p| resource_match(p, r.resource, r.ctx, vars));
        if any == negated {
            return None;
        }
    }
    let w = who(r.principal, r.action);
    let via = match (stmt.get("Principal"), stmt.get("NotPrincipal")) {
        (Some(p), _) => Some(principal_via(p, &w)?),
        (None, Some(p)) => {
            if not_principal_spares(p, &w) {
                return None;
            }
            Some(Via::Everyone)
        }
        _ => None,
    };
    if let Some(Value::Object(ops)) = stmt.get("Condition") {
        for (op, keys) in ops {
            if let Value::Object(keys) = keys {
                for (key, values) in keys {
                    if !condition_holds(op, key, values, r.ctx, vars) {
                        return None;
                    }
                }
            }
        }
    }
    Some(via)
}

#[derive(Default, Debug)]
pub struct LayerResult {
    pub denied_by: Vec<(usize, usize)>,
    pub allowed: bool,
    pub best_via: Option<Via>,
}

pub fn layer(policies: &[Value], r: &Req<'_>) -> LayerResult {
    let mut out = LayerResult::default();
    for (pi, p) in policies.iter().enumerate() {
        let vars = p.get("Version").and_then(Value::as_str) == Some("2012-10-17");
        for (si, s) in statements(p).into_iter().enumerate() {
            if let Some(via) = applies(s, vars, r) {
                if s["Effect"] == "Deny" {
                    out.denied_by.push((pi, si));
                } else {
                    out.allowed = true;
                    out.best_via = out.best_via.max(via);
                }
            }
        }
    }
    out
}

/// The reference decision.
pub fn decide(
    identity: &[Value],
    trust: Option<&Value>,
    boundary: &[Value],
    scps: &[Value],
    r: &Req<'_>,
) -> Outcome {
    if r.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Outcome::Allowed;
    }
    let w = who(r.principal, r.action);
    let aws = is_aws(&w);
    let id = layer(identity, r);
    let bd = layer(boundary, r);
    let sc = layer(scps, r);
    let tr = trust.map(|t| layer(std::slice::from_ref(t), r));
    let principal_layers_apply = trust.is_none() || aws;
    let mut denied = tr.as_ref().is_some_and(|t| !t.denied_by.is_empty());
    if principal_layers_apply {
        denied |= !id.denied_by.is_empty() || !bd.denied_by.is_empty() || !sc.denied_by.is_empty();
    }
    if denied {
        return Outcome::ExplicitlyDenied;
    }
    if principal_layers_apply && !scps.is_empty() && !sc.allowed {
        return Outcome::ImplicitlyDenied;
    }
    let boundary_ok = boundary.is_empty() || bd.allowed;
    let ok = match &tr {
        None => id.allowed && boundary_ok,
        Some(t) if !t.allowed => false,
        Some(_) if !aws => true,
        Some(t) => {
            let role_account = r.resource.split(':').nth(4).unwrap_or("");
            let same = !role_account.is_empty() && role_account == w.account;
            match t.best_via {
                Some(Via::Exact) if same => true,
                Some(Via::Role) if same => boundary_ok,
                _ => id.allowed && boundary_ok,
            }
        }
    };
    if ok {
        Outcome::Allowed
    } else {
        Outcome::ImplicitlyDenied
    }
}
