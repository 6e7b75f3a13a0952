"""Classification restricted to a fixed set of labels (the grammar admits nothing else).

python examples/classify.py [--url URL] [--n-predict N]
"""

from __future__ import annotations

import argparse
import enum

import structgen


class Topic(enum.Enum):
    SPORT = "sport"
    POLITICS = "politics"
    TECHNOLOGY = "technology"
    FOOD = "food"


REVIEWS = [
    "The battery lasts two days and the screen is gorgeous. Love it!",
    "Arrived broken and support never answered. Avoid.",
]
HEADLINES = [
    "Local team wins the championship after a dramatic final",
    "New chip doubles laptop battery life",
    "Ten easy pasta recipes for busy weeknights",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url")
    ap.add_argument("--n-predict", type=int, default=32)
    args = ap.parse_args()
    client = structgen.default_client(args.url)
    for review in REVIEWS:
        label = structgen.classify(review, ["positive", "negative"], client=client, n_predict=args.n_predict)
        print(f"{label:9} {review}")
    for headline in HEADLINES:
        topic = structgen.classify(headline, Topic, client=client, n_predict=args.n_predict)
        print(f"{topic.value:11} {headline}")
    tags = structgen.classify(
        "Pizza night while watching the football match",
        Topic,
        multi=True,
        client=client,
        n_predict=args.n_predict,
    )
    print("several:", [t.value for t in tags])


if __name__ == "__main__":
    main()
