"""Paddle's and PaddleSlim's log lines as compress shows them: none names the temporary directory a model is written in."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

LOGGER_ROOTS = ("paddle", "paddleslim")


@contextlib.contextmanager
def unlogged(path: Path) -> Iterator[None]:
    """Drop the records of Paddle's and PaddleSlim's loggers that name `path` (e.g. "The quantized model is saved in
    .int8.x1y2.partial"): that name is gone once the directory takes its real one, which compress reports itself."""
    loggers = [logger for name, logger in list(logging.Logger.manager.loggerDict.items())
               if name.split(".")[0] in LOGGER_ROOTS and isinstance(logger, logging.Logger)]
    hide = lambda record: str(path) not in record.getMessage()  # noqa: E731
    for logger in loggers:
        logger.addFilter(hide)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(hide)
