"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from judging.submissions import AUTHORIZATION, FIELD_LABELS, FIELD_LIMITS, REQUIRED
from storage.models import EntryCategory

_ERROR = {"$ref": "#/components/schemas/Error"}
_ENTRY = {"$ref": "#/components/schemas/EntryStatus"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "bad input",
        401: "not logged in",
        403: "wrong role",
        404: "no such entry",
        409: "no open contest",
        413: "file too large",
        415: "not a video",
    }
    return {str(code): _json(_ERROR, texts[code]) for code in codes}


def _header(name: str, required: bool, pattern: str | None = None) -> dict[str, Any]:
    schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return {"name": name, "in": "header", "required": required, "schema": schema}


DIGITS = "^[0-9]+$"  # ASCII digits only: "¹" is a digit to Python, not to us


def _entry_id() -> list[dict[str, Any]]:
    return [{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "integer"}}]


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document."""
    fields: dict[str, Any] = {
        name: {"type": "string", "maxLength": limit, "description": FIELD_LABELS[name]}
        for name, limit in FIELD_LIMITS.items()
    }
    fields["category"] = {
        "enum": [c.value for c in EntryCategory],
        "description": "类别: collective 青年文明号集体, aspiring 争创集体",
    }
    fields["authorized"] = {"type": "boolean", "const": True, "description": AUTHORIZATION}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Footprints (青春足迹) API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"basic": []}, {"session": []}],
        "paths": {
            "/entries": {
                "get": {
                    "summary": "List my entries (all entries for staff)",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"entries": {"type": "array", "items": _ENTRY}},
                            },
                            "entries",
                        ),
                        **_errors(401),
                    },
                },
                "post": {
                    "summary": "Create an entry (contestants)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/EntryFields"}
                            }
                        },
                    },
                    "responses": {"201": _json(_ENTRY, "created"), **_errors(400, 401, 403, 409)},
                },
            },
            "/entries/{entry_id}": {
                "get": {
                    "summary": "Read an entry's status, job progress and media URLs",
                    "parameters": _entry_id(),
                    "responses": {"200": _json(_ENTRY, "the entry"), **_errors(401, 404)},
                },
            },
            "/entries/{entry_id}/uploads": {
                "post": {
                    "summary": "Start a resumable upload (tus 1.0 creation) of the video",
                    "parameters": [
                        *_entry_id(),
                        _header("Upload-Length", True, DIGITS),
                        _header("Upload-Metadata", False),
                        _header("Tus-Resumable", True),
                    ],
                    "responses": {
                        "201": {
                            "description": "created; the upload's URL is "
                            "in Location, its part size in "
                            "Footprints-Chunk-Size"
                        },
                        **_errors(400, 401, 404, 409, 413),
                    },
                },
            },
            "/uploads/{upload_id}": {
                "parameters": [
                    {
                        "name": "upload_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "head": {
                    "summary": "Where an upload stands (Upload-Offset, Upload-Length)",
                    "responses": {
                        "200": {"description": "the offset"},
                        "404": {"description": "no such upload"},
                    },
                },
                "patch": {
                    "summary": "Send the next part at Upload-Offset (tus 1.0 core); "
                    "the last part completes the upload and queues the job",
                    "parameters": [
                        _header("Upload-Offset", True, DIGITS),
                        _header("Upload-Checksum", False),
                        _header("Tus-Resumable", True),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/offset+octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "204": {"description": "stored; new Upload-Offset"},
                        "460": {"description": "checksum mismatch"},
                        **_errors(400, 404, 409, 415),
                    },
                },
                "delete": {
                    "summary": "Cancel an upload (tus termination)",
                    "responses": {
                        "204": {"description": "cancelled"},
                        "404": {"description": "no such upload"},
                    },
                },
            },
            "/entries/{entry_id}/video": {
                "put": {
                    "summary": "Upload the entry's video as the raw request body",
                    "parameters": _entry_id(),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "202": _json(_ENTRY, "stored and queued"),
                        **_errors(400, 401, 403, 404, 413),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "EntryFields": {
                    "type": "object",
                    "required": [*REQUIRED, "category", "authorized"],
                    "properties": fields,
                },
                "Job": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "state": {"enum": ["queued", "running", "ready", "rejected", "failed"]},
                        "state_label": {"type": "string"},
                        "percent": {"type": "number"},
                        "eta_seconds": {"type": ["integer", "null"]},
                        "reason": {"type": "string"},
                        "attempts": {"type": "integer"},
                    },
                },
                "Media": {
                    "type": "object",
                    "properties": {
                        "rendition_url": {"type": "string", "format": "uri"},
                        "poster_url": {"type": ["string", "null"], "format": "uri"},
                        "width": {"type": "integer"},
                        "height": {"type": "integer"},
                        "duration": {"type": "number"},
                    },
                },
                "EntryStatus": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "number": {"type": "integer"},
                        **{
                            name: {"type": "string"}
                            for name in (
                                "title",
                                "collective",
                                "district",
                                "industry",
                                "summary",
                                "status_label",
                            )
                        },
                        "status": {
                            "enum": [
                                "draft",
                                "submitted",
                                "processing",
                                "ready",
                                "rejected",
                                "failed",
                                "withdrawn",
                            ]
                        },
                        "approved": {"type": "boolean"},
                        "returned": {
                            "oneOf": [
                                {
                                    "type": "object",
                                    "required": ["reason", "at"],
                                    "properties": {
                                        "reason": {"type": "string"},
                                        "at": {"type": "string", "format": "date-time"},
                                    },
                                },
                                {"type": "null"},
                            ]
                        },
                        "job": {"oneOf": [{"$ref": "#/components/schemas/Job"}, {"type": "null"}]},
                        "media": {
                            "oneOf": [{"$ref": "#/components/schemas/Media"}, {"type": "null"}]
                        },
                    },
                },
            },
        },
    }
