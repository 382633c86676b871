"""The one place domain errors live. The CLI and UI turn them into messages at the edge."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base class: anything a user can cause and fix. Never shown with a traceback."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]

    def lines(self) -> list[str]:
        """One readable line per problem, each naming the field or file."""
        return list(self.problems)


class ProfileError(AdvisorError):
    """A profile file or value is invalid."""


class ConfigError(AdvisorError):
    """A price book, assumption override or setting is invalid."""


class CorpusError(AdvisorError):
    """A knowledge corpus is malformed."""


class TaskDataError(AdvisorError):
    """A task dataset (task.yaml, train/test JSON lines, update/) is malformed."""


class ModelUnavailableError(AdvisorError):
    """A model could not be found offline."""


class StoreError(AdvisorError):
    """The SQLite store could not be read or written."""


class DecisionError(AdvisorError):
    """A decision or prototype-run file is missing, malformed or not an ftrag file."""


class ReportError(AdvisorError):
    """A report could not be rendered or written; the message names the file."""


class JobCancelled(AdvisorError):
    """A long job (training, indexing) was cancelled by the user."""
