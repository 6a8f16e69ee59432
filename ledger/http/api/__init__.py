"""HTTP controllers. Handlers decode, call one use case, and return; errors map in problems.py."""

from typing import Annotated

from litestar.params import PathParameter

from schemas.base import MAX_INDEX

IndexPath = Annotated[int, PathParameter(ge=0, le=MAX_INDEX)]
"""An entry index, tree size or statement number in a path: PostgreSQL's bigint range."""
