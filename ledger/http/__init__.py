"""Litestar and the raw ASGI fast path: the only package that imports Litestar."""
