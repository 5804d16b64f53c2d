"""The one error a source file gets when the pipeline will not process it."""

from __future__ import annotations

from worker.reasons import job_reason


class MediaRefused(Exception):
    """A file the pipeline will not process, with a reason in Chinese and in English.

    Refusals are final: retrying the same file gives the same answer.
    """

    def __init__(self, code: str, reason_zh: str, reason_en: str) -> None:
        super().__init__(f"{code}: {reason_en}")
        self.code = code
        self.reason_zh = reason_zh
        self.reason_en = reason_en

    @property
    def reason(self) -> str:
        """As stored on the job: the Chinese sentence contestants read, the English detail."""
        return job_reason(self.reason_zh, self.reason_en)
