"""In-process patches that give moto 5.2.1 the CloudFormation behaviour LocalOps' connection
stack needs. Nothing in site-packages is edited: `apply()` replaces functions and methods on
moto's classes from here, once, before the server starts.

What is added or changed (see README.md in this folder for the reasons):

1. `AWS::IAM::OIDCProvider` as a CloudFormation resource type, backed by the IAM backend.
2. `AWS::IAM::Role` honours `ManagedPolicyArns` on create, applies every property on update
   (trust policy, MaxSessionDuration, Description, Tags, ManagedPolicyArns, inline Policies,
   replacement when RoleName/Path change), and detaches its policies before it is deleted.
3. `AWS::IAM::ManagedPolicy` is updated (a new default policy version when the document changes,
   attachments, replacement when the name/path/description change) and deleted (moto never
   deleted it).
4. UpdateStack is computed on resolved properties and conditions (moto compares raw template
   JSON), creates/deletes resources whose Condition flipped, and runs in dependency order.
5. Failures behave like CloudFormation: CreateStack/UpdateStack return the stack id, and the
   stack goes to ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE with a resource-level
   CREATE_FAILED / UPDATE_FAILED event carrying the service's error; a failed DeleteStack leaves
   the stack in DELETE_FAILED instead of silently dropping it.
6. Parameter constraints (AllowedValues, AllowedPattern, Min/MaxLength, Min/MaxValue) are
   enforced with CloudFormation's ValidationError messages.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from typing import Any

_APPLIED = False
# Resources replaced during an update, deleted once the whole update succeeded (as
# CloudFormation's cleanup phase does). Per thread: the server handles requests in threads.
_state = threading.local()


def _pending_cleanup() -> list[Any]:
    if not hasattr(_state, "cleanup"):
        _state.cleanup = []
    return _state.cleanup


def _iam(account_id: str, region_name: str):
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account_id][get_partition(region_name)]


def _json_text(document: Any) -> str:
    if isinstance(document, str):
        return document
    return json.dumps(document)


def _same_json(a: Any, b: Any) -> bool:
    def norm(x: Any) -> Any:
        if isinstance(x, str):
            try:
                return json.loads(x)
            except ValueError:
                return x
        return x

    return json.dumps(norm(a), sort_keys=True) == json.dumps(norm(b), sort_keys=True)


# --------------------------------------------------------------------------------------------
# 1. AWS::IAM::OIDCProvider
# --------------------------------------------------------------------------------------------


def _define_oidc_provider_model():
    from moto.core.common_models import CloudFormationModel
    from moto.iam.exceptions import EntityAlreadyExists

    class LocalOpsOIDCProviderResource(CloudFormationModel):
        """The stack's view of an IAM OIDC provider; the provider itself lives in the IAM
        backend as moto's plain OpenIDConnectProvider."""

        # moto's model registry derives the service from the module name.
        __module__ = "moto.iam.models"

        def __init__(self, account_id: str, region_name: str, arn: str):
            self.account_id = account_id
            self.region_name = region_name
            self.arn = arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::IAM::OIDCProvider"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            if attribute_name == "Arn":
                return self.arn
            raise UnformattedGetAttTemplateException()

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> "LocalOpsOIDCProviderResource":
            props = cloudformation_json.get("Properties", {})
            url = props.get("Url", "")
            backend = _iam(account_id, region_name)
            for arn, existing in backend.open_id_providers.items():
                if url.startswith("https://") and existing.url == url[len("https://") :]:
                    raise EntityAlreadyExists(f"Provider with url {url} already exists.")
            provider = backend.create_open_id_connect_provider(
                url=url,
                thumbprint_list=list(props.get("ThumbprintList", [])),
                client_id_list=list(props.get("ClientIdList", [])),
                tags=list(props.get("Tags", [])),
            )
            return cls(account_id, region_name, provider.arn)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: "LocalOpsOIDCProviderResource",
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> "LocalOpsOIDCProviderResource":
            props = cloudformation_json.get("Properties", {})
            backend = _iam(account_id, region_name)
            provider = backend.get_open_id_connect_provider(original_resource.arn)
            url = props.get("Url", "")
            if "https://" + provider.url != url:
                # Url needs replacement: a new provider, the old one goes at cleanup.
                new = cls.create_from_cloudformation_json(
                    new_resource_name, cloudformation_json, account_id, region_name
                )
                _pending_cleanup().append(original_resource)
                return new
            provider.client_id_list = list(props.get("ClientIdList", []))
            backend.update_open_id_connect_provider_thumbprint(
                original_resource.arn, list(props.get("ThumbprintList", []))
            )
            provider.tags = backend._tag_verification(list(props.get("Tags", [])))
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> None:
            _iam(account_id, region_name).delete_open_id_connect_provider(resource_name)

        def delete(self, account_id: str, region_name: str) -> None:
            _iam(account_id, region_name).delete_open_id_connect_provider(self.arn)

    return LocalOpsOIDCProviderResource


# --------------------------------------------------------------------------------------------
# 2. AWS::IAM::Role
# --------------------------------------------------------------------------------------------


def _role_delete_everything(backend: Any, role_name: str) -> None:
    """What CloudFormation's role handler does before DeleteRole."""
    role = backend.get_role(role_name)
    for profile in list(backend.instance_profiles.values()):
        if role in profile.roles:
            profile.roles.remove(role)
    for arn in list(role.managed_policies.keys()):
        backend.detach_role_policy(arn, role_name)
    for name in list(role.policies.keys()):
        role.delete_policy(name)
    for policy in backend.inline_policies.values():
        policy.role_names = [n for n in policy.role_names if n != role_name]
    backend.delete_role(role_name)


def _check_federated_principals(backend: Any, trust: str) -> None:
    """IAM rejects a trust policy naming an identity provider that does not exist."""
    from moto.iam.exceptions import MalformedPolicyDocument

    try:
        statements = json.loads(trust).get("Statement", [])
    except (ValueError, AttributeError):
        return
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        federated = principal.get("Federated") if isinstance(principal, dict) else None
        for arn in [federated] if isinstance(federated, str) else (federated or []):
            if ":oidc-provider/" in arn and arn not in backend.open_id_providers:
                raise MalformedPolicyDocument(
                    f'Invalid principal in policy: "Federated":"{arn}"'
                )


def _role_create(
    cls: Any,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

    props = cloudformation_json["Properties"]
    backend = _iam(account_id, region_name)
    # IAM validates the trust policy on CreateRole; moto only does on UpdateAssumeRolePolicy.
    trust = _json_text(props["AssumeRolePolicyDocument"])
    IAMTrustPolicyDocumentValidator(trust).validate()
    _check_federated_principals(backend, trust)
    role = _ORIGINALS["role_create"].__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    try:
        for arn in props.get("ManagedPolicyArns", []):
            backend.attach_role_policy(arn, role.name)
    except Exception:
        _role_delete_everything(backend, role.name)
        raise
    return role


def _role_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

    props = cloudformation_json["Properties"]
    backend = _iam(account_id, region_name)
    role = original_resource
    name = props.get("RoleName", role.name)
    if name != role.name or props.get("Path", "/") != role.path:
        new = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        _pending_cleanup().append(role)
        return new

    trust = _json_text(props["AssumeRolePolicyDocument"])
    IAMTrustPolicyDocumentValidator(trust).validate()
    _check_federated_principals(backend, trust)
    role.assume_role_policy_document = trust
    role.description = props.get("Description", "")
    role.max_session_duration = props.get("MaxSessionDuration", 3600)
    role.permissions_boundary_arn = props.get("PermissionsBoundary") or None
    clean = backend._tag_verification(list(props.get("Tags", [])))
    role.tags = [clean[k] for k in clean]

    wanted = list(props.get("ManagedPolicyArns", []))
    for arn in wanted:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)
    for arn in list(role.managed_policies.keys()):
        if arn not in wanted:
            backend.detach_role_policy(arn, role.name)

    inline = {p["PolicyName"]: _json_text(p["PolicyDocument"]) for p in props.get("Policies", [])}
    for policy_name in list(role.policies.keys()):
        if policy_name not in inline:
            role.delete_policy(policy_name)
    for policy_name, document in inline.items():
        role.put_policy(policy_name, document)
    return role


def _role_delete(
    cls: Any,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    _role_delete_everything(_iam(account_id, region_name), resource_name)


# --------------------------------------------------------------------------------------------
# 3. AWS::IAM::ManagedPolicy
# --------------------------------------------------------------------------------------------


def _policy_entities(backend: Any, arn: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for role in backend.roles.values():
        if arn in role.managed_policies:
            found.append(("role", role))
    for user in backend.users.values():
        if arn in user.managed_policies:
            found.append(("user", user))
    for group in backend.groups.values():
        if arn in group.managed_policies:
            found.append(("group", group))
    return found


def _policy_delete_everything(backend: Any, arn: str) -> None:
    """What CloudFormation's managed policy handler does: detach from every entity, delete the
    non-default versions, delete the policy."""
    if arn not in backend.managed_policies:
        return
    for kind, entity in _policy_entities(backend, arn):
        if kind == "role":
            backend.detach_role_policy(arn, entity.name)
        elif kind == "user":
            backend.detach_user_policy(arn, entity.name)
        else:
            backend.detach_group_policy(arn, entity.name)
    policy = backend.get_policy(arn)
    for version in list(policy.versions):
        if not version.is_default:
            backend.delete_policy_version(arn, version.version_id)
    backend.delete_policy(arn)


def _sync_policy_attachments(backend: Any, arn: str, props: dict[str, Any]) -> None:
    wanted = {
        "role": set(props.get("Roles", [])),
        "user": set(props.get("Users", [])),
        "group": set(props.get("Groups", [])),
    }
    current = {"role": set(), "user": set(), "group": set()}
    for kind, entity in _policy_entities(backend, arn):
        current[kind].add(entity.name)
    attach = {
        "role": backend.attach_role_policy,
        "user": backend.attach_user_policy,
        "group": backend.attach_group_policy,
    }
    detach = {
        "role": backend.detach_role_policy,
        "user": backend.detach_user_policy,
        "group": backend.detach_group_policy,
    }
    for kind in ("role", "user", "group"):
        for name in sorted(wanted[kind] - current[kind]):
            attach[kind](arn, name)
        for name in sorted(current[kind] - wanted[kind]):
            detach[kind](arn, name)


def _policy_update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    props = cloudformation_json.get("Properties", {})
    backend = _iam(account_id, region_name)
    policy = original_resource
    # Without ManagedPolicyName the policy keeps the name CloudFormation generated for it.
    name = props.get("ManagedPolicyName", policy.name)
    if (
        name != policy.name
        or (props.get("Path") or "/") != policy.path
        or (props.get("Description") or "") != policy.description
    ):
        # These properties need replacement. CloudFormation refuses to replace a custom-named
        # resource under the same name; so does this.
        if name == policy.name and "ManagedPolicyName" in props:
            from moto.cloudformation.exceptions import ValidationError

            raise ValidationError(
                message=(
                    "CloudFormation cannot update a stack when a custom-named resource requires "
                    f"replacing. Rename {name} and update the stack again."
                )
            )
        new = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        _pending_cleanup().append(policy)
        return new

    document = _json_text(props.get("PolicyDocument"))
    default = next((v for v in policy.versions if v.is_default), None)
    if default is None or not _same_json(default.document, document):
        if len(policy.versions) >= 5:
            oldest = next(v for v in policy.versions if not v.is_default)
            backend.delete_policy_version(policy.arn, oldest.version_id)
        backend.create_policy_version(policy.arn, document, set_as_default=True)
    _sync_policy_attachments(backend, policy.arn, props)
    return policy


def _policy_delete(
    cls: Any,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    _policy_delete_everything(_iam(account_id, region_name), resource_name)


# --------------------------------------------------------------------------------------------
# 4./5. Stack create, update and delete
# --------------------------------------------------------------------------------------------

_HANDLER_CODES = {
    "EntityAlreadyExists": "AlreadyExists",
    "NoSuchEntity": "NotFound",
    "MalformedPolicyDocument": "InvalidRequest",
    "LimitExceeded": "ServiceLimitExceeded",
    "InvalidInput": "InvalidRequest",
    "ValidationError": "InvalidRequest",
    "DeleteConflict": "ResourceConflict",
}
_STATUS_CODES = {
    "EntityAlreadyExists": 409,
    "NoSuchEntity": 404,
    "LimitExceeded": 409,
    "DeleteConflict": 409,
}


def _failure_reason(exc: BaseException) -> str:
    code = getattr(exc, "code", None) or type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    if code == "ValidationError" and "CloudFormation cannot update" in message:
        return message
    service = getattr(exc, "_localops_service", "Iam")
    return (
        f'Resource handler returned message: "{message}" (Service: {service}, '
        f"Status Code: {_STATUS_CODES.get(code, 400)}, Request ID: {uuid.uuid4()}) "
        f"(HandlerErrorCode: {_HANDLER_CODES.get(code, 'GeneralServiceException')})"
    )


def _resource_event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    physical_id: str,
    status: str,
    reason: str | None = None,
) -> None:
    from moto.cloudformation.models import Event

    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _parse_and_create_resource(
    logical_id: str,
    resource_json: dict[str, Any],
    resources_map: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """moto's resource creation, with per-resource events and the failing resource recorded."""
    stack = getattr(resources_map, "_localops_stack", None)
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    resource_type = resource_json.get("Type", "")
    if stack is not None:
        _resource_event(stack, logical_id, resource_type, "", "CREATE_IN_PROGRESS")
    try:
        resource = _ORIGINALS["parse_and_create_resource"](
            logical_id, resource_json, resources_map, account_id, region_name
        )
    except Exception as exc:
        if not hasattr(exc, "_localops_logical_id"):
            exc._localops_logical_id = logical_id  # type: ignore[attr-defined]
            exc._localops_resource_type = resource_type  # type: ignore[attr-defined]
            if stack is not None:
                _resource_event(
                    stack, logical_id, resource_type, "", "CREATE_FAILED", _failure_reason(exc)
                )
        raise
    if resource is not None:
        # What the resource was built from, to compare with on UpdateStack (recomputing it
        # later would make moto's lazy map create missing references as a side effect).
        from moto.cloudformation.parsing import clean_json

        resource._localops_resolved = _canonical(
            clean_json(copy.deepcopy(resource_json), resources_map)
        )
    if stack is not None and resource is not None:
        _resource_event(
            stack,
            logical_id,
            resource_type,
            str(getattr(resource, "physical_resource_id", "")),
            "CREATE_COMPLETE",
        )
    return resource


def _stack_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _ORIGINALS["stack_init"](self, *args, **kwargs)
    self.resource_map._localops_stack = self
    self.status_reason = None


def _created_resources(resource_map: Any) -> dict[str, Any]:
    json_map = resource_map._resource_json_map
    return {
        logical_id: resource
        for logical_id, resource in resource_map._parsed_resources.items()
        if logical_id in json_map and resource is not None and not isinstance(resource, (str, int, float, list, dict))
    }


def _delete_resources(stack: Any, resource_map: Any, logical_ids: list[str], events: bool = True) -> None:
    """Deletes created resources (dependents first where it matters, retrying conflicts)."""
    remaining = list(logical_ids)
    last: Exception | None = None
    for _ in range(5):
        if not remaining:
            return
        for logical_id in list(remaining):
            resource = resource_map._parsed_resources.get(logical_id)
            resource_json = resource_map._resource_json_map.get(logical_id) or getattr(
                resource, "_localops_json", {"Type": getattr(resource, "cf_resource_type", "")}
            )
            if resource is None:
                remaining.remove(logical_id)
                continue
            resource_type = resource_json.get("Type", "")
            physical = str(getattr(resource, "physical_resource_id", ""))
            try:
                resource_map._delete_resource(resource, resource_json)
            except Exception as exc:  # dependency order: try again next pass
                last = exc
                exc._localops_logical_id = logical_id  # type: ignore[attr-defined]
                continue
            resource_map._parsed_resources.pop(logical_id, None)
            remaining.remove(logical_id)
            if events and stack is not None:
                _resource_event(stack, logical_id, resource_type, physical, "DELETE_COMPLETE")
    if remaining and last is not None:
        raise last


def _freeze(stack: Any) -> None:
    """A rolled back or deleted stack has no resources and no outputs. moto's resource map is
    lazy: reading an output or listing resources would otherwise create them again."""
    stack.resource_map._resource_json_map = {}
    stack.output_map._output_json_map = {}
    stack.output_map._parsed_outputs = {}


def _stack_resources(self: Any) -> list[Any]:
    """Only the resources that exist (moto's lazy map creates any it is asked for)."""
    return list(_created_resources(self.resource_map).values())


def _stack_create_resources(self: Any) -> None:
    try:
        _ORIGINALS["create_resources"](self)
    except Exception as exc:
        failed = getattr(exc, "_localops_logical_id", None) or "unknown"
        reason = f"The following resource(s) failed to create: [{failed}]. Rollback requested by user."
        self.status = "ROLLBACK_IN_PROGRESS"
        self.status_reason = reason
        self._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        try:
            _delete_resources(self, self.resource_map, list(_created_resources(self.resource_map)))
        except Exception as cleanup:  # pragma: no cover - reported on the stack
            self.status = "ROLLBACK_FAILED"
            self.status_reason = f"Rollback failed: {cleanup}"
            self._add_stack_event("ROLLBACK_FAILED", resource_status_reason=self.status_reason)
            return
        _freeze(self)
        self.status = "ROLLBACK_COMPLETE"
        self._add_stack_event("ROLLBACK_COMPLETE")


def _references(value: Any) -> set[str]:
    """Logical names a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub, DependsOn)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                if isinstance(text, str):
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                        found.add(name.split(".")[0])
                found |= _references(inner)
            elif key == "DependsOn":
                found |= set([inner] if isinstance(inner, str) else inner)
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _dependency_order(resources: dict[str, Any], wanted: list[str]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name not in resources or name in visiting:
            return
        visiting.add(name)
        for dep in sorted(_references(resources[name])):
            if dep in wanted:
                visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _resource_map_update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    """UpdateStack: compare resolved properties, honour conditions, dependency order, cleanup."""
    from moto.cloudformation.parsing import clean_json, parse_and_update_resource

    stack = getattr(self, "_localops_stack", None)
    old_json_map = self._resource_json_map
    created = _created_resources(self)
    # Resolved properties each resource was last created/updated from.
    old_resolved = {
        logical_id: getattr(resource, "_localops_resolved", None)
        for logical_id, resource in created.items()
    }

    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.resolved_parameters = {}
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]
    new_map = self._resource_json_map

    wanted = [
        logical_id
        for logical_id, resource_json in new_map.items()
        if not resource_json.get("Condition") or self.lazy_condition_map[resource_json["Condition"]]
    ]
    _pending_cleanup().clear()
    for logical_id in _dependency_order(new_map, wanted):
        resource_type = new_map[logical_id].get("Type", "")
        if logical_id not in created:
            if logical_id not in self._parsed_resources:
                _ = self[logical_id]  # creates it (events recorded by the wrapper)
            continue
        new_resolved = _canonical(clean_json(copy.deepcopy(new_map[logical_id]), self))
        if new_resolved == old_resolved[logical_id]:
            continue
        if stack is not None:
            _resource_event(stack, logical_id, resource_type, "", "UPDATE_IN_PROGRESS")
        try:
            changed = parse_and_update_resource(
                logical_id, new_map[logical_id], self, self._account_id, self._region_name
            )
        except Exception as exc:
            exc._localops_logical_id = logical_id  # type: ignore[attr-defined]
            if stack is not None:
                _resource_event(stack, logical_id, resource_type, "", "UPDATE_FAILED", _failure_reason(exc))
            raise
        if changed is not None:
            changed.logical_resource_id = logical_id
            changed.cf_resource_type = resource_type
            self._parsed_resources[logical_id] = changed
        current = self._parsed_resources.get(logical_id)
        if current is not None:
            current._localops_resolved = new_resolved
        if stack is not None:
            physical = str(getattr(self._parsed_resources.get(logical_id), "physical_resource_id", ""))
            _resource_event(stack, logical_id, resource_type, physical, "UPDATE_COMPLETE")

    # Cleanup: resources no longer in the template (or whose condition is now false), then the
    # old halves of replacements.
    removed = [logical_id for logical_id in created if logical_id not in wanted]
    for logical_id in removed:
        created[logical_id]._localops_json = old_json_map.get(logical_id, {})
    if removed:
        # _delete_resources looks the JSON up in the current map; give it the old definitions.
        saved = self._resource_json_map
        self._resource_json_map = {**old_json_map, **saved}
        try:
            _delete_resources(stack, self, removed)
        finally:
            self._resource_json_map = saved
    for resource in _pending_cleanup():
        _delete_resource_object(self, resource)
    _pending_cleanup().clear()


def _delete_resource_object(resource_map: Any, resource: Any) -> None:
    resource_map._delete_resource(resource, {"Type": getattr(resource, "cf_resource_type", "")})


def _stack_update(
    self: Any,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    from moto.cloudformation.exceptions import ValidationError

    old_template = self.template
    old_parameters = dict(self.parameters)
    if self.status == "ROLLBACK_COMPLETE":  # moto checks this for UpdateStack too; keep it here
        raise ValidationError(
            message=f"Stack:{self.stack_id} is in ROLLBACK_COMPLETE state and can not be updated."
        )
    if template == old_template and _same_parameters(self, parameters or {}):
        # moto compares typed values with strings (Number parameters) and misses this.
        raise ValidationError(message="No updates are to be performed.")
    # Parameter problems reject the call itself, before anything starts (as in AWS).
    new_slots = (self.parse_template(template) or {}).get("Parameters", {}) or {}
    _check_parameters(
        new_slots,
        {key: (parameters or {}).get(key, slot.get("Default")) for key, slot in new_slots.items()},
    )
    self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
    self.status = "UPDATE_IN_PROGRESS"
    try:
        self.template = template
        self._parse_template()
        self.resource_map.update(self.template_dict, parameters)
    except Exception as exc:
        failed = getattr(exc, "_localops_logical_id", None) or "unknown"
        reason = f"The following resource(s) failed to update: [{failed}]."
        self.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        self.status_reason = reason
        self._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        try:
            self.template = old_template
            self._parse_template()
            self.resource_map.update(self.template_dict, old_parameters)
            self.parameters = old_parameters
        except Exception as rollback:
            self.status = "UPDATE_ROLLBACK_FAILED"
            self.status_reason = f"Rollback failed: {rollback}"
            self._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=self.status_reason)
            self.output_map = self._create_output_map()
            return
        self.output_map = self._create_output_map()
        self.status = "UPDATE_ROLLBACK_COMPLETE"
        self._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        return
    self.output_map = self._create_output_map()
    self.status = "UPDATE_COMPLETE"
    self.status_reason = None
    self._add_stack_event("UPDATE_COMPLETE")
    self.role_arn = role_arn
    if parameters:
        self.parameters = parameters
    if tags is not None:
        self.tags = tags


def _same_parameters(stack: Any, incoming: dict[str, Any]) -> bool:
    slots = stack.template_dict.get("Parameters", {}) or {}
    current = stack.resource_map.resolved_parameters
    for key, slot in slots.items():
        new = incoming.get(key, slot.get("Default"))
        old = current.get(key)
        if new is None or old is None:
            return False
        if isinstance(old, list):
            old = ",".join(str(x) for x in old)
        if str(new) != str(old):
            return False
    return True


def _backend_delete_stack(self: Any, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id)
    if stack is None:
        for candidate in self.stacks.values():
            if candidate.name == name_or_stack_id:
                stack = candidate
                break
    if stack is None:
        return  # CloudFormation: deleting an unknown stack name succeeds
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.status = "DELETE_IN_PROGRESS"
    try:
        _delete_resources(stack, stack.resource_map, list(_created_resources(stack.resource_map)))
    except Exception as exc:
        stack.status = "DELETE_FAILED"
        stack.status_reason = _failure_reason(exc)
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=stack.status_reason)
        return
    self.stacks.pop(stack.stack_id, None)
    for export in stack.exports:
        self.exports.pop(export.name, None)
    _freeze(stack)
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"
    stack.status_reason = None
    self.deleted_stacks[stack.stack_id] = stack


# --------------------------------------------------------------------------------------------
# 6. Parameter constraints
# --------------------------------------------------------------------------------------------


def _check_parameters(slots: dict[str, Any], values: dict[str, Any]) -> None:
    """CloudFormation's parameter checks, raised as its ValidationError messages. Java regex
    semantics for AllowedPattern: the whole value must match, \\w and friends are ASCII."""
    from moto.cloudformation.exceptions import ValidationError

    missing = [key for key in slots if values.get(key) is None]
    if missing:
        raise ValidationError(message=f"Parameters: [{', '.join(missing)}] must have values")
    for key, slot in slots.items():
        value = values[key]
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        described = slot.get("ConstraintDescription")

        def fail(default_message: str) -> None:
            if described:
                raise ValidationError(
                    message=f"Parameter '{key}' failed to satisfy constraint: {described}"
                )
            raise ValidationError(message=default_message)

        allowed = slot.get("AllowedValues")
        if allowed is not None and text not in [str(a) for a in allowed]:
            fail(f"Parameter '{key}' must be one of AllowedValues")
        pattern = slot.get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, text, re.ASCII) is None:
            fail(f"Parameter '{key}' must match pattern {pattern}")
        if "MinLength" in slot and len(text) < int(slot["MinLength"]):
            fail(f"Parameter '{key}' must contain at least {slot['MinLength']} characters")
        if "MaxLength" in slot and len(text) > int(slot["MaxLength"]):
            fail(f"Parameter '{key}' must contain at most {slot['MaxLength']} characters")
        if slot.get("Type") == "Number":
            try:
                number = float(text)
            except ValueError:
                raise ValidationError(message=f"Parameter '{key}' must be a number")
            if "MinValue" in slot and number < float(slot["MinValue"]):
                fail(f"Parameter '{key}' must be a number not less than {slot['MinValue']}")
            if "MaxValue" in slot and number > float(slot["MaxValue"]):
                fail(f"Parameter '{key}' must be a number not greater than {slot['MaxValue']}")


def _load_parameters(self: Any) -> None:
    _ORIGINALS["load_parameters"](self)
    _check_parameters(self._template.get("Parameters", {}) or {}, self.resolved_parameters)


def _update_termination_protection(self: Any) -> Any:
    """UpdateTerminationProtection, which moto 5.2.1 lacks (it answers 500): stores the flag
    that DescribeStacks reports. DeleteStack still ignores it, as before."""
    from moto.core.responses import ActionResult

    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    enabled = str(self._get_param("EnableTerminationProtection")).lower() == "true"
    stack.enable_termination_protection = enabled
    return ActionResult({"StackId": stack.stack_id})


def _add_client_id(self: Any) -> Any:
    """AddClientIDToOpenIDConnectProvider, which moto 5.2.1 lacks: adds the client ID unless
    the provider has it (IAM does nothing then either)."""
    from moto.core.responses import EmptyResult

    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)
    return EmptyResult()


def _remove_client_id(self: Any) -> Any:
    """RemoveClientIDFromOpenIDConnectProvider, which moto 5.2.1 lacks (absent: no change)."""
    from moto.core.responses import EmptyResult

    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    provider.client_id_list = [c for c in provider.client_id_list if c != client_id]
    return EmptyResult()


# --------------------------------------------------------------------------------------------

_ORIGINALS: dict[str, Any] = {}


def apply() -> None:
    """Applies every patch once. Import moto lazily so MOTO_* settings can be set first."""
    global _APPLIED
    if _APPLIED:
        return
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import parsing
    from moto.iam import models as iam_models

    _define_oidc_provider_model()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()

    Role = iam_models.Role
    _ORIGINALS["role_create"] = Role.__dict__["create_from_cloudformation_json"]
    Role.create_from_cloudformation_json = classmethod(_role_create)
    Role.update_from_cloudformation_json = classmethod(_role_update)
    Role.delete_from_cloudformation_json = classmethod(_role_delete)

    ManagedPolicy = iam_models.ManagedPolicy
    ManagedPolicy.update_from_cloudformation_json = classmethod(_policy_update)
    ManagedPolicy.delete_from_cloudformation_json = classmethod(_policy_delete)

    _ORIGINALS["parse_and_create_resource"] = parsing.parse_and_create_resource
    parsing.parse_and_create_resource = _parse_and_create_resource
    _ORIGINALS["load_parameters"] = parsing.ResourceMap.load_parameters
    parsing.ResourceMap.load_parameters = _load_parameters
    parsing.ResourceMap.update = _resource_map_update

    Stack = cfn_models.Stack
    _ORIGINALS["stack_init"] = Stack.__init__
    Stack.__init__ = _stack_init
    _ORIGINALS["create_resources"] = Stack.create_resources
    Stack.create_resources = _stack_create_resources
    Stack.update = _stack_update
    Stack.stack_resources = property(_stack_resources)
    cfn_models.CloudFormationBackend.delete_stack = _backend_delete_stack
    from moto.cloudformation import responses as cfn_responses

    cfn_responses.CloudFormationResponse.update_termination_protection = _update_termination_protection
    from moto.iam import responses as iam_responses

    iam_responses.IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id
    iam_responses.IamResponse.remove_client_id_from_open_id_connect_provider = _remove_client_id
    _APPLIED = True
