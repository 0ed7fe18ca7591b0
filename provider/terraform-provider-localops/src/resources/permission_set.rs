//! `localops_permission_set`: the IAM permissions a LocalOps connection grants, computed from a
//! few arguments by the domain crate. It has no object outside Terraform: create, update and
//! delete only record the rendering in state, so every computed value is known at plan time
//! once the arguments are.

use localops_domain::permission_set::{
    self as domain, PermissionSetSpec, RenderedPermissionSet, SpecError,
};
use tfplugin::{
    ApplyOutcome, Attribute, AttributePath, Block, Change, Context, Diagnostic, Diagnostics,
    ImportOutcome, MaybeUnknown, ObjectReader, Plan, Resource, Schema, Type, Value, ValueError,
    async_trait,
};

pub struct PermissionSetResource;

const TYPE_NAME: &str = "localops_permission_set";

/// Outputs, all derived from the arguments.
const COMPUTED: [&str; 5] = [
    "id",
    "policy_documents",
    "managed_policy_arns",
    "actions",
    "json",
];

/// The arguments as configured; at plan time any of them may be unknown, and a set may be
/// known with some unknown elements.
struct Arguments {
    name: MaybeUnknown<String>,
    administrator: MaybeUnknown<Option<bool>>,
    optional_services: MaybeUnknown<Option<Vec<MaybeUnknown<String>>>>,
    regions: MaybeUnknown<Option<Vec<MaybeUnknown<String>>>>,
    extra_statements: MaybeUnknown<Option<String>>,
}

impl Arguments {
    fn read(object: &Value) -> Result<Self, ValueError> {
        let object = ObjectReader::new(object)?;
        Ok(Arguments {
            name: object.get("name")?,
            administrator: object.get("administrator")?,
            optional_services: object.get("optional_services")?,
            regions: object.get("regions")?,
            extra_statements: object.get("extra_statements")?,
        })
    }

    /// The known elements of a set argument.
    fn known_elements(set: &MaybeUnknown<Option<Vec<MaybeUnknown<String>>>>) -> Vec<String> {
        match set {
            MaybeUnknown::Known(Some(items)) => items
                .iter()
                .filter_map(|item| item.known().cloned())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn fully_known_set(
        set: &MaybeUnknown<Option<Vec<MaybeUnknown<String>>>>,
    ) -> Option<Option<Vec<String>>> {
        match set {
            MaybeUnknown::Unknown => None,
            MaybeUnknown::Known(None) => Some(None),
            MaybeUnknown::Known(Some(items)) => items
                .iter()
                .map(|item| item.known().cloned())
                .collect::<Option<Vec<_>>>()
                .map(Some),
        }
    }

    /// The spec, when every argument is known.
    fn spec(&self) -> Option<PermissionSetSpec> {
        Some(PermissionSetSpec {
            name: self.name.known()?.clone(),
            administrator: self.administrator.known()?.unwrap_or(false),
            optional_services: Self::fully_known_set(&self.optional_services)?.unwrap_or_default(),
            regions: Self::fully_known_set(&self.regions)?,
            extra_statements: self.extra_statements.known()?.clone(),
        })
    }

    /// Checks what is known. With everything known this is the full rendering, which also
    /// catches problems no single argument shows (policies too large to fit).
    fn check(&self) -> Result<Option<RenderedPermissionSet>, Vec<SpecError>> {
        if let Some(spec) = self.spec() {
            return domain::render(&spec).map(Some);
        }
        let mut errors = Vec::new();
        if let MaybeUnknown::Known(name) = &self.name
            && let Err(e) = domain::validate_name(name)
        {
            errors.push(e);
        }
        let services = Self::known_elements(&self.optional_services);
        errors.extend(domain::validate_optional_services(&services));
        let regions = Self::known_elements(&self.regions);
        if !regions.is_empty() {
            errors.extend(domain::validate_regions(&regions));
        }
        if let MaybeUnknown::Known(Some(json)) = &self.extra_statements {
            errors.extend(domain::validate_extra_statements(json));
        }
        if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors)
        }
    }
}

/// Points at the argument. A set element has no position Terraform can underline, and a
/// statement index is inside a JSON string, so the element is named in the message instead
/// (the domain's messages already do).
fn to_diagnostic(error: SpecError) -> Diagnostic {
    Diagnostic::error(error.summary, error.detail).at(AttributePath::attr(error.field.attribute()))
}

fn to_diagnostics(errors: Vec<SpecError>) -> Diagnostics {
    errors
        .into_iter()
        .map(to_diagnostic)
        .collect::<Vec<_>>()
        .into()
}

fn set_outputs(state: &mut Value, rendered: RenderedPermissionSet) {
    state.set_attribute("id", Value::String(rendered.id));
    state.set_attribute("policy_documents", into_list(rendered.policy_documents));
    state.set_attribute(
        "managed_policy_arns",
        into_list(rendered.managed_policy_arns),
    );
    state.set_attribute(
        "actions",
        Value::Set(rendered.actions.into_iter().map(Value::String).collect()),
    );
    state.set_attribute("json", Value::String(rendered.json));
}

fn into_list(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

impl PermissionSetResource {
    /// Renders the planned state into the new state (all arguments are known at apply).
    fn render_state(change: &Change) -> Result<Value, Diagnostics> {
        let arguments = Arguments::read(&change.planned_state)
            .map_err(|e| Diagnostics::from(Diagnostic::from(e)))?;
        let Some(spec) = arguments.spec() else {
            return Err(Diagnostic::error(
                "Arguments not known at apply",
                "Terraform applied localops_permission_set with arguments still unknown. This \
                 is a bug in the provider; please report it.",
            )
            .into());
        };
        let rendered = domain::render(&spec).map_err(to_diagnostics)?;
        let mut state = change.planned_state.clone();
        state.set_attribute("administrator", Value::Bool(spec.administrator));
        set_outputs(&mut state, rendered);
        Ok(state)
    }
}

#[async_trait]
impl Resource for PermissionSetResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match Arguments::read(config) {
            Ok(arguments) => match arguments.check() {
                Ok(_) => Diagnostics::new(),
                Err(errors) => to_diagnostics(errors),
            },
            Err(e) => Diagnostic::from(e).into(),
        }
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan) {
        let arguments = match Arguments::read(&plan.config) {
            Ok(arguments) => arguments,
            Err(e) => {
                plan.diagnostics.push(e.into());
                return;
            }
        };
        match &arguments.administrator {
            MaybeUnknown::Known(administrator) => {
                plan.set("administrator", administrator.unwrap_or(false))
            }
            MaybeUnknown::Unknown => plan.set_unknown("administrator"),
        }
        match arguments.check() {
            Ok(Some(rendered)) => set_outputs(&mut plan.planned, rendered),
            Ok(None) => {
                for name in COMPUTED {
                    plan.set_unknown(name);
                }
                if let MaybeUnknown::Known(name) = &arguments.name {
                    plan.set("id", name.clone());
                }
            }
            Err(errors) => plan.diagnostics.extend(to_diagnostics(errors)),
        }
    }

    async fn create(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        match Self::render_state(&change) {
            Ok(state) => ApplyOutcome::ok(state),
            Err(diagnostics) => ApplyOutcome {
                new_state: Value::Null,
                private: Vec::new(),
                diagnostics,
            },
        }
    }

    async fn update(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        match Self::render_state(&change) {
            Ok(state) => ApplyOutcome::ok(state),
            Err(diagnostics) => ApplyOutcome {
                new_state: change.prior_state,
                private: change.planned_private,
                diagnostics,
            },
        }
    }

    async fn delete(&self, _ctx: &Context, _change: Change) -> Diagnostics {
        Diagnostics::new()
    }

    async fn import(&self, _ctx: &Context, id: &str) -> ImportOutcome {
        ImportOutcome::error(Diagnostic::error(
            "localops_permission_set cannot be imported",
            format!(
                "A permission set exists only in Terraform: it is computed from its arguments and \
                 has no object in AWS or LocalOps to import. Instead of importing {id:?}, declare \
                 it in configuration, for example\n\n  resource \"localops_permission_set\" \"this\" \
                 {{\n    name = {id:?}\n  }}\n\nand run terraform apply; that creates nothing \
                 outside Terraform's state."
            ),
        ))
    }
}

fn schema() -> Schema {
    let string_set = Type::set(Type::String);
    let string_list = Type::list(Type::String);
    Schema::new(
        Block::new()
            .description(
                "The IAM permissions a LocalOps connection grants, computed from a few \
                 arguments. Pass its `json` to `localops_aws_connection.permission_set`.\n\n\
                 Nothing is created outside Terraform: the policies are rendered at plan time \
                 and validated against AWS's action catalog, so mistakes show up in \
                 `terraform plan`.",
            )
            .attribute(Attribute::new("name", Type::String).required().description(
                "Name of the permission set, used in the names of its IAM policies: 1 to 64 \
                     letters, digits and `+=,.@_-`.",
            ))
            .attribute(
                Attribute::new("administrator", Type::Bool)
                    .optional()
                    .computed()
                    .description(
                        "Grant the AWS managed policy `AdministratorAccess` (LocalOps' 1-click \
                         default) instead of least-privilege policies. Defaults to `false`.",
                    ),
            )
            .attribute(
                Attribute::new("optional_services", string_set.clone())
                    .optional()
                    .description(
                        "Services LocalOps may manage besides the required ones (VPC, EC2, EKS, \
                         IAM, STS, KMS, SSM Parameter Store): any of `s3`, `rds`, `elasticache`, \
                         `sns`, `sqs`.",
                    ),
            )
            .attribute(
                Attribute::new("regions", string_set.clone())
                    .optional()
                    .description(
                        "When set, regional actions only work in these regions (condition \
                         `aws:RequestedRegion`); global services such as IAM and STS stay \
                         usable. All regions must be in one AWS partition.",
                    ),
            )
            .attribute(
                Attribute::new("extra_statements", Type::String)
                    .optional()
                    .description(
                        "More IAM statements, as a JSON array (use `jsonencode`). Each needs \
                         `Effect`, and every action must exist in AWS's action catalog; they are \
                         not limited to `regions`.",
                    ),
            )
            .attribute(Attribute::new("id", Type::String).computed().description(
                "Identifies the permission set in state: its `name`. A permission set \
                         has no remote object; it only renders policies.",
            ))
            .attribute(
                Attribute::new("policy_documents", string_list.clone())
                    .computed()
                    .description(
                        "The customer managed IAM policy documents, as compact JSON, each within \
                         IAM's size limit.",
                    ),
            )
            .attribute(
                Attribute::new("managed_policy_arns", string_list)
                    .computed()
                    .description(
                        "ARNs of the AWS managed policies to attach (`AdministratorAccess` when \
                         `administrator` is true).",
                    ),
            )
            .attribute(
                Attribute::new("actions", string_set)
                    .computed()
                    .description(
                        "Every IAM action the set grants, sorted (`*` with `administrator`).",
                    ),
            )
            .attribute(Attribute::new("json", Type::String).computed().description(
                "The whole permission set as canonical JSON, the form \
                     `localops_aws_connection` takes.",
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::FromValue;

    fn context() -> Context {
        Context::new(Default::default())
    }

    /// A configuration value with the given arguments (others null).
    fn config(arguments: &[(&str, Value)]) -> Value {
        let mut object = schema_nulls();
        for (name, value) in arguments {
            object.set_attribute(name, value.clone());
        }
        object
    }

    fn schema_nulls() -> Value {
        let Type::Object(attributes) = schema().value_type() else {
            unreachable!("a schema's type is an object")
        };
        Value::Object(
            attributes
                .keys()
                .map(|k| (k.clone(), Value::Null))
                .collect(),
        )
    }

    fn strings(items: &[&str]) -> Value {
        Value::set(items.iter().map(|s| Value::from(*s)))
    }

    fn plan_for(config: Value) -> Plan {
        let mut planned = config.clone();
        for name in COMPUTED {
            planned.set_attribute(name, Value::Unknown);
        }
        Plan {
            prior_state: Value::Null,
            proposed: config.clone(),
            config,
            planned,
            prior_private: Vec::new(),
            planned_private: Vec::new(),
            requires_replace: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }

    async fn planned(config: Value) -> Plan {
        let mut plan = plan_for(config);
        PermissionSetResource
            .modify_plan(&context(), &mut plan)
            .await;
        plan
    }

    #[tokio::test]
    async fn known_arguments_plan_every_output() {
        let plan = planned(config(&[
            ("name", "dev".into()),
            ("optional_services", strings(&["s3"])),
        ]))
        .await;
        assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
        assert_eq!(plan.planned.attribute("id"), Some(&Value::from("dev")));
        assert_eq!(
            plan.planned.attribute("administrator"),
            Some(&Value::Bool(false))
        );
        assert!(plan.planned.is_fully_known());
        let actions =
            Vec::<String>::from_value(plan.planned.attribute("actions").unwrap()).unwrap();
        assert!(actions.iter().any(|a| a.starts_with("s3:")));
    }

    #[tokio::test]
    async fn unknown_regions_leave_outputs_unknown_but_check_the_rest() {
        let plan = planned(config(&[
            ("name", "dev".into()),
            ("regions", Value::Unknown),
        ]))
        .await;
        assert!(plan.diagnostics.is_empty());
        assert_eq!(plan.planned.attribute("id"), Some(&Value::from("dev")));
        assert_eq!(plan.planned.attribute("json"), Some(&Value::Unknown));

        let plan = planned(config(&[
            ("name", "bad name!".into()),
            ("regions", Value::set([Value::Unknown])),
        ]))
        .await;
        let diagnostic = plan.diagnostics.iter().next().unwrap();
        assert_eq!(diagnostic.attribute, Some(AttributePath::attr("name")));
    }

    #[tokio::test]
    async fn validation_points_at_the_attribute() {
        let diagnostics = PermissionSetResource
            .validate(
                &context(),
                &config(&[
                    ("name", "dev".into()),
                    ("optional_services", strings(&["s4"])),
                ]),
            )
            .await;
        let diagnostic = diagnostics.iter().next().unwrap();
        assert_eq!(
            diagnostic.attribute,
            Some(AttributePath::attr("optional_services"))
        );
        assert!(diagnostic.is_error());
    }

    #[tokio::test]
    async fn apply_renders_what_plan_showed() {
        let plan = planned(config(&[
            ("name", "dev".into()),
            ("administrator", true.into()),
        ]))
        .await;
        let change = Change {
            prior_state: Value::Null,
            planned_state: plan.planned.clone(),
            config: plan.config.clone(),
            planned_private: Vec::new(),
        };
        let outcome = PermissionSetResource.create(&context(), change).await;
        assert!(outcome.diagnostics.is_empty());
        assert_eq!(outcome.new_state, plan.planned);
    }

    #[tokio::test]
    async fn import_explains_why_not() {
        let outcome = PermissionSetResource.import(&context(), "dev").await;
        assert!(outcome.imported.is_empty());
        assert!(outcome.diagnostics.has_errors());
    }
}
