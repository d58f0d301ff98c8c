"""Errors in Stripe's format: {"error": {"type", "code", "param", "message"}} and the statuses the
SDK maps to its exception classes.
"""

from __future__ import annotations

from typing import Any

DOCS_URL = "https://stripe.com/docs"


class ApiError(Exception):
    """An error answer in Stripe's format: {"error": {"type", "code", "param", "message"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS_URL}/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param)


def missing(param: str) -> ApiError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def unknown(param: str) -> ApiError:
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def exclusive(*params: str) -> ApiError:
    names = ", ".join(p.rsplit("[", 1)[-1].rstrip("]") for p in params)
    message = f"You may only specify one of these parameters: {names}."
    return invalid(message, params[0], "parameters_exclusive")


def empty_string(param: str) -> ApiError:
    message = (
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value."
    )
    return invalid(message, param, "parameter_invalid_empty")


def no_such(kind: str, object_id: str, param: str, status: int = 400) -> ApiError:
    return ApiError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def integer_error(message: str, param: str) -> ApiError:
    return invalid(message, param, "parameter_invalid_integer")
