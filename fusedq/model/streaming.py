"""Turn generated token bytes into text pieces that are safe to show as they arrive.

A piece never ends inside a UTF-8 character (incomplete bytes wait for the next token) and never
shows text that may turn out to be the start of a stop string; when a stop string appears, the
text before it is released and generation is over.
"""
from __future__ import annotations

import codecs
from typing import Iterable


def check_stops(stop: "str | Iterable[str] | None") -> tuple[str, ...]:
    if stop is None:
        return ()
    stops = (stop,) if isinstance(stop, str) else tuple(stop)
    for s in stops:
        if not isinstance(s, str) or not s:
            raise ValueError(f"stop must be a non-empty string or a list of them, got {s!r}")
    return stops


class TextAssembler:
    def __init__(self, stops: tuple[str, ...] = ()):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = stops
        self._held = ""
        self.stopped = False

    def push(self, data: bytes) -> str:
        """Add one token's bytes; return the text that can be released now."""
        if self.stopped:
            return ""
        return self._release(self._held + self._decoder.decode(data))

    def finish(self) -> str:
        """Flush what is held at the end of generation (a dangling partial character becomes U+FFFD)."""
        if self.stopped:
            return ""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        cut = self._first_stop(text)
        if cut is not None:
            self.stopped = True
            return text[:cut]
        return text

    def _first_stop(self, text: str) -> int | None:
        hits = [i for i in (text.find(s) for s in self._stops) if i >= 0]
        return min(hits) if hits else None

    def _release(self, text: str) -> str:
        cut = self._first_stop(text)
        if cut is not None:
            self.stopped = True
            self._held = ""
            return text[:cut]
        hold = 0
        for s in self._stops:  # longest tail of text that is a proper prefix of a stop string
            for k in range(min(len(s) - 1, len(text)), hold, -1):
                if text.endswith(s[:k]):
                    hold = k
                    break
        self._held = text[len(text) - hold:] if hold else ""
        return text[:len(text) - hold]
