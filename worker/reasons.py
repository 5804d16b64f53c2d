"""What a job says about how it ended: a Chinese sentence for contestants, detail for operators.

A job's stored reason is the sentence, then the detail in round brackets: `视频处理失败，…
(ffmpeg: …)`. Contestants read the sentence alone (`contestant_reason`), whatever the detail
holds (an exception's text, ffmpeg's last lines, paths on the worker); the ops page shows both.
In the English UI a refused file's detail is its English sentence (`english_refusal`: the
pipeline writes it for people); any other detail stays on the ops page and in the logs, and
the contestant reads the catalog's English of the sentence instead.
"""

from __future__ import annotations

# Where the detail starts. Our sentences use full-width brackets, never this.
DETAIL_OPENS = " ("
# A stored reason without a sentence (from before these rules, or a slip) still says this.
FALLBACK = "处理未完成，组委会将协助处理"


def job_reason(sentence: str, detail: str = "") -> str:
    """A job's stored reason: the contestant's Chinese sentence, then operators' detail."""
    sentence = sentence.replace(DETAIL_OPENS, "（")
    return f"{sentence}{DETAIL_OPENS}{detail})" if detail else sentence


def contestant_reason(reason: str) -> str:
    """The part of a stored reason a contestant may read: the Chinese sentence alone."""
    sentence = reason.partition(DETAIL_OPENS)[0].strip()
    if not sentence:
        return ""
    return sentence if any("\u4e00" <= char <= "\u9fff" for char in sentence) else FALLBACK


def detail_of(reason: str) -> str:
    """The operators' part of a stored reason (empty when it has none)."""
    _sentence, opens, rest = reason.partition(DETAIL_OPENS)
    return rest.removesuffix(")").strip() if opens else ""


def english_refusal(reason: str) -> str:
    """A refused file's reason for the English UI: the refusal's English sentence, capitalised.

    Only for refusals (a job REJECTED by the pipeline), whose detail is `MediaRefused.reason_en`,
    written for people ("duration 660.0 s exceeds 600 s"); a failure's detail is an error's
    text and is never shown to contestants.
    """
    detail = detail_of(reason).rstrip(".")
    return f"{detail[:1].upper()}{detail[1:]}." if detail else ""


def gave_up(attempts: int) -> str:
    """A job that kept dying (the sweeper and the task both give up with it)."""
    return job_reason(f"处理 {attempts} 次均中断，已停止重试，请联系组委会", "gave up")


def stalled() -> str:
    """A running job whose worker stopped answering, put back in the queue."""
    return job_reason("处理中断（工作进程无响应），已自动重新排队", "requeued")


def requeued_by_operator() -> str:
    return job_reason("已由运维人员重新排队", "requeued by an operator")


def cancelled_by_operator() -> str:
    return job_reason("已由运维人员取消，请联系组委会", "cancelled by an operator")


def retrying(countdown: int, error: Exception) -> str:
    """A passing fault (S3, the database); the task tries again in `countdown` seconds."""
    return job_reason(f"存储暂时不可用，{countdown} 秒后自动重试", f"retrying: {error}")


def unavailable(retries: int, error: Exception) -> str:
    """A passing fault that outlasted every retry."""
    return job_reason(
        f"存储或数据库暂时不可用，已重试 {retries} 次，组委会将协助处理",
        f"storage unavailable: {error}",
    )


def internal(error: Exception) -> str:
    """A bug, not the file: the task's last resort."""
    return job_reason(
        "系统内部错误，组委会将协助处理", f"internal error: {type(error).__name__}: {error}"
    )
