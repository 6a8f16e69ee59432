"""HTTP controllers. Handlers decode, call one use case, and return; errors map in problems.py."""

from typing import Annotated

from litestar.params import PathParameter

IndexPath = Annotated[int, PathParameter(ge=0, le=2**53 - 1)]
"""An entry index, tree size or statement number in a path: at most 2^53 - 1, the largest
integer the log's JSON holds (docs/FORMAT.md section 2), which PostgreSQL's bigint holds
too. (MAX_INT64 was the bound before; OpenAPI writes it as a float, 9.223372036854776e18,
that admits larger integers than the server does.)"""
