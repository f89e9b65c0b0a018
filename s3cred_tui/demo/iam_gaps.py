"""IAM calls moto gets wrong or lacks, answered in the demo as AWS does.

- CreateUser keeps its PermissionsBoundary (moto drops it), and PutUserPermissionsBoundary /
  DeleteUserPermissionsBoundary exist. GetUser and GetAccountAuthorizationDetails return the
  boundary; ListUsers does not ("This operation does not return the following attributes,
  even though they are an attribute of the returned object: PermissionsBoundary, Tags", IAM API
  reference, ListUsers).
- ListServiceSpecificCredentials answers an empty list (the demo has none) and
  DeleteServiceSpecificCredential answers NoSuchEntity, in AWS's XML, where moto answers an
  HTML 500 page.

Each handler is given the moto response object; the caller decides whether the request is the
demo's (see `authorizer.py`).
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import NoSuchEntity

from s3cred_tui.demo.principals import USER_BOUNDARY_ATTRIBUTE

# ListUsers never returns a user's boundary, even once the demo keeps it.
LIST_USERS_HIDES = "ListUsersResponse.Users.User.PermissionsBoundary"


def _boundary_value(response: Any) -> dict | None:
    arn = response._get_param("PermissionsBoundary")
    if not arn:
        return None
    # "PermissionsBoundary: The ARN of the managed policy that is used to set the permissions
    # boundary" - it must exist, as in AWS (NoSuchEntity otherwise).
    if arn not in response.backend.managed_policies:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def create_user(response: Any, original: Any) -> Any:
    boundary = _boundary_value(response)  # checked before the user exists: a refusal leaves nothing behind
    result = original(response)
    if boundary is not None:
        user = response.backend.get_user(response._get_param("UserName"))
        setattr(user, USER_BOUNDARY_ATTRIBUTE, boundary)
    return result


def put_user_permissions_boundary(response: Any) -> ActionResult:
    user = response.backend.get_user(response._get_param("UserName"))
    boundary = _boundary_value(response)
    if boundary is None:
        raise NoSuchEntity("PermissionsBoundary is required.")
    setattr(user, USER_BOUNDARY_ATTRIBUTE, boundary)
    return EmptyResult()


def delete_user_permissions_boundary(response: Any) -> ActionResult:
    user = response.backend.get_user(response._get_param("UserName"))
    if getattr(user, USER_BOUNDARY_ATTRIBUTE, None) is None:
        raise NoSuchEntity(f"The user with name {user.name} has no permissions boundary.")
    setattr(user, USER_BOUNDARY_ATTRIBUTE, None)
    return EmptyResult()


def list_service_specific_credentials(response: Any) -> ActionResult:
    user_name = response._get_param("UserName")
    if user_name:
        response.backend.get_user(user_name)  # NoSuchEntity for an unknown user, as in AWS
    return ActionResult({"ServiceSpecificCredentials": []})


def delete_service_specific_credential(response: Any) -> ActionResult:
    credential = response._get_param("ServiceSpecificCredentialId")
    raise NoSuchEntity(f"No such service-specific credential: {credential}")


# IAM action (snake case, as moto dispatches) -> handler taking the response object.
NEW_ACTIONS = {
    "put_user_permissions_boundary": put_user_permissions_boundary,
    "delete_user_permissions_boundary": delete_user_permissions_boundary,
    "list_service_specific_credentials": list_service_specific_credentials,
    "delete_service_specific_credential": delete_service_specific_credential,
}
