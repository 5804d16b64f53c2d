"""The limits a source file must keep, taken from settings."""

from __future__ import annotations

from dataclasses import dataclass

from storage.settings import Settings

# The worker's refusals that the browser can foresee (upload.js checks the chosen file with
# these very sentences, handed to the page by web/submit.py): size in whole MB, durations
# as probe.format_duration_zh writes them.
TOO_LARGE_FILE = "文件大小 {size} MB，超过上限 {limit} MB"
TOO_LONG = "视频时长 {duration}，超过上限 {limit}"


@dataclass(frozen=True)
class MediaLimits:
    max_duration: float = 600.0
    min_duration: float = 0.2
    max_dimension: int = 4096
    probe_timeout: float = 30.0
    timeout_factor: float = 10.0
    max_bytes: int = 4 * 1024**3
    max_fps: float = 240.0
    max_streams: int = 10
    consumer_timeout: float = 7200.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaLimits:
        return cls(
            max_duration=settings.max_duration_seconds,
            min_duration=settings.min_duration_seconds,
            max_dimension=settings.max_dimension,
            probe_timeout=settings.probe_timeout_seconds,
            timeout_factor=settings.transcode_timeout_factor,
            max_bytes=settings.max_upload_bytes,
            max_fps=settings.max_fps,
            max_streams=settings.max_streams,
            consumer_timeout=settings.consumer_timeout_seconds,
        )

    def transcode_timeout(self, duration: float) -> float:
        """How long one ffmpeg run over a source of `duration` seconds may take.

        Proportional to the duration, and always inside the broker's consumer timeout (with
        five minutes for downloading and uploading): past that, RabbitMQ would close the
        channel of a late-acknowledging worker and redeliver the job while it still runs.
        """
        return min(60.0 + self.timeout_factor * duration, self.consumer_timeout - 300.0)
