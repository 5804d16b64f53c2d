"""Small helpers over ffmpeg-python's filter graph."""

from __future__ import annotations

from typing import Any

from ffmpeg.nodes import FilterableStream, FilterNode, Node


class _SourceFilter(FilterNode):  # type: ignore[misc]
    """A filter with no inputs (`movie`, `anullsrc`): ffmpeg-python has no such node."""

    def __init__(self, name: str, kwargs: dict[str, Any]) -> None:
        Node.__init__(
            self,
            stream_spec=None,
            name=name,
            incoming_stream_types={FilterableStream},
            outgoing_stream_type=FilterableStream,
            min_inputs=0,
            max_inputs=0,
            args=[],
            kwargs=kwargs,
        )

    # ffmpeg-python merges nodes that look alike; two sources that read the same file must
    # stay two (each output needs its own), so every source is a node of its own.
    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def source_filter(name: str, **kwargs: Any) -> Any:
    """The output stream of a source filter inside the filter graph."""
    return _SourceFilter(name, kwargs).stream()


def image_in_graph(path: str) -> Any:
    """A still image read by the filter graph itself (the `movie` source).

    Given to ffmpeg as an input (`-i mark.png`) instead, the image's end of stream is only
    read when ffmpeg's scheduler gets round to that input; until then every overlay waits
    for it while the other branches run on, and decoded frames pile up in memory — 155 MB
    for each second of a 1080p source. Inside the graph, the overlay reads it on demand.
    """
    return source_filter("movie", filename="file:" + path)


def fan_out(stream: Any, count: int, kind: str = "split") -> list[Any]:
    """`count` copies of a stream (ffmpeg-python needs an explicit split for more than one)."""
    if count == 1:
        return [stream]
    node = stream.filter_multi_output(kind, count)
    # Index explicitly: the node answers any index, so list() would never end.
    return [node[i] for i in range(count)]
