"""Streaming partial objects: watch a typed value fill in while tokens arrive.

python examples/streaming.py [--url URL] [--n-predict N]
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel, Field

import structgen


class Book(BaseModel):
    title: str
    author: str
    year: int
    themes: list[str] = Field(max_length=3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url")
    ap.add_argument("--n-predict", type=int, default=200)
    args = ap.parse_args()
    client = structgen.default_client(args.url)
    messages = [
        {"role": "system", "content": "Reply with JSON: title, author, year, themes."},
        {"role": "user", "content": "Describe the novel Moby-Dick."},
    ]
    try:
        for step in structgen.stream(messages, Book, client=client, n_predict=args.n_predict):
            if step.complete:
                print("\nvalidated:", step.value)
            else:
                print("partial:", step.data)
    except structgen.GenerationError as exc:
        print(f"\nthe finished output did not validate: {exc}")


if __name__ == "__main__":
    main()
