"""Logging: every line the service and uvicorn write, one JSON object each, with the request id.

A line reads `{"timestamp", "level", "logger", "message", "request_id"}`, plus `exception`
(the traceback) when there is one. The request id is "-" outside a request. `text` is the
same fields on one human line, for development.

The formatter is the standard library's: the fields are fixed and few, so a dependency
would add nothing but itself.
"""

import json
import logging
import time
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
FORMATS = ("json", "text")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{record.msecs:03.0f}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)  # cached on the record, as logging does
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def logging_config(level: str, log_format: str = "json") -> dict[str, Any]:
    """A dictConfig for `logging.config.dictConfig` and uvicorn's `log_config`.

    One handler, on the root logger, so that every logger's lines (ours, uvicorn's access and
    error logs, a library's warning) come out in the one format. `level` applies to ours and
    uvicorn's; other libraries speak from WARNING up."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "api.http.request_id.RequestIdFilter"}},
        "formatters": {"json": {"()": "api.observability.logs.JsonFormatter"}, "text": {"format": TEXT_FORMAT}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {"api": {"level": level}, "uvicorn": {"level": level}},
    }
