"""Net Promoter Score arithmetic: 9-10 promoters, 7-8 passives, 0-6 detractors."""

from __future__ import annotations

from dataclasses import dataclass

from app.vocabulary import Category

MIN_SCORE = 0
MAX_SCORE = 10


def category(score: int) -> Category:
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"score must be between {MIN_SCORE} and {MAX_SCORE}, got {score}")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


@dataclass(frozen=True, slots=True)
class NpsFigures:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """% promoters - % detractors, from -100 to 100; None when nobody answered."""
        if self.responses == 0:
            return None
        return round(100.0 * (self.promoters - self.detractors) / self.responses, 1)


def response_rate(responded: int, asked: int) -> float | None:
    """Share of asked invitations that got an answer, as a percentage; None if none asked."""
    if asked == 0:
        return None
    return round(100.0 * responded / asked, 1)
