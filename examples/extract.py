"""Typed extraction from text with a local llama-server (started by structgen when no URL is given).

python examples/extract.py [--url http://127.0.0.1:8080] [--n-predict 256]
"""

from __future__ import annotations

import argparse
from typing import Literal

from pydantic import BaseModel, Field

import structgen


class Contact(BaseModel):
    name: str = Field(description="the person's full name")
    age: int = Field(ge=0, le=130)
    city: str
    role: Literal["engineer", "doctor", "teacher", "artist", "other"]


TEXTS = [
    "Maria Lopez, 34, is a doctor who lives in Madrid.",
    "Our new teacher, John Smith, moved to Boston last year. He is 41.",
    "Kenji Tanaka (28) works as an engineer in Osaka.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="a running llama-server; default: $STRUCTGEN_URL or a local one")
    ap.add_argument("--n-predict", type=int, default=256)
    args = ap.parse_args()
    client = structgen.default_client(args.url)
    for text in TEXTS:
        try:
            result = structgen.generate_result(
                [
                    {
                        "role": "system",
                        "content": "Extract the person as JSON with name, age, city and role.",
                    },
                    {"role": "user", "content": text},
                ],
                Contact,
                client=client,
                n_predict=args.n_predict,
            )
        except structgen.GenerationError as exc:
            print(f"{text}\n  -> no valid answer after {len(exc.attempts)} attempts: {exc}")
            continue
        print(
            f"{text}\n  -> {result.value!r}  ({len(result.attempts)} attempt(s), {result.tokens_predicted} tokens)"
        )


if __name__ == "__main__":
    main()
