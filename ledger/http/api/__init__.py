"""HTTP controllers. Handlers decode, call one use case, and return; errors map in problems.py."""

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from schemas.base import MAX_INDEX

IndexPath = Annotated[int, PathParameter(ge=0, le=MAX_INDEX)]
"""An entry index, tree size or statement number in a path: PostgreSQL's bigint range."""

IndexQuery = Annotated[int, QueryParameter(ge=0, le=MAX_INDEX)]
"""An entry index, tree size or index cursor in a query: PostgreSQL's bigint range."""

CodeCursor = Annotated[str, QueryParameter(pattern=r"^[a-z0-9-]{0,63}$")]
"""Where a page of a list ordered by code starts: the last code of the previous page."""

PageLimit = Annotated[int, QueryParameter(ge=1, le=1000)]
"""How many items a page holds at most."""
