"""Judging what the loader did with each variant file, and running a batch of variants."""
from __future__ import annotations

from malformed_variants import ANY, EITHER, VALID, Variant
from subprocess_opener import open_files


def verdict(v: Variant, result: dict) -> str | None:
    """None if the loader did what the variant demands, else what went wrong."""
    status = result.get("status")
    if status == "accepted" and v.rule in (VALID, EITHER):
        return f"accepted, but the oracle disagrees: {result['oracle']}" if result["oracle"] else None
    if v.rule == VALID:
        return f"valid file not accepted: {result}"
    if status != "rejected":
        return f"expected GGUFError({v.rule}), got {status}: {result.get('message', result)}"
    if v.rule in (ANY, EITHER):
        if v.rules and result["rule"] not in v.rules:
            return f"rule {result['rule']!r} not among {sorted(v.rules)}: {result['message']}"
    elif result["rule"] != v.rule:
        return f"expected rule {v.rule!r}, got {result['rule']!r}: {result['message']}"
    if v.offset is not None and result["offset"] != v.offset:
        return f"expected byte {v.offset}, error names byte {result['offset']}: {result['message']}"
    message = result["message"]
    if result["rule"] is None or result["field"] is None or result["offset"] is None \
            or result["rule"] not in message or result["field"] not in message \
            or f"at byte {result['offset']}" not in message:
        return f"message does not name rule, field and offset: {message}"
    return None


def check_variants(tmp_path, variants: list[Variant]) -> list[dict]:
    """Write every variant, open them all in subprocesses, fail listing every wrong outcome."""
    paths = []
    for i, v in enumerate(variants):
        path = tmp_path / f"v{i:05d}.gguf"
        path.write_bytes(v.data)
        paths.append(str(path))
    results = open_files(paths)
    failures = [f"{v.name}: {why}"[:600] for v, r in zip(variants, results) if (why := verdict(v, r))]
    assert not failures, f"{len(failures)} of {len(variants)} variants failed:\n" + "\n".join(failures[:40])
    return results
