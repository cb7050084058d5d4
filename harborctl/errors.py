"""The one exception hierarchy of harborctl; every class carries its exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INVALID_CONFIG = 3
EXIT_DOCKER_UNAVAILABLE = 4
EXIT_UNHEALTHY = 5
EXIT_CERT_OR_FILESYSTEM = 6
EXIT_BUSY = 7
EXIT_BAD_ARCHIVE = 8
EXIT_RESTORE_REFUSED = 9
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


class HarborctlError(Exception):
    """Base of every error harborctl reports to the operator."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(HarborctlError):
    exit_code = EXIT_USAGE


class ConfigError(HarborctlError):
    """Invalid configuration; ``problems`` holds every problem found, already formatted."""

    exit_code = EXIT_INVALID_CONFIG

    def __init__(self, message: str, problems: tuple[str, ...] = (), hint: str | None = None):
        super().__init__(message, hint)
        self.problems = problems


class DockerUnavailableError(HarborctlError):
    exit_code = EXIT_DOCKER_UNAVAILABLE

    def during(self, doing: str) -> DockerUnavailableError:
        """The same error (exit code, hint), saying which step it interrupted."""
        return DockerUnavailableError(f"{doing}: {self.message}", hint=self.hint)


class EngineHungError(DockerUnavailableError):
    """The engine took a request but did not answer it in time (hung or overloaded)."""

    def during(self, doing: str) -> DockerUnavailableError:
        return EngineHungError(f"{doing}: {self.message}", hint=self.hint)


class UnhealthyError(HarborctlError):
    exit_code = EXIT_UNHEALTHY


class CertificateError(HarborctlError):
    exit_code = EXIT_CERT_OR_FILESYSTEM


class FilesystemError(HarborctlError):
    exit_code = EXIT_CERT_OR_FILESYSTEM


class BusyError(HarborctlError):
    """Another harborctl holds the lock of the same project or certificate folder."""

    exit_code = EXIT_BUSY


class SecretKeyLostError(HarborctlError):
    """The secretkey is missing on a deployment that already stored credentials with it."""

    exit_code = EXIT_CERT_OR_FILESYSTEM


class EngineError(HarborctlError):
    """The Docker engine refused a request; ``status_code`` is its HTTP answer (0 if unknown)."""

    def __init__(self, message: str, status_code: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status_code = status_code


class EngineNotFoundError(EngineError):
    """The container, network, image or exec named does not exist (any more)."""


class EngineConflictError(EngineError):
    """The request conflicts with the engine's state (a name taken, a container running)."""


class ExecFailedError(EngineError):
    """A command run inside a container (pg_dump, psql) exited with another code than 0."""


class ArchiveError(HarborctlError):
    """A backup archive that cannot be trusted: corrupt, truncated, a wrong passphrase, or a
    format newer than this harborctl reads. Nothing was changed."""

    exit_code = EXIT_BAD_ARCHIVE


class RestoreRefusedError(HarborctlError):
    """restore would replace data that is already there (a database, registry storage, a
    running deployment, another harbor.cfg) and --force was not given. Nothing was changed."""

    exit_code = EXIT_RESTORE_REFUSED
