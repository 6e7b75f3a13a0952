"""@structgen.fn: a typed function whose docstring is the prompt and whose return type is the output.

python examples/decorator.py [--url URL] [--n-predict N]
"""

from __future__ import annotations

import argparse
from typing import Literal

from pydantic import BaseModel, Field

import structgen


class Recipe(BaseModel):
    name: str
    ingredients: list[str] = Field(max_length=5)
    minutes: int


@structgen.fn
def capital(country: str) -> str:
    """The capital city of {country}."""


@structgen.fn
def sentiment(review: str) -> Literal["positive", "negative", "neutral"]:
    """The sentiment of this product review: {review}"""


@structgen.fn
def recipe(dish: str) -> Recipe:
    """A short recipe for {dish}."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url")
    ap.add_argument("--n-predict", type=int, default=200)
    args = ap.parse_args()
    client = structgen.default_client(args.url)
    options = {"client": client, "n_predict": args.n_predict}
    print("prompt sent for capital('Peru'):", capital.prompt("Peru"))
    calls = [
        ("capital", lambda: capital.with_options(**options)("Peru")),
        ("sentiment", lambda: sentiment.with_options(**options)("Works fine, nothing special.")),
        ("recipe", lambda: recipe.with_options(**options)("pancakes")),
    ]
    for name, call in calls:
        try:
            print(f"{name}:", call())
        except structgen.GenerationError as exc:
            print(f"{name}: no valid answer ({exc})")


if __name__ == "__main__":
    main()
